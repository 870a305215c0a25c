"""Slack's request signing (version ``v0``): every HTTP request Slack sends carries an
HMAC-SHA256 of ``v0:{timestamp}:{body}`` under the app's signing secret. It is checked
before anything in the request is believed.
"""

from __future__ import annotations

import hashlib
import hmac

from omnidesk.channels.base import ChannelError

VERSION = "v0"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value Slack computes for ``body`` sent at ``timestamp``."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def check(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float,
    window_seconds: int,
) -> None:
    """Raise ``ChannelError`` unless ``signature`` is Slack's for ``body`` and the
    timestamp is within ``window_seconds`` of ``now``.

    The window is what makes a captured request useless later: without it a valid
    signature could be replayed forever.
    """
    if not timestamp or not signature:
        raise ChannelError("missing Slack signature headers")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise ChannelError("malformed Slack request timestamp") from None
    if abs(now - sent_at) > window_seconds:
        raise ChannelError("stale Slack request timestamp")
    # Constant-time comparison, so the signature cannot be guessed byte by byte.
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise ChannelError("invalid Slack signature")
