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

from sqlalchemy import ColumnElement, Subquery, and_, case, func, literal_column, not_, or_, select

from omnidesk.helpdesk import Conversation, Ticket, TimelineEvent
from omnidesk.reports.scope import Scope

QUIET = dt.timedelta(hours=24)


def _rated(helpful: bool) -> Any:
    """Conversations where an answer was marked (not) helpful."""
    return select(TimelineEvent.conversation_id).where(
        TimelineEvent.kind == "feedback",
        TimelineEvent.conversation_id.isnot(None),
        TimelineEvent.data["helpful"].as_boolean().is_(helpful),
    )


def _more_than_a_day(later: Any, earlier: Any, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return later - earlier > literal_column("interval '24 hours'")  # type: ignore[no-any-return]
    return (func.julianday(later) - func.julianday(earlier)) > 1.0  # type: ignore[no-any-return]


def deflection_columns(scope: Scope) -> tuple[list[Subquery], Any, Any]:
    """Sets of conversation ids to outer-join on ``Conversation.id`` (praised, handed
    over, panned), and the sums of confirmed and assumed deflections over the
    conversations a query reads, in the same pass over ``conversations`` as the volumes.
    Joins, so each set is read once rather than asked per conversation."""
    answered, followed = Conversation.last_answer_at, Conversation.answer_followed_at
    praised = _rated(True).distinct().subquery()
    ticketed = select(Ticket.conversation_id).distinct().subquery()
    panned = _rated(False).distinct().subquery()
    helpful = praised.c.conversation_id.isnot(None)
    bot_resolved = and_(
        answered.isnot(None),
        ticketed.c.conversation_id.is_(None),
        panned.c.conversation_id.is_(None),
    )
    quiet = and_(
        answered <= scope.now - QUIET,
        or_(followed.is_(None), _more_than_a_day(followed, answered, scope.dialect)),
    )
    confirmed = func.sum(case((and_(bot_resolved, helpful), 1), else_=0))
    assumed = func.sum(case((and_(bot_resolved, not_(helpful), quiet), 1), else_=0))
    return [praised, ticketed, panned], confirmed, assumed
