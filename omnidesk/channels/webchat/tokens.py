"""Signed visitor tokens: the browser keeps one so a reload resumes its conversation,
and nobody can forge another visitor's.

A token carries when it was signed and expires after ``max_age_days``; every welcome
hands the browser a freshly signed one, so a visitor who comes back within that time
never notices (silent renewal), and a token copied off a machine stops working once it
is that old. Tokens from before expiry existed (no time in them) are taken once and
renewed.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

SALT = "omnidesk.webchat.visitor"
MAX_TOKEN_CHARS = 512


class VisitorTokens:
    def __init__(self, secret_key: str, *, max_age_days: float = 30.0) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)
        self._legacy = URLSafeSerializer(secret_key, salt=SALT)
        self._max_age = int(max_age_days * 86400)

    def issue(self) -> tuple[str, str]:
        """A new visitor id and its token."""
        visitor = secrets.token_urlsafe(16)
        return visitor, self.sign(visitor)

    def sign(self, visitor: str) -> str:
        return str(self._serializer.dumps({"v": visitor}))

    def verify(self, token: str) -> str | None:
        """The visitor id the token was issued for, or None if it is forged, malformed
        or expired."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            data = self._serializer.loads(token, max_age=self._max_age)
        except SignatureExpired:
            return None
        except BadSignature:
            data = self._untimed(token)
        visitor = data.get("v") if isinstance(data, dict) else None
        return visitor if isinstance(visitor, str) and visitor else None

    def _untimed(self, token: str) -> object:
        # A token signed before tokens carried a time: the same key and salt, one dot.
        if token.count(".") != 1:
            return None
        try:
            return self._legacy.loads(token)
        except BadSignature:
            return None
