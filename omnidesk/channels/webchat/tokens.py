"""Signed visitor tokens: the browser keeps one so a reload resumes its conversation,
and nobody can forge another visitor's."""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "omnidesk.webchat.visitor"


class VisitorTokens:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=SALT)

    def issue(self) -> tuple[str, str]:
        """A new visitor id and its token."""
        visitor = secrets.token_urlsafe(16)
        return visitor, self.sign(visitor)

    def sign(self, visitor: str) -> str:
        return str(self._serializer.dumps({"v": visitor}))

    def verify(self, token: str) -> str | None:
        """The visitor id the token was issued for, or None if it is forged or malformed."""
        if not isinstance(token, str) or len(token) > 512:
            return None
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            return None
        visitor = data.get("v") if isinstance(data, dict) else None
        return visitor if isinstance(visitor, str) and visitor else None
