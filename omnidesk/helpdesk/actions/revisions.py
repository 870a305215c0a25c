"""A customer changed or withdrew a message on their platform (a Slack or Telegram edit, a
Slack deletion): the stored message follows, visibly, with its timeline entry.

An edit keeps every earlier wording in the message's ``revisions`` so the agent can still
read what the customer first wrote (and what the bot may have answered). A deletion is a
redaction, as Chatwoot does for a message the customer unsent: the words and files the
customer took back are removed from the message and its edit history, and what remains
is the fact that a message was deleted, and when. The customer withdrew them; keeping
them for agents would keep what the customer asked us not to have.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import add_timeline, iso
from omnidesk.helpdesk.actions.messages import emit_message
from omnidesk.helpdesk.models import Author, ChannelIdentity, Conversation, Message, TimelineEvent

# How many earlier wordings a message keeps; a bot editing in a loop must not grow a row.
MAX_REVISIONS = 20


async def find_inbound_message(
    session: AsyncSession, channel: str, sender_id: str, external_id: str
) -> Message | None:
    """The customer's own message with this platform id, on this channel: a person can
    only change what they wrote themselves."""
    return await session.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
        .where(
            ChannelIdentity.channel == channel,
            ChannelIdentity.external_id == sender_id,
            Message.external_id == external_id,
            Message.author == Author.CONTACT,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )


async def revise_inbound_message(
    session: AsyncSession,
    channel: str,
    sender_id: str,
    external_id: str,
    *,
    text: str,
    deleted: bool = False,
    attachments: list[dict[str, Any]] | None = None,
    at: dt.datetime | None = None,
) -> Message | None:
    """Apply a customer's edit (or, with ``deleted``, deletion) of their message
    ``external_id``; None when no such message of theirs is stored."""
    message = await find_inbound_message(session, channel, sender_id, external_id)
    if message is None:
        return None
    if deleted:
        return await delete_inbound_message(session, message, at=at)
    return await edit_inbound_message(session, message, text, attachments=attachments, at=at)


async def edit_inbound_message(
    session: AsyncSession,
    message: Message,
    text: str,
    *,
    attachments: list[dict[str, Any]] | None = None,
    at: dt.datetime | None = None,
) -> Message:
    """The customer edited ``message``: it shows the new text (and files, when given), the
    earlier wording is kept in ``revisions``, and the timeline says ``message_edited``."""
    payload = dict(message.payload or {})
    if payload.get("deleted"):
        return message  # an edit that arrives after the deletion changes nothing
    files = payload.get("attachments", []) if attachments is None else attachments
    if text == message.text and files == payload.get("attachments", []):
        return message
    when = iso(at or utcnow())
    revision = {"text": message.text, "at": when}
    payload["revisions"] = [*payload.get("revisions", []), revision][-MAX_REVISIONS:]
    payload.update(edited=True, edited_at=when)
    if files:
        payload["attachments"] = files
    previous = message.text
    message.text = text
    message.payload = payload
    conversation = await session.get_one(Conversation, message.conversation_id)
    add_timeline(
        session,
        conversation.contact_id,
        "message_edited",
        conversation.id,
        message_id=message.id,
        channel=conversation.channel,
        previous=previous[:2000],
    )
    emit_message(session, conversation, message)
    return message


async def delete_inbound_message(
    session: AsyncSession, message: Message, *, at: dt.datetime | None = None
) -> Message:
    """The customer deleted ``message``: its words, files and earlier wordings are
    redacted, and the timeline says ``message_deleted``."""
    payload = dict(message.payload or {})
    if payload.get("deleted"):
        return message
    for key in ("revisions", "attachments", "edited_at"):
        payload.pop(key, None)
    payload.update(deleted=True, deleted_at=iso(at or utcnow()))
    message.text = ""
    message.payload = payload
    conversation = await session.get_one(Conversation, message.conversation_id)
    await _redact_edit_entries(session, conversation, message.id)
    add_timeline(
        session,
        conversation.contact_id,
        "message_deleted",
        conversation.id,
        message_id=message.id,
        channel=conversation.channel,
    )
    emit_message(session, conversation, message)
    return message


async def _redact_edit_entries(
    session: AsyncSession, conversation: Conversation, message_id: int
) -> None:
    """Earlier ``message_edited`` entries quote the old wording; it goes too."""
    entries = await session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.conversation_id == conversation.id,
            TimelineEvent.kind == "message_edited",
        )
    )
    for entry in entries:
        data = dict(entry.data or {})
        if data.get("message_id") == message_id and "previous" in data:
            data.pop("previous")
            data["redacted"] = True
            entry.data = data
