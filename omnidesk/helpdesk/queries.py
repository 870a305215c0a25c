"""Read-side helpers: conversation lists and histories as the console and channels show them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actions import iso, message_dict, open_ticket
from omnidesk.helpdesk.models import (
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationState,
    Message,
    Ticket,
    TimelineEvent,
)

CONVERSATION_STATES = tuple(s.value for s in ConversationState)


async def conversation_summary(session: AsyncSession, conversation: Conversation) -> dict[str, Any]:
    contact = await session.get_one(Contact, conversation.contact_id)
    ticket = await open_ticket(session, conversation.id)
    if ticket is None:
        ticket = await session.scalar(
            select(Ticket)
            .where(Ticket.conversation_id == conversation.id)
            .order_by(Ticket.id.desc())
            .limit(1)
        )
    last = await session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "state": conversation.state,
        "assignee": conversation.assignee,
        "contact": {"id": contact.id, "name": contact.name, "email": contact.email},
        "ticket": (
            {
                "id": ticket.id,
                "state": ticket.state,
                "priority": ticket.priority,
                "subject": ticket.subject,
                "reason": ticket.reason,
            }
            if ticket
            else None
        ),
        "last_message": (
            {"text": last.text, "author": last.author, "created_at": iso(last.created_at)}
            if last
            else None
        ),
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
    }


async def list_conversations(
    session: AsyncSession, state: str = "queued", limit: int = 100
) -> list[dict[str, Any]]:
    query = select(Conversation).order_by(Conversation.updated_at.desc()).limit(limit)
    if state != "all":
        query = query.where(Conversation.state == state)
    rows = (await session.scalars(query)).all()
    return [await conversation_summary(session, c) for c in rows]


async def conversation_messages(
    session: AsyncSession, conversation_id: int, limit: int = 500
) -> list[dict[str, Any]]:
    """The newest ``limit`` messages of a conversation, oldest first."""
    rows = (
        await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
    ).all()
    return [message_dict(m) for m in reversed(rows)]


async def identity_history(
    session: AsyncSession, channel: str, external_id: str, limit: int = 200
) -> list[dict[str, Any]]:
    """What a channel user sees on reconnect: their latest conversation's messages."""
    conversation_id = await session.scalar(
        select(Conversation.id)
        .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if conversation_id is None:
        return []
    return await conversation_messages(session, conversation_id, limit)


async def contact_timeline(session: AsyncSession, contact_id: int) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.contact_id == contact_id)
            .order_by(TimelineEvent.created_at, TimelineEvent.id)
        )
    ).all()
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "conversation_id": e.conversation_id,
            "data": e.data,
            "created_at": iso(e.created_at),
        }
        for e in rows
    ]


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Conversation.state, func.count()).group_by(Conversation.state)
    )
    return {state: n for state, n in rows.all()}
