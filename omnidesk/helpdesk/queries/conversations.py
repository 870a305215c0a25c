"""Conversations as the console and channels show them: summaries (loaded in batches, a
few queries for a whole list), messages and the history a customer sees again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actions import iso, message_dict
from omnidesk.helpdesk.models import (
    Author,
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationLabel,
    ConversationRead,
    ConversationState,
    Message,
    Team,
    Ticket,
    TicketState,
)

CONVERSATION_STATES = tuple(s.value for s in ConversationState)


async def conversation_summary(
    session: AsyncSession, conversation: Conversation, agent_id: int | None = None
) -> dict[str, Any]:
    """One conversation as lists show it; ``unread`` counts for ``agent_id``."""
    [summary] = await summaries(session, [conversation], agent_id)
    return summary


async def summaries(
    session: AsyncSession, conversations: Sequence[Conversation], agent_id: int | None = None
) -> list[dict[str, Any]]:
    """Summaries of ``conversations`` in their order: contact, ticket (the open one, else
    the latest), last message, labels, team, assignee and unread count."""
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    contacts = await _by_id(session, Contact, {c.contact_id for c in conversations})
    teams = await _by_id(session, Team, {c.team_id for c in conversations if c.team_id})
    tickets = await _tickets(session, ids)
    last = await _last_messages(session, ids)
    labels = await _labels(session, ids)
    unread = await unread_counts(session, agent_id, ids) if agent_id is not None else {}
    return [
        _summary(c, contacts[c.contact_id], teams, tickets, last, labels, unread)
        for c in conversations
    ]


def _summary(
    c: Conversation,
    contact: Contact,
    teams: dict[int, Any],
    tickets: dict[int, Ticket],
    last: dict[int, Message],
    labels: dict[int, list[str]],
    unread: dict[int, int],
) -> dict[str, Any]:
    ticket, message, team = tickets.get(c.id), last.get(c.id), teams.get(c.team_id or 0)
    return {
        "id": c.id,
        "channel": c.channel,
        "state": c.state,
        "subject": c.subject,
        "priority": c.priority,
        "labels": labels.get(c.id, []),
        "team": {"id": team.id, "name": team.name} if team else None,
        "assignee": (
            {"id": c.assignee_id, "name": c.assignee}
            if c.assignee_id is not None or c.assignee
            else None
        ),
        "unread": unread.get(c.id, 0),
        "snoozed_until": iso(c.snoozed_until),
        "waiting_since": iso(c.waiting_since),
        "contact": {"id": contact.id, "name": contact.name, "email": contact.email},
        "ticket": (
            {
                "id": ticket.id,
                "state": ticket.state,
                "priority": ticket.priority,
                "subject": ticket.subject,
                "reason": ticket.reason,
                "first_response_due_at": iso(ticket.first_response_due_at),
                "resolution_due_at": iso(ticket.resolution_due_at),
                # The customer's rating of it, once given (also on the timeline).
                "csat_score": ticket.csat_score,
                "csat_comment": ticket.csat_comment,
                "csat_at": iso(ticket.csat_at),
            }
            if ticket
            else None
        ),
        "last_message": (
            {
                "id": message.id,
                "text": message.text,
                "author": message.author,
                "private": bool(message.private),
                "created_at": iso(message.created_at),
            }
            if message
            else None
        ),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


async def _by_id(session: AsyncSession, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = await session.scalars(select(model).where(model.id.in_(ids)))
    return {row.id: row for row in rows.all()}


async def _tickets(session: AsyncSession, ids: list[int]) -> dict[int, Ticket]:
    """Each conversation's open ticket, else its latest one."""
    rows = await session.scalars(
        select(Ticket).where(Ticket.conversation_id.in_(ids)).order_by(Ticket.id)
    )
    found: dict[int, Ticket] = {}
    for ticket in rows.all():
        held = found.get(ticket.conversation_id)
        is_open = ticket.state in (TicketState.OPEN, TicketState.PENDING)
        if held is None or is_open or held.state not in (TicketState.OPEN, TicketState.PENDING):
            found[ticket.conversation_id] = ticket
    return found


async def _last_messages(session: AsyncSession, ids: list[int]) -> dict[int, Message]:
    newest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
    )
    rows = await session.scalars(select(Message).where(Message.id.in_(newest)))
    return {m.conversation_id: m for m in rows.all()}


async def _labels(session: AsyncSession, ids: list[int]) -> dict[int, list[str]]:
    rows = await session.execute(
        select(ConversationLabel.conversation_id, ConversationLabel.label)
        .where(ConversationLabel.conversation_id.in_(ids))
        .order_by(ConversationLabel.label)
    )
    found: dict[int, list[str]] = {}
    for conversation_id, label in rows.all():
        found.setdefault(conversation_id, []).append(label)
    return found


async def unread_counts(
    session: AsyncSession, agent_id: int | None, ids: Sequence[int]
) -> dict[int, int]:
    """Per conversation, the customer's messages after ``agent_id``'s read marker."""
    if agent_id is None or not ids:
        return {}
    rows = await session.execute(
        select(Message.conversation_id, func.count())
        .select_from(Message)
        .outerjoin(
            ConversationRead,
            and_(
                ConversationRead.conversation_id == Message.conversation_id,
                ConversationRead.agent_id == agent_id,
            ),
        )
        .where(
            Message.conversation_id.in_(list(ids)),
            Message.author == Author.CONTACT,
            Message.id > func.coalesce(ConversationRead.last_read_message_id, 0),
        )
        .group_by(Message.conversation_id)
    )
    return {conversation_id: int(n) for conversation_id, n in rows.all()}


async def list_conversations(
    session: AsyncSession, state: str = "queued", limit: int = 100
) -> list[dict[str, Any]]:
    query = select(Conversation).order_by(Conversation.updated_at.desc()).limit(limit)
    if state != "all":
        query = query.where(Conversation.state == state)
    rows = (await session.scalars(query)).all()
    return await summaries(session, rows)


async def conversation_messages(
    session: AsyncSession,
    conversation_id: int,
    limit: int = 500,
    *,
    include_private: bool = False,
) -> list[dict[str, Any]]:
    """The newest ``limit`` messages of a conversation, oldest first. Internal notes only
    with ``include_private`` (agents' views): by default nothing private is returned."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if not include_private:
        query = query.where(Message.private.is_(False))
    rows = (await session.scalars(query.order_by(Message.id.desc()).limit(limit))).all()
    return [message_dict(m) for m in reversed(rows)]


async def identity_history(
    session: AsyncSession, channel: str, external_id: str, limit: int = 200
) -> list[dict[str, Any]]:
    """What a channel user sees on reconnect: their latest conversation's messages, never
    an internal note."""
    conversation_id = await session.scalar(
        select(Conversation.id)
        .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if conversation_id is None:
        return []
    return await conversation_messages(session, conversation_id, limit, include_private=False)


async def newer_person_reply(
    session: AsyncSession, conversation_id: int, after_id: int, agent_id: int | None, name: str
) -> Message | None:
    """A reply some other person sent to the customer after message ``after_id``: sending
    now would cross it."""
    query = select(Message).where(
        Message.conversation_id == conversation_id,
        Message.id > after_id,
        Message.author == Author.AGENT,
        Message.private.is_(False),
    )
    if agent_id is not None:
        query = query.where(Message.author_id.is_distinct_from(agent_id))
    else:
        query = query.where(Message.author_name.is_distinct_from(name))
    return await session.scalar(query.order_by(Message.id.desc()).limit(1))


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Conversation.state, func.count()).group_by(Conversation.state)
    )
    return {state: n for state, n in rows.all()}
