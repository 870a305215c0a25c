"""Conversations the bot resolved on its own (deflection), by when they started.

A conversation counts when it was never handed to a person (it has no ticket), the bot
answered in it (a reply citing an article) and nobody said an answer was not helpful:

- **confirmed**: the customer said an answer was helpful;
- **assumed**: otherwise, when the customer wrote nothing within 24 hours of the bot's
  last answer (an answer younger than 24 hours is not counted yet).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Exists, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Author, Conversation, Message, Ticket, TimelineEvent
from omnidesk.reports.buckets import has_key
from omnidesk.reports.figures import Rows
from omnidesk.reports.scope import Scope

QUIET = dt.timedelta(hours=24)


def _feedback(helpful: bool) -> Exists:
    return exists(
        select(TimelineEvent.id).where(
            TimelineEvent.conversation_id == Conversation.id,
            TimelineEvent.kind == "feedback",
            TimelineEvent.data["helpful"].as_boolean().is_(helpful),
        )
    )


async def add_deflection(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    moment, agent = Conversation.created_at, Conversation.assignee_id
    last_answer = (
        select(func.max(Message.created_at))
        .where(
            Message.conversation_id == Conversation.id,
            Message.author == Author.BOT,
            has_key(Message.payload, "citations", scope.dialect),
        )
        .scalar_subquery()
    )
    inner = select(
        Conversation.id.label("cid"),
        scope.key(moment, agent).label("key"),
        last_answer.label("last_answer"),
        _feedback(True).label("helpful"),
    ).select_from(Conversation)
    inner = scope.narrow(inner, moment, agent).where(
        ~exists(select(Ticket.id).where(Ticket.conversation_id == Conversation.id)),
        ~_feedback(False),
    )
    sub = inner.subquery()
    next_message = (
        select(func.min(Message.created_at))
        .where(
            and_(
                Message.conversation_id == sub.c.cid,
                Message.author == Author.CONTACT,
                Message.created_at > sub.c.last_answer,
            )
        )
        .scalar_subquery()
    )
    stmt = select(sub.c.key, sub.c.helpful, sub.c.last_answer, next_message).where(
        sub.c.last_answer.isnot(None)
    )
    for raw, helpful, answered, followed in (await session.execute(stmt)).tuples():
        row = rows[scope.grouping.label(raw)]
        if helpful:
            row.confirmed += 1
        elif _quiet_after(answered, followed, scope.now):
            row.assumed += 1


def _quiet_after(answered: dt.datetime, followed: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the customer wrote nothing within 24 hours of the answer."""
    if followed is None:
        return answered <= now - QUIET
    return followed - answered > QUIET
