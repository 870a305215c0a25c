"""What every report query shares: the range and filters of the ``ReportQuery`` put on
a statement that joins ``conversations``, and the row key of its ``Grouping``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Conversation, ConversationLabel
from omnidesk.reports.buckets import Grouping
from omnidesk.reports.params import ReportQuery

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True, slots=True)
class Scope:
    """One report's query, grouping, database dialect and clock."""

    query: ReportQuery
    grouping: Grouping
    dialect: str
    now: dt.datetime

    def key(self, moment: Any, agent: Any) -> ColumnElement[Any]:
        """The row key of a figure whose own time is ``moment`` and whose agent (for
        the agent filter and the per-agent rows) is the column ``agent``."""
        dimensions = {
            "team": Conversation.team_id,
            "agent": agent,
            "channel": Conversation.channel,
            "label": ConversationLabel.label,
        }
        return self.grouping.key(moment, dimensions)

    @property
    def needs_conversation(self) -> bool:
        """Whether the filters or the rows read the conversation's team, channel or
        labels (the agent is the figure's own column)."""
        q = self.query
        wanted = (q.team_id, q.channel, q.label)
        return any(v is not None for v in wanted) or self.grouping.by in (
            "team",
            "channel",
            "label",
        )

    def narrow(self, stmt: S, moment: Any, agent: Any, link: Any = None) -> S:
        """``stmt`` limited to the range on ``moment`` and to the filters; joined to the
        labels when rows are per label. A statement on another table gives ``link``,
        the condition that joins its conversation, joined only when needed."""
        q = self.query
        if link is not None and self.needs_conversation:
            stmt = stmt.join(Conversation, link)
        stmt = stmt.where(moment >= q.start, moment < q.end)
        if q.team_id is not None:
            stmt = stmt.where(Conversation.team_id == q.team_id)
        if q.agent_id is not None:
            stmt = stmt.where(agent == q.agent_id)
        if q.channel is not None:
            stmt = stmt.where(Conversation.channel == q.channel)
        if q.label is not None:
            stmt = stmt.where(
                exists(
                    select(ConversationLabel.conversation_id).where(
                        ConversationLabel.conversation_id == Conversation.id,
                        ConversationLabel.label == q.label,
                    )
                )
            )
        if self.grouping.by == "label":
            labelled = ConversationLabel.conversation_id == Conversation.id
            stmt = stmt.join(ConversationLabel, labelled)
        return stmt


async def fetch(session: AsyncSession, stmt: Select[*tuple[Any, ...]]) -> Sequence[Any]:
    """Every row of a report query, through Core: the ORM's result machinery is not
    needed for plain columns and costs a lot over tens of thousands of rows."""
    connection = await session.connection()
    return (await connection.execute(stmt)).all()
