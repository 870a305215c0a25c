"""Telegram updates to ``InboundMessage``: pure functions, no I/O.

Dedupe keys. A message's key is ``"<chat_id>:<message_id>"``: Telegram never reuses a
message id within a chat, so a redelivered update (same ``update_id``, same message) gets
the same key and is refused by the inbox, and an edit can name the message it replaces
without a lookup. An edit is a new fact about that message, so its key adds the update
(``"<chat_id>:<message_id>:edit:<update_id>"``): the redelivered edit is refused, a
second edit is not. A button press is keyed by its callback query id (``"cb:<id>"``),
which Telegram makes unique. ``update_id`` alone is not used as the key because Telegram
may restart its numbering after a week without updates; it is kept in ``raw``.

Only private chats are converted (one chat is one customer); groups, channels and
service updates are ignored, each with the reason. What a message says when it is not
typed text (a sticker, a place, a contact...) comes from ``content.describe``.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    Update,
    User,
)

from omnidesk.channels.base import Action, InboundMessage
from omnidesk.channels.telegram.callbacks import CallbackCodec
from omnidesk.channels.telegram.content import describe

NAME = "telegram"
# The update kinds we ask Telegram for (setWebhook and getUpdates).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
START_TEXT = "hello"
# Telegram commands: "/name", optionally "@botname", then free text.
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")
MAX_FILENAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file in a message, still on Telegram's side."""

    file_id: str
    file_unique_id: str
    filename: str
    content_type: str
    size: int | None  # as Telegram declares it; may be missing


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update converted: the message (attachments still to fetch), the files to
    fetch, and the callback query to answer once the message is committed."""

    message: InboundMessage
    files: tuple[FileRef, ...] = ()
    callback_query_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """An update that is not a customer's message to us, and why (a group, a service
    message, a kind of update we do not handle)."""

    reason: str


def message_key(chat_id: int | str, message_id: int | str) -> str:
    """The dedupe key (and stored external id) of one message in one chat."""
    return f"{chat_id}:{message_id}"


def parse_message_key(key: str | None) -> tuple[int, int] | None:
    """``(chat_id, message_id)`` from ``message_key``'s form, or None for other keys."""
    if not key:
        return None
    chat, sep, message = key.partition(":")
    if not sep:
        return None
    try:
        return int(chat), int(message)
    except ValueError:
        return None


def parse_update(update: Update, codec: CallbackCodec, max_file_bytes: int) -> Incoming | Ignored:
    """The update as one ``Incoming``, or ``Ignored`` for an update we do not handle."""
    if update.message is not None:
        return _from_message(update.update_id, update.message, max_file_bytes)
    if update.edited_message is not None:
        return _from_edit(update.update_id, update.edited_message)
    if update.callback_query is not None:
        return _from_callback(update.update_id, update.callback_query, codec)
    kinds = sorted(set(update.to_dict()) - {"update_id"})
    return Ignored(f"{', '.join(kinds) or 'empty'} update: not a customer's message")


NOT_PRIVATE = "not a private chat with the bot"


def _private(chat: Chat) -> bool:
    return chat.type == Chat.PRIVATE


def _sender(user: User | None) -> tuple[str | None, dict[str, Any]]:
    if user is None:
        return None, {}
    extra: dict[str, Any] = {"from_id": user.id}
    if user.username:
        extra["username"] = user.username
    if user.language_code:
        extra["language_code"] = user.language_code
    return user.full_name or None, extra


def _from_message(update_id: int, message: Message, max_file_bytes: int) -> Incoming | Ignored:
    if not _private(message.chat):
        return Ignored(NOT_PRIVATE)
    files = _files(message, max_file_bytes)
    content = describe(message)
    if content is None and not files:
        return Ignored("a message with nothing a customer wrote or sent (a service message)")
    name, user_raw = _sender(message.from_user)
    text = content.text if content is not None else ""
    raw: dict[str, Any] = {
        "update_id": update_id,
        "chat_id": message.chat.id,
        "message_id": message.message_id,
        **user_raw,
        **(content.raw if content is not None else {}),
    }
    action: str | None = None
    command = _COMMAND.match(text) if message.text else None
    if command is not None:
        verb = command.group(1).lower()
        raw["command"] = verb
        if verb == "start":
            # Deciding what to greet with is the router's job: hand it a greeting.
            raw["start_param"] = (command.group(2) or "").strip()
            text = START_TEXT
        elif verb == "human":
            action = Action.HUMAN
    reply_to = None
    if message.reply_to_message is not None:
        reply_to = message_key(message.chat.id, message.reply_to_message.message_id)
    inbound = InboundMessage(
        channel=NAME,
        sender_id=str(message.chat.id),
        dedupe_key=message_key(message.chat.id, message.message_id),
        text=text.strip(),
        action=action,
        sender_name=name,
        received_at=message.date,
        described=content is not None and content.described and not action,
        raw=MappingProxyType(raw),
        reply_to=reply_to,
    )
    return Incoming(inbound, files=files)


