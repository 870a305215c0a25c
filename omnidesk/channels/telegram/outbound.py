"""``OutboundMessage`` to ``sendMessage`` arguments, and Bot API errors to a
``DeliveryReceipt``: pure functions, no I/O.

Messages go out as plain text (no parse mode, so nothing a customer or an article wrote
can break the markup). Citations become "Source: title <url>" lines; buttons become an
inline keyboard whose ``callback_data`` comes back as ``InboundMessage.action``.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from omnidesk.channels.base import Button, DeliveryReceipt, OutboundMessage
from omnidesk.channels.telegram.callbacks import CallbackCodec
from omnidesk.channels.telegram.inbound import parse_message_key

MAX_TEXT_CHARS = 4096
# Short buttons (feedback) share a row; long ones (article titles) get one each.
ROW_LABEL_CHARS = 20
ROW_BUTTONS = 3
# A scale of tiny labels (a 1-5 rating) reads best on one row.
SCALE_LABEL_CHARS = 3
SCALE_BUTTONS = 8


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What one ``OutboundMessage`` becomes: one or more ``sendMessage`` calls."""

    chat_id: int
    chunks: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None = None
    reply_to_message_id: int | None = None

    @property
    def reply_parameters(self) -> ReplyParameters | None:
        if self.reply_to_message_id is None:
            return None
        # The quoted message may be gone; the reply must still go out.
        return ReplyParameters(self.reply_to_message_id, allow_sending_without_reply=True)


def render(message: OutboundMessage, codec: CallbackCodec) -> Outgoing:
    """The Telegram form of ``message``; ValueError when the recipient is not a chat id."""
    try:
        chat_id = int(message.recipient_id)
    except ValueError:
        raise ValueError(f"not a Telegram chat id: {message.recipient_id!r}") from None
    text = message.text
    if message.author == "agent" and message.author_name:
        # Every message comes from the bot account; say which person is writing.
        text = f"{message.author_name}: {text}"
    parts = [text]
    if message.citations:
        parts.append("\n".join(f"Source: {c.title} <{c.url}>" for c in message.citations))
    body = "\n\n".join(p for p in parts if p.strip()) or message.as_plain_text() or "…"
    reply_to = None
    if message.author == "agent":
        # A person's reply may come hours later: quote what it answers. The bot answers
        # at once, where a quote would only add noise.
        key = parse_message_key(message.reply_to_external_id)
        if key is not None and key[0] == chat_id:
            reply_to = key[1]
    return Outgoing(
        chat_id=chat_id,
        chunks=tuple(split_text(body)),
        keyboard=keyboard(message.buttons, codec),
        reply_to_message_id=reply_to,
    )


def keyboard(buttons: tuple[Button, ...], codec: CallbackCodec) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    keys = [InlineKeyboardButton(b.label, callback_data=codec.encode(b.payload)) for b in buttons]
    if len(keys) <= ROW_BUTTONS and all(len(b.label) <= ROW_LABEL_CHARS for b in buttons):
        return InlineKeyboardMarkup([keys])
    if len(keys) <= SCALE_BUTTONS and all(len(b.label) <= SCALE_LABEL_CHARS for b in buttons):
        return InlineKeyboardMarkup([keys])
    return InlineKeyboardMarkup([[key] for key in keys])


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """``text`` in pieces Telegram accepts, cut at paragraph, line or word ends."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut <= limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def receipt_for(exc: TelegramError) -> DeliveryReceipt:
    """What a failed Bot API call means for the outbox."""
    error = f"{type(exc).__name__}: {exc.message}"
    if isinstance(exc, RetryAfter):
        return DeliveryReceipt(ok=False, error=error, retry_after=retry_after_seconds(exc))
    # Blocked by the user, chat gone, a request Telegram will never accept: retrying the
    # same call cannot succeed. BadRequest is a NetworkError in PTB, so it is tested first.
    if isinstance(exc, Forbidden | BadRequest | ChatMigrated):
        return DeliveryReceipt(ok=False, error=error, permanent=True)
    # NetworkError (timeouts, 5xx), Conflict, InvalidToken and the rest: retried.
    return DeliveryReceipt(ok=False, error=error)


def retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22 returns int or timedelta depending on PTB_TIMEDELTA and warns about the
    # int form; accept both without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)
