"""Tickets: the open ticket of a conversation, opened on handoff."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actions.base import add_timeline
from omnidesk.helpdesk.models import Conversation, Priority, Ticket, TicketState


async def open_ticket_for(
    session: AsyncSession,
    conversation: Conversation,
    *,
    subject: str,
    reason: str,
    priority: Priority = Priority.NORMAL,
) -> Ticket:
    """The conversation's open ticket, or a new one."""
    ticket = await open_ticket(session, conversation.id)
    if ticket is not None:
        return ticket
    ticket = Ticket(
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        subject=(conversation.subject or subject)[:300] or "Conversation",
        reason=reason,
        priority=priority,
    )
    session.add(ticket)
    await session.flush()
    add_timeline(
        session,
        conversation.contact_id,
        "ticket_opened",
        conversation.id,
        ticket_id=ticket.id,
        reason=reason,
        priority=str(priority),
    )
    return ticket


async def open_ticket(session: AsyncSession, conversation_id: int) -> Ticket | None:
    return await session.scalar(
        select(Ticket)
        .where(
            Ticket.conversation_id == conversation_id,
            Ticket.state.in_([TicketState.OPEN, TicketState.PENDING]),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )
