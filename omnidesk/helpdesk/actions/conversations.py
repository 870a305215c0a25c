"""A conversation's life: found or started, handed to people, assigned, resolved, reopened."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, conversation_changed, iso
from omnidesk.helpdesk.actions.tickets import open_ticket, open_ticket_for
from omnidesk.helpdesk.actions.webhooks import conversation_data, queue_webhook_event
from omnidesk.helpdesk.actor import SYSTEM, Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    ChannelIdentity,
    Conversation,
    ConversationState,
    Message,
    Priority,
    Ticket,
    TicketState,
)

# The ticket reason when an agent takes a conversation nobody handed over.
TAKEN_OVER = "agent_took_over"
PRIORITY_RANK: dict[str, int] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}


async def current_conversation(
    session: AsyncSession,
    identity: ChannelIdentity,
    thread_key: str = "",
    *,
    subject: str | None = None,
    ticket_ref: int | None = None,
    reply_to: str | None = None,
) -> Conversation:
    """The identity's open conversation on this thread, or a new one.

    When no open conversation has this thread key, ``reply_to`` (the platform id of the
    message being answered) and then ``ticket_ref`` (a ticket number the customer
    quoted) pick an existing conversation of the same contact on the same channel.
    """
    by_thread = await session.scalar(
        select(Conversation)
        .where(
            Conversation.identity_id == identity.id,
            Conversation.thread_key == thread_key,
            Conversation.state != ConversationState.CLOSED,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if by_thread is not None:
        return by_thread
    linked = None
    if reply_to:
        linked = await _open_conversation_of(
            session,
            identity,
            select(Message.conversation_id).where(Message.external_id == reply_to),
        )
    if linked is None and ticket_ref is not None:
        linked = await _open_conversation_of(
            session, identity, select(Ticket.conversation_id).where(Ticket.id == ticket_ref)
        )
    if linked is not None:
        return linked
    conversation = Conversation(
        contact_id=identity.contact_id,
        identity_id=identity.id,
        channel=identity.channel,
        thread_key=thread_key,
        subject=subject[:300] if subject else None,
        state=ConversationState.BOT,
    )
    session.add(conversation)
    await session.flush()
    add_timeline(
        session,
        identity.contact_id,
        "conversation_started",
        conversation.id,
        channel=identity.channel,
    )
    await queue_webhook_event(
        session, "conversation.created", {"conversation": conversation_data(conversation)}
    )
    return conversation


async def _open_conversation_of(
    session: AsyncSession, identity: ChannelIdentity, candidates: Select[Any]
) -> Conversation | None:
    """The open conversation among ``candidates`` (conversation ids) that belongs to the
    identity's contact on its channel: a customer can only join their own threads."""
    return await session.scalar(
        select(Conversation)
        .where(
            Conversation.id.in_(candidates),
            Conversation.contact_id == identity.contact_id,
            Conversation.channel == identity.channel,
            Conversation.state != ConversationState.CLOSED,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )


async def escalate(
    session: AsyncSession,
    conversation: Conversation,
    *,
    reason: str,
    subject: str,
    priority: Priority | None = None,
    team_id: int | None = None,
    rule_id: int | None = None,
) -> Ticket:
    """Hand the conversation to humans: queue it (for ``team_id`` when given) and open
    its ticket. ``reason`` is kept on the ticket, the ``escalated`` timeline event and
    the conversation's event; ``priority`` only ever raises the ticket's."""
    ticket = await open_ticket_for(
        session, conversation, subject=subject, reason=reason, priority=priority or Priority.NORMAL
    )
    if not ticket.reason or ticket.reason == TAKEN_OVER:
        # An agent took the conversation before anyone said why; now we know.
        ticket.reason = reason
    if priority is not None and PRIORITY_RANK[priority] > PRIORITY_RANK.get(ticket.priority, 0):
        ticket.priority = priority
    conversation.priority = ticket.priority
    if team_id is not None:
        conversation.team_id = ticket.team_id = team_id
    handed_off = conversation.state not in (ConversationState.QUEUED, ConversationState.ASSIGNED)
    if handed_off:
        conversation.state = ConversationState.QUEUED
        add_timeline(
            session,
            conversation.contact_id,
            "escalated",
            conversation.id,
            reason=reason,
            ticket_id=ticket.id,
            priority=ticket.priority,
            team_id=conversation.team_id,
            rule_id=rule_id,
        )
    conversation.low_confidence_streak = 0
    conversation.updated_at = utcnow()
    conversation.waiting_since = conversation.waiting_since or conversation.updated_at
    emit(
        session,
        "conversation",
        conversation_id=conversation.id,
        state=conversation.state,
        reason=reason,
        priority=conversation.priority,
        team_id=conversation.team_id,
    )
    if handed_off:
        await queue_webhook_event(
            session,
            "conversation.handed_off",
            {
                "conversation": conversation_data(conversation),
                "ticket_id": ticket.id,
                "reason": reason,
                "rule_id": rule_id,
            },
        )
    return ticket


async def assign(
    session: AsyncSession,
    conversation: Conversation,
    agent: Actor | None,
    *,
    team_id: int | None = None,
    by: Actor | None = None,
) -> None:
    """Give the conversation to ``agent`` (and, when given, ``team_id``'s queue); with no
    agent it goes back to the queue, unassigned. ``by`` did it (the agent by default)."""
    if conversation.state == ConversationState.CLOSED:
        raise ActionError("closed", "a closed conversation cannot be assigned")
    ticket = await open_ticket_for(
        session, conversation, subject="Taken by an agent", reason=TAKEN_OVER
    )
    now = utcnow()
    if team_id is not None:
        conversation.team_id = ticket.team_id = team_id
    ticket.assignee = conversation.assignee = agent.name if agent else None
    ticket.assignee_id = conversation.assignee_id = agent.agent_id if agent else None
    conversation.assigned_at = now if agent else None
    if agent is not None:
        conversation.state = ConversationState.ASSIGNED
    elif conversation.state == ConversationState.ASSIGNED:
        conversation.state = ConversationState.QUEUED
    conversation.updated_at = now
    actor = by or agent or SYSTEM
    add_timeline(
        session,
        conversation.contact_id,
        "assigned" if agent else "unassigned",
        conversation.id,
        agent=agent.name if agent else None,
        agent_id=agent.agent_id if agent else None,
        team_id=conversation.team_id,
        ticket_id=ticket.id,
        by=actor,
    )
    conversation_changed(session, conversation)
    # Unassigning is an assignment too (to nobody): an integrator mirroring who owns
    # the conversation must hear of it.
    await queue_webhook_event(
        session,
        "conversation.assigned",
        {
            "conversation": conversation_data(conversation),
            "ticket_id": ticket.id,
            "by_id": actor.agent_id,
        },
    )


async def resolve(
    session: AsyncSession, conversation: Conversation, by: Actor, *, notify: bool = True
) -> None:
    """Resolve the conversation and its ticket; with ``notify`` the customer is told on
    their channel and asked to rate the help they got."""
    # Imported here: the rating question is a reply, and replies import this module.
    from omnidesk.helpdesk.actions.csat import ask_for_rating

    if conversation.state in (ConversationState.RESOLVED, ConversationState.CLOSED):
        return
    now = utcnow()
    ticket = await open_ticket(session, conversation.id)
    if ticket is not None:
        ticket.state = TicketState.RESOLVED
        ticket.resolved_at = now
    conversation.state = ConversationState.RESOLVED
    conversation.updated_at = now
    add_timeline(
        session,
        conversation.contact_id,
        "resolved",
        conversation.id,
        ticket_id=ticket.id if ticket else None,
        by=by,
    )
    emit(session, "conversation", conversation_id=conversation.id, state=conversation.state)
    await queue_webhook_event(
        session,
        "conversation.resolved",
        {
            "conversation": conversation_data(conversation),
            "ticket_id": ticket.id if ticket else None,
            "resolved_at": iso(now),
            "by_id": by.agent_id,
        },
    )
    if notify:
        await ask_for_rating(session, conversation, ticket)


async def reopen(session: AsyncSession, conversation: Conversation) -> None:
    """A customer wrote after resolution, past the reopen window: the bot takes the
    conversation again, and a later handoff opens a new ticket."""
    conversation.state = ConversationState.BOT
    conversation.assignee = None
    conversation.assignee_id = None
    conversation.low_confidence_streak = 0
    conversation.updated_at = utcnow()
    add_timeline(session, conversation.contact_id, "reopened", conversation.id)
    emit(session, "conversation", conversation_id=conversation.id, state=conversation.state)


async def reopen_ticket(session: AsyncSession, conversation: Conversation, ticket: Ticket) -> None:
    """A customer wrote soon after resolution: the same ticket opens again and the
    conversation goes back to the person who had it (or their queue), not to the bot."""
    now = utcnow()
    ticket.state = TicketState.OPEN
    ticket.reopened_at = now
    ticket.reopen_count = (ticket.reopen_count or 0) + 1
    ticket.resolved_at = None
    has_person = conversation.assignee_id is not None or conversation.assignee is not None
    conversation.state = ConversationState.ASSIGNED if has_person else ConversationState.QUEUED
    conversation.waiting_since = now
    conversation.low_confidence_streak = 0
    conversation.updated_at = now
    add_timeline(
        session,
        conversation.contact_id,
        "reopened",
        conversation.id,
        ticket_id=ticket.id,
        reopen_count=ticket.reopen_count,
        assignee=conversation.assignee,
        assignee_id=conversation.assignee_id,
        team_id=conversation.team_id,
    )
    conversation_changed(session, conversation)
