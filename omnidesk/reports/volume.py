"""How much happened: conversations started (and how many the bot resolved, see
``deflection``), their messages (by customers, the bot and
agents, counted as they were recorded: ``Conversation.*_messages``) and handoffs to
people by reason. An agent's rows and the agent filter count only that agent's own
messages, read from ``messages`` by author, so the bot's never count towards an agent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Author, Conversation, Message, TimelineEvent
from omnidesk.reports.deflection import deflection_columns
from omnidesk.reports.figures import Rows
from omnidesk.reports.scope import Scope, fetch

BY_POSITION: tuple[ColumnElement[Any], ...] = (literal_column("1"), literal_column("2"))


async def add_conversations(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    """Conversations by when they started, with the messages written in them and how
    many the bot resolved (one pass over ``conversations``)."""
    moment, agent = Conversation.created_at, Conversation.assignee_id
    sets, confirmed, assumed = deflection_columns(scope)
    stmt = select(
        scope.key(moment, agent),
        func.count(),
        func.sum(Conversation.contact_messages),
        func.sum(Conversation.bot_messages),
        func.sum(Conversation.agent_messages),
        confirmed,
        assumed,
    ).select_from(Conversation)
    for ids in sets:
        stmt = stmt.outerjoin(ids, ids.c.conversation_id == Conversation.id)
    stmt = scope.narrow(stmt, moment, agent).group_by(BY_POSITION[0])
    per_agent = scope.query.agent_id is not None or scope.grouping.by == "agent"
    for raw, n, contact, bot, agents, sure, likely in await fetch(session, stmt):
        row = rows[scope.grouping.label(raw)]
        row.conversations += n
        row.confirmed += int(sure or 0)
        row.assumed += int(likely or 0)
        if not per_agent:
            row.messages.update(contact=contact or 0, bot=bot or 0, agent=agents or 0)
    if per_agent:
        await _agent_messages(session, scope, rows)


async def _agent_messages(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    """Each agent's own messages, in conversations started in the range."""
    moment, agent = Conversation.created_at, Message.author_id
    stmt = (
        select(scope.key(moment, agent), func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.author == Author.AGENT, Message.private.is_(False))
    )
    stmt = scope.narrow(stmt, moment, agent).group_by(BY_POSITION[0])
    for raw, n in await fetch(session, stmt):
        rows[scope.grouping.label(raw)].messages["agent"] += n


async def add_handoffs(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    moment, agent = TimelineEvent.created_at, Conversation.assignee_id
    reason = TimelineEvent.data["reason"].as_string()
    stmt = (
        select(scope.key(moment, agent), reason, func.count())
        .select_from(TimelineEvent)
        .where(TimelineEvent.kind == "escalated")
    )
    if scope.query.agent_id is not None or scope.grouping.by == "agent":
        stmt = stmt.join(Conversation, Conversation.id == TimelineEvent.conversation_id)
        link = None
    else:
        link = Conversation.id == TimelineEvent.conversation_id
    stmt = scope.narrow(stmt, moment, agent, link).group_by(*BY_POSITION)
    for raw, why, n in await fetch(session, stmt):
        rows[scope.grouping.label(raw)].handoffs[why or "unknown"] += n
