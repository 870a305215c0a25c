"""Button payloads as Telegram ``callback_data``, which the Bot API caps at 64 bytes.

Most payloads fit as they are. Article choices are written compactly (``a:<slug>``) so
they survive any restart or process; only a payload that still does not fit is replaced
by a short hash that this process remembers in a bounded map. A hash another process
made (or one from before a restart) cannot be resolved: the press then arrives as the
button's label in plain text, which the router treats like a typed question.
"""

from __future__ import annotations

import base64
import hashlib
from collections import OrderedDict

from omnidesk.channels.base import Action

MAX_CALLBACK_BYTES = 64
ARTICLE_TAG = "a:"
HASH_TAG = "h:"
DEFAULT_CAPACITY = 4096


def _fits(data: str) -> bool:
    return 0 < len(data.encode()) <= MAX_CALLBACK_BYTES


class CallbackCodec:
    """Turns button payloads into ``callback_data`` and back."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._hashed: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        """``callback_data`` of at most 64 bytes for ``payload``."""
        if payload.startswith(Action.ARTICLE_PREFIX):
            compact = ARTICLE_TAG + payload.removeprefix(Action.ARTICLE_PREFIX)
            if _fits(compact):
                return compact
        elif _fits(payload) and not payload.startswith((ARTICLE_TAG, HASH_TAG)):
            return payload
        digest = hashlib.sha256(payload.encode()).digest()[:15]
        key = HASH_TAG + base64.urlsafe_b64encode(digest).decode()
        self._hashed[key] = payload
        self._hashed.move_to_end(key)
        while len(self._hashed) > self._capacity:
            self._hashed.popitem(last=False)
        return key

    def decode(self, data: str) -> str | None:
        """The payload behind ``data``, or None for a hash this process does not know."""
        if data.startswith(ARTICLE_TAG):
            return Action.ARTICLE_PREFIX + data.removeprefix(ARTICLE_TAG)
        if data.startswith(HASH_TAG):
            payload = self._hashed.get(data)
            if payload is not None:
                self._hashed.move_to_end(data)
            return payload
        return data
