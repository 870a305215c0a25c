"""One update's JSON, as the webhook or ``getUpdates`` delivered it, to what the adapter
does with it: an ``Incoming`` message, ``Ignored`` with the reason, or, for an update
python-telegram-bot cannot read, an ``Incoming`` marked ``unreadable`` that the inbox
parks with the reason.

An unreadable update must neither stall polling (the offset would never move past it)
nor be refused to the webhook (Telegram would send it again for ever), and what the
customer wrote must not be lost: the raw JSON is read just far enough to name the
sender and their words, and the whole update is kept with the parked row.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from telegram import Bot, Update

from omnidesk.channels.base import InboundMessage
from omnidesk.channels.telegram.callbacks import CallbackCodec
from omnidesk.channels.telegram.inbound import (
    ALLOWED_UPDATES,
    NAME,
    NOT_PRIVATE,
    Ignored,
    Incoming,
    parse_update,
)

MAX_REASON_CHARS = 300


def convert(
    data: Mapping[str, Any],
    codec: CallbackCodec,
    max_file_bytes: int,
    bot: Bot | None = None,
) -> Incoming | Ignored:
    """What the adapter makes of one update; never raises on what Telegram sent."""
    try:
        # de_json may take nested objects apart: the raw update is kept intact for parking.
        update = Update.de_json(copy.deepcopy(dict(data)), bot)
    except Exception as exc:
        return unreadable(data, f"python-telegram-bot cannot read it: {_describe(exc)}")
    try:
        return parse_update(update, codec, max_file_bytes)
    except Exception as exc:
        return unreadable(data, f"it could not be converted: {_describe(exc)}")


def unreadable(data: Mapping[str, Any], reason: str) -> Incoming | Ignored:
    """The update as a message to park, read from its JSON as far as it goes; an update
    we would ignore anyway (a group, another kind) stays ignored."""
    kind, body = _body(data)
    if kind is not None and kind not in ALLOWED_UPDATES:
        return Ignored(f"{kind} update: not a customer's message")
    if kind == "callback_query" and "message" not in body:
        return Ignored("a button on an inline message, not in a chat with the bot")
    message = _mapping(body.get("message")) if kind == "callback_query" else body
    chat = _mapping(message.get("chat"))
    chat_type = chat.get("type")
    if isinstance(chat_type, str) and chat_type != "private":
        return Ignored(NOT_PRIVATE)
    chat_id = chat.get("id")
    sender = str(chat_id) if isinstance(chat_id, int) and not isinstance(chat_id, bool) else ""
    words = body.get("data") if kind == "callback_query" else None
    words = words or message.get("text") or message.get("caption") or _what(message)
    update_id = data.get("update_id")
    raw: dict[str, Any] = {"update_id": update_id, "update": dict(data)}
    if sender:
        raw["chat_id"] = chat_id
    inbound = InboundMessage(
        channel=NAME,
        sender_id=sender,
        # Telegram sends a redelivery with the same update_id: the inbox refuses it.
        dedupe_key=f"update:{update_id}",
        text=words.strip() if isinstance(words, str) else "",
        sender_name=_name(body.get("from")),
        raw=MappingProxyType(raw),
        unreadable=reason,
    )
    return Incoming(inbound)


def _body(data: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """The update's kind (its one key besides ``update_id``) and that object."""
    for key, value in data.items():
        if key != "update_id":
            return key, _mapping(value)
    return None, {}


# What a message without words holds, named as ``content.describe`` names it.
_KINDS = (
    ("sticker", "Sticker", "emoji"),
    ("venue", "Venue", "title"),
    ("location", "Location", None),
    ("contact", "Contact", "first_name"),
    ("poll", "Poll", "question"),
    ("dice", "Dice", "emoji"),
    ("voice", "Voice message", None),
    ("video_note", "Video message", None),
    ("audio", "Audio", "title"),
    ("animation", "GIF", None),
    ("game", "Game", "title"),
    ("document", "File", "file_name"),
    ("photo", "Photo", None),
    ("video", "Video", None),
)


def _what(message: Mapping[str, Any]) -> str:
    for key, label, detail in _KINDS:
        if key in message:
            value = _mapping(message[key]).get(detail) if detail else None
            if not isinstance(value, str) or not value:
                return f"[{label}]"
            # An emoji goes with its label as in "[Sticker 😀]"; a name after a colon.
            return f"[{label} {value}]" if key in ("sticker", "dice") else f"[{label}: {value}]"
    return ""


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _name(user: object) -> str | None:
    parts = [_mapping(user).get(k) for k in ("first_name", "last_name")]
    return " ".join(p for p in parts if isinstance(p, str) and p) or None


def _describe(exc: Exception) -> str:
    # The library's message names the field it missed, never the customer's words.
    return f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]
