"""Removing what people wrote from a conversation while keeping that it happened: the
words and files of every message, the subject, the questions its timeline and tickets
quote (which is what the knowledge gaps are read from) and the deliveries queued for it.
Erasing a contact and the retention task share these; deleting a whole conversation, for
retention's "delete" mode, is here too.

What stays is what the reports count: messages (empty, marked ``redacted``), their
authors and times, states, tickets' times and scores, and the timeline's ids, states and
reasons. Files are only named here: the caller removes them after the commit
(``uploads.remove_uploads``), so a rollback never leaves a row pointing at nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import conversation_changed
from omnidesk.helpdesk.actions.messages import emit_message
from omnidesk.helpdesk.models import (
    Author,
    Conversation,
    Message,
    OutboxItem,
    SurveySend,
    Ticket,
    TimelineEvent,
)
from omnidesk.helpdesk.uploads import attachment_names

# Timeline values that are the helpdesk's own words (states, reasons, channels, who did
# it), never a customer's; every other string in an event's data goes at redaction.
SAFE_STRINGS = frozenset(
    {
        "channel",
        "state",
        "reason",
        "priority",
        "priority_before",
        "by",
        "author",
        "skill",
        "platform",
        "assignee",
        "rule",
        "team",
        "targets",
        "added",
        "removed",
        "mentions",
    }
)
# Keys whose whole value is about the person (a merge's snapshot of their attributes).
DROPPED = frozenset({"attributes"})
# What a bot's answer keeps: which articles it cited, for the handoff-articles report.
KEPT_PAYLOAD = ("citations", "confidence")
# An erasure redraws at most this many messages of a conversation live (one bus event
# each); a longer thread shows the change when it is next opened.
MAX_ANNOUNCED = 200


@dataclass
class Redaction:
    """What a redaction touched: counts for the audit entry or the retention run, and
    the stored files to remove once the transaction has committed."""

    conversations: int = 0
    messages: int = 0
    attachments: int = 0
    files: list[str] = field(default_factory=list)

    def add(self, other: Redaction) -> None:
        self.conversations += other.conversations
        self.messages += other.messages
        self.attachments += other.attachments
        self.files.extend(other.files)

    def counts(self) -> dict[str, int]:
        return {
            "conversations": self.conversations,
            "messages": self.messages,
            "attachments": self.attachments,
        }


def scrub(data: Mapping[str, Any]) -> dict[str, Any]:
    """An event's data without a customer's words: numbers, flags, ids, times and the
    helpdesk's own strings stay, other strings go; nested mappings likewise."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in DROPPED:
            continue
        if isinstance(value, Mapping):
            out[key] = scrub(value)
        elif isinstance(value, str):
            if key in SAFE_STRINGS or key.endswith(("_at", "_until")):
                out[key] = value
        elif isinstance(value, list):
            if key in SAFE_STRINGS or not any(isinstance(v, str | Mapping) for v in value):
                out[key] = value
        else:
            out[key] = value
    return out


def scrub_event(event: TimelineEvent) -> None:
    data = scrub(event.data or {})
    if data != event.data:
        data["redacted"] = True
        event.data = data


def _redact_message(message: Message) -> None:
    payload = message.payload or {}
    message.text = ""
    message.payload = (
        {k: payload[k] for k in KEPT_PAYLOAD if k in payload}
        if message.author == Author.BOT
        else {}
    )
    if message.author == Author.CONTACT:
        message.author_name = None
    message.external_id = None
    message.redacted = True


async def redact_conversation(
    session: AsyncSession,
    conversation: Conversation,
    at: dt.datetime | None = None,
    *,
    announce: bool = False,
) -> Redaction:
    """Remove every word and file of ``conversation`` (see the module's docstring). With
    ``announce`` each message's ``message`` event goes out too, so a console showing the
    conversation redraws it at once (an erasure; retention's old threads are not open)."""
    result = Redaction(conversations=1)
    messages = await session.scalars(
        select(Message).where(Message.conversation_id == conversation.id)
    )
    for message in messages:
        names = attachment_names(message.payload)
        result.files.extend(names)
        result.attachments += len(names)
        if not message.redacted:
            result.messages += 1
        _redact_message(message)
        if announce and result.messages <= MAX_ANNOUNCED:
            emit_message(session, conversation, message)
    for ticket in await session.scalars(
        select(Ticket).where(Ticket.conversation_id == conversation.id)
    ):
        ticket.subject = ""
        ticket.csat_comment = None
    for event in await session.scalars(
        select(TimelineEvent).where(TimelineEvent.conversation_id == conversation.id)
    ):
        scrub_event(event)
    await _forget_survey_comments(session, conversation.id)
    # Queued or sent deliveries carry the reply's words (and where it went).
    await session.execute(delete(OutboxItem).where(OutboxItem.conversation_id == conversation.id))
    conversation.subject = None
    conversation.last_question = None
    conversation.thread_key = ""
    conversation.redacted_at = at or utcnow()
    conversation_changed(session, conversation)
    return result


async def delete_conversation(session: AsyncSession, conversation: Conversation) -> Redaction:
    """Remove ``conversation`` with its messages, tickets and timeline (the database's
    cascades take the rest); the counts and files are those of what went."""
    result = Redaction(conversations=1)
    result.messages = int(
        await session.scalar(select(func.count()).where(Message.conversation_id == conversation.id))
        or 0
    )
    payloads = await session.scalars(
        select(Message.payload).where(Message.conversation_id == conversation.id)
    )
    for payload in payloads:
        names = attachment_names(payload)
        result.files.extend(names)
        result.attachments += len(names)
    # Survey sends outlive the conversation (their link is set to null): not their words.
    await _forget_survey_comments(session, conversation.id)
    conversation_changed(session, conversation)
    await session.execute(delete(Conversation).where(Conversation.id == conversation.id))
    return result


async def _forget_survey_comments(session: AsyncSession, conversation_id: int) -> None:
    await session.execute(
        update(SurveySend).where(SurveySend.conversation_id == conversation_id).values(comment=None)
    )
