"""Retention: conversations resolved or closed and untouched for the configured number of
days are redacted (words and files gone, the conversation and its counts kept) or
deleted whole, a batch per transaction, and each run is recorded in ``retention_runs``.

It is the system's housekeeping, so it is in no audit entry: the run's row is the
record of what it did. Conversations in other states (the bot's, or a person's) are
never touched, however old: someone may still be waiting on them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.redaction import Redaction, delete_conversation, redact_conversation
from omnidesk.helpdesk.models import (
    Conversation,
    ConversationState,
    InboxItem,
    InboxState,
    RetentionRun,
)

Mode = Literal["redact", "delete"]
CLOSED = (ConversationState.RESOLVED, ConversationState.CLOSED)


def start_retention_run(session: AsyncSession, mode: Mode, days: int) -> RetentionRun:
    run = RetentionRun(mode=mode, days=days, conversations=0, messages=0, attachments=0)
    session.add(run)
    return run


async def finish_retention_run(session: AsyncSession, run_id: int, done: Redaction) -> RetentionRun:
    run = await session.get_one(RetentionRun, run_id)
    run.conversations = done.conversations
    run.messages = done.messages
    run.attachments = done.attachments
    run.finished_at = utcnow()
    return run


async def retain_batch(
    session: AsyncSession, mode: Mode, cutoff: dt.datetime, limit: int
) -> Redaction:
    """Redact or delete up to ``limit`` conversations closed before ``cutoff``, oldest
    first; fewer than ``limit`` conversations in the result means none are left."""
    query = select(Conversation).where(
        Conversation.state.in_(CLOSED), Conversation.updated_at < cutoff
    )
    if mode == "redact":
        query = query.where(Conversation.redacted_at.is_(None))
    conversations = (
        await session.scalars(query.order_by(Conversation.updated_at, Conversation.id).limit(limit))
    ).all()
    done = Redaction()
    now = utcnow()
    for conversation in conversations:
        if mode == "delete":
            done.add(await delete_conversation(session, conversation))
        else:
            done.add(await redact_conversation(session, conversation, now))
    return done


async def purge_inbox(session: AsyncSession, cutoff: dt.datetime) -> None:
    """Inbound rows handled (or parked) before ``cutoff``: their message is stored, or
    was given up on, and the raw payload they keep would outlive the retention rule."""
    await session.execute(
        delete(InboxItem).where(
            InboxItem.state.in_((InboxState.DONE, InboxState.FAILED)),
            InboxItem.received_at < cutoff,
        )
    )
