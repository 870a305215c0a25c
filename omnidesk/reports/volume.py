"""How much happened: conversations started, messages written (by customers, the bot
and agents; an agent's rows and filter count only that agent's own messages, so the
bot's never count towards an agent) and handoffs to people by reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Author, Conversation, Message, TimelineEvent
from omnidesk.reports.figures import Rows
from omnidesk.reports.scope import Scope

BY_POSITION: tuple[ColumnElement[Any], ...] = (literal_column("1"), literal_column("2"))


async def add_conversations(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    moment, agent = Conversation.created_at, Conversation.assignee_id
    stmt = select(scope.key(moment, agent), func.count()).select_from(Conversation)
    stmt = scope.narrow(stmt, moment, agent).group_by(BY_POSITION[0])
    for raw, n in (await session.execute(stmt)).tuples():
        rows[scope.grouping.label(raw)].conversations += n


async def add_messages(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    moment, agent = Message.created_at, Message.author_id
    stmt = (
        select(scope.key(moment, agent), Message.author, func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.private.is_(False),
            Message.author.in_((Author.CONTACT, Author.BOT, Author.AGENT)),
        )
    )
    stmt = scope.narrow(stmt, moment, agent).group_by(*BY_POSITION)
    for raw, author, n in (await session.execute(stmt)).tuples():
        rows[scope.grouping.label(raw)].messages[str(author)] += n


async def add_handoffs(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    moment, agent = TimelineEvent.created_at, Conversation.assignee_id
    reason = TimelineEvent.data["reason"].as_string()
    stmt = (
        select(scope.key(moment, agent), reason, func.count())
        .select_from(TimelineEvent)
        .join(Conversation, Conversation.id == TimelineEvent.conversation_id)
        .where(TimelineEvent.kind == "escalated")
    )
    stmt = scope.narrow(stmt, moment, agent).group_by(*BY_POSITION)
    for raw, why, n in (await session.execute(stmt)).tuples():
        rows[scope.grouping.label(raw)].handoffs[why or "unknown"] += n
