"""Conversations the bot resolved on its own (deflection), by when they started.

A conversation counts when it was never handed to a person (it has no ticket), the bot
answered in it (a reply citing an article) and nobody said an answer was not helpful:

- **confirmed**: the customer said an answer was helpful;
- **assumed**: otherwise, when the customer wrote nothing within 24 hours of the bot's
  last answer (an answer younger than 24 hours is not counted yet).

It reads the facts ``record_message`` keeps on the conversation (``last_answer_at``,
``answer_followed_at``), not the messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Conversation, Ticket, TimelineEvent
from omnidesk.reports.figures import Rows
from omnidesk.reports.scope import Scope

QUIET = dt.timedelta(hours=24)


def _rated(helpful: bool) -> Any:
    """Conversations where an answer was marked (not) helpful; ``IN`` so PostgreSQL
    hashes the set once instead of probing per conversation."""
    return select(TimelineEvent.conversation_id).where(
        TimelineEvent.kind == "feedback",
        TimelineEvent.conversation_id.isnot(None),
        TimelineEvent.data["helpful"].as_boolean().is_(helpful),
    )


def _more_than_a_day(later: Any, earlier: Any, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return later - earlier > literal_column("interval '24 hours'")  # type: ignore[no-any-return]
    return (func.julianday(later) - func.julianday(earlier)) > 1.0  # type: ignore[no-any-return]


async def add_deflection(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    moment, agent = Conversation.created_at, Conversation.assignee_id
    answered, followed = Conversation.last_answer_at, Conversation.answer_followed_at
    helpful = Conversation.id.in_(_rated(True))
    quiet = and_(
        answered <= scope.now - QUIET,
        or_(followed.is_(None), _more_than_a_day(followed, answered, scope.dialect)),
    )
    stmt = select(
        scope.key(moment, agent),
        func.sum(case((helpful, 1), else_=0)),
        func.sum(case((and_(not_(helpful), quiet), 1), else_=0)),
    ).select_from(Conversation)
    stmt = scope.narrow(stmt, moment, agent).where(
        answered.isnot(None),
        Conversation.id.not_in(select(Ticket.conversation_id)),
        Conversation.id.not_in(_rated(False)),
    )
    stmt = stmt.group_by(literal_column("1"))
    for raw, confirmed, assumed in (await session.execute(stmt)).tuples():
        row = rows[scope.grouping.label(raw)]
        row.confirmed += int(confirmed or 0)
        row.assumed += int(assumed or 0)