def _from_edit(update_id: int, message: Message) -> Incoming | Ignored:
    if not _private(message.chat):
        return Ignored(NOT_PRIVATE)
    if message.location is not None and not (message.text or message.caption):
        # A live location sends an edit each time it moves: not a new fact to record.
        return Ignored("a live location moved")
    content = describe(message)
    name, user_raw = _sender(message.from_user)
    original = message_key(message.chat.id, message.message_id)
    inbound = InboundMessage(
        channel=NAME,
        sender_id=str(message.chat.id),
        dedupe_key=f"{original}:edit:{update_id}",
        text=(content.text if content is not None else "").strip(),
        sender_name=name,
        received_at=message.edit_date or message.date,
        described=content is not None and content.described,
        raw=MappingProxyType(
            {
                "update_id": update_id,
                "chat_id": message.chat.id,
                "message_id": message.message_id,
                "edited": True,
                **user_raw,
            }
        ),
        replaces=original,
    )
    return Incoming(inbound)


def _from_callback(
    update_id: int, query: CallbackQuery, codec: CallbackCodec
) -> Incoming | Ignored:
    if query.data is None:
        return Ignored("a game button: not ours")
    shown: MaybeInaccessibleMessage | None = query.message
    if shown is None and query.inline_message_id is not None:
        # We never send messages in inline mode: a button there belongs to another bot
        # flow, and the chat it was pressed in is not one with us.
        return Ignored("a button on an inline message, not in a chat with the bot")
    if shown is not None and not _private(shown.chat):
        return Ignored(NOT_PRIVATE)
    chat_id = shown.chat.id if shown is not None else query.from_user.id
    payload = codec.decode(query.data)
    label = _button_label(shown, query.data)
    name, user_raw = _sender(query.from_user)
    raw: dict[str, Any] = {
        "update_id": update_id,
        "chat_id": chat_id,
        "callback_query_id": query.id,
        "callback_data": query.data,
        **user_raw,
    }
    if shown is not None:
        raw["message_id"] = shown.message_id
    inbound = InboundMessage(
        channel=NAME,
        sender_id=str(chat_id),
        dedupe_key=f"cb:{query.id}",
        # A hash this process cannot resolve arrives as the label the customer saw.
        text=label or payload or "",
        action=payload,
        sender_name=name,
        raw=MappingProxyType(raw),
        # The message carrying the keyboard: it names the conversation the press belongs to.
        reply_to=message_key(chat_id, shown.message_id) if shown is not None else None,
    )
    return Incoming(inbound, callback_query_id=query.id)


def _button_label(shown: MaybeInaccessibleMessage | None, data: str) -> str | None:
    if not isinstance(shown, Message) or not isinstance(shown.reply_markup, InlineKeyboardMarkup):
        return None
    for row in shown.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _files(message: Message, max_bytes: int) -> tuple[FileRef, ...]:
    """The files of a message; a photo at the largest size that fits ``max_bytes``."""
    refs: list[FileRef] = []
    if message.photo:
        # Telegram sends every size it made, smallest first; an unknown size may fit.
        fitting = [p for p in message.photo if p.file_size is None or p.file_size <= max_bytes]
        best = max(fitting or message.photo, key=lambda p: p.width * p.height)
        refs.append(
            FileRef(
                best.file_id,
                best.file_unique_id,
                f"photo_{message.message_id}.jpg",
                "image/jpeg",
                best.file_size,
            )
        )
    for kind, item in (
        ("document", message.document),
        ("video", message.video),
        ("audio", message.audio),
        ("voice", message.voice),
        ("video_note", message.video_note),
    ):
        if item is None:
            continue
        # A video note has no MIME type of its own: Telegram always makes it MPEG-4.
        content_type = getattr(item, "mime_type", None) or (
            "video/mp4" if kind == "video_note" else "application/octet-stream"
        )
        default = f"{kind}_{message.message_id}{mimetypes.guess_extension(content_type) or ''}"
        filename = safe_filename(getattr(item, "file_name", None)) or default
        refs.append(
            FileRef(item.file_id, item.file_unique_id, filename, content_type, item.file_size)
        )
    return tuple(refs)


def safe_filename(name: str | None) -> str | None:
    """A customer's file name fit for display: no directories, no control characters."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("", base).strip().lstrip(".")
    return base[:MAX_FILENAME_CHARS] or None
