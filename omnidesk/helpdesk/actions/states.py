"""What an agent sets on a conversation by hand: its state (open, pending, snoozed until,
resolved, closed) and its priority."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, iso
from omnidesk.helpdesk.actions.conversations import resolve
from omnidesk.helpdesk.actions.tickets import open_ticket, open_ticket_for
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    Conversation,
    ConversationState,
    Priority,
    Ticket,
    TicketState,
)


class Target(enum.StrEnum):
    """The states an agent may choose; ``open`` means queued, or assigned when someone
    holds the conversation."""

    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    CLOSED = "closed"


async def set_state(
    session: AsyncSession,
    conversation: Conversation,
    target: Target,
    by: Actor,
    *,
    snoozed_until: dt.datetime | None = None,
) -> None:
    """Move the conversation to ``target``; ``snoozed`` needs a future ``snoozed_until``
    (timezone-aware). A closed conversation stays closed: the customer's next message
    starts a new one."""
    if conversation.state == ConversationState.CLOSED:
        raise ActionError("closed", "a closed conversation cannot change state")
    if target == Target.SNOOZED:
        if snoozed_until is None or snoozed_until.tzinfo is None:
            raise ActionError("invalid", "snoozing needs a timezone-aware 'snoozed_until'")
        if snoozed_until <= utcnow():
            raise ActionError("invalid", "'snoozed_until' must be in the future")
    if target == Target.RESOLVED:
        await resolve(session, conversation, by)
        conversation.snoozed_until = None
        return
    before = str(conversation.state)
    ticket = await _ticket(session, conversation, target)
    if target == Target.OPEN:
        held = conversation.assignee_id is not None or conversation.assignee is not None
        conversation.state = ConversationState.ASSIGNED if held else ConversationState.QUEUED
    else:
        conversation.state = ConversationState(target.value)
    conversation.snoozed_until = snoozed_until if target == Target.SNOOZED else None
    now = utcnow()
    conversation.updated_at = now
    if ticket is not None:
        ticket.state = _TICKET_STATE[target]
        if target == Target.CLOSED and ticket.resolved_at is None:
            ticket.resolved_at = now
    add_timeline(
        session,
        conversation.contact_id,
        "state_changed",
        conversation.id,
        before=before,
        after=str(conversation.state),
        snoozed_until=iso(conversation.snoozed_until),
        ticket_id=ticket.id if ticket else None,
        by=by,
    )
    emit(session, "conversation", conversation_id=conversation.id, state=conversation.state)


_TICKET_STATE = {
    Target.OPEN: TicketState.OPEN,
    Target.PENDING: TicketState.PENDING,
    Target.SNOOZED: TicketState.PENDING,
    Target.CLOSED: TicketState.CLOSED,
}


async def _ticket(
    session: AsyncSession, conversation: Conversation, target: Target
) -> Ticket | None:
    """The ticket the change applies to: a person's work always has an open ticket, so
    one is opened when an agent takes a conversation out of the bot's or resolved hands."""
    if target == Target.CLOSED:
        return await open_ticket(session, conversation.id)
    return await open_ticket_for(
        session, conversation, subject="Taken by an agent", reason="agent_took_over"
    )


async def set_priority(
    session: AsyncSession, conversation: Conversation, priority: Priority, by: Actor
) -> None:
    """Set the conversation's priority and its open ticket's."""
    before = str(conversation.priority)
    if before == priority:
        return
    conversation.priority = priority
    conversation.updated_at = utcnow()
    ticket = await open_ticket(session, conversation.id)
    if ticket is not None:
        ticket.priority = priority
    add_timeline(
        session,
        conversation.contact_id,
        "priority_changed",
        conversation.id,
        before=before,
        after=str(priority),
        ticket_id=ticket.id if ticket else None,
        by=by,
    )
    emit(
        session,
        "conversation",
        conversation_id=conversation.id,
        state=conversation.state,
        priority=str(priority),
    )
