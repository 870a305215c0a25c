"""SLA clocks and automatic routing: due times set, breaches marked with the priority
raised, conversations given to an agent by the router's choice, taken back when left
unanswered, and woken from a snooze. ``escalation/`` decides; these write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import add_timeline, conversation_changed, iso
from omnidesk.helpdesk.actions.conversations import assign
from omnidesk.helpdesk.actions.notifications import notify
from omnidesk.helpdesk.actor import SYSTEM, Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    Agent,
    Conversation,
    ConversationState,
    Team,
    Ticket,
)

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"


def agent_actor(agent: Agent) -> Actor:
    """The actor for an agent account."""
    return Actor.of(agent)


def set_sla_due(
    session: AsyncSession,
    ticket: Ticket,
    *,
    first_response_due_at: dt.datetime,
    resolution_due_at: dt.datetime,
    calendar: str,
) -> None:
    """Start (or restart) the ticket's SLA clocks at the given due times."""
    ticket.first_response_due_at = first_response_due_at
    ticket.resolution_due_at = resolution_due_at
    add_timeline(
        session,
        ticket.contact_id,
        "sla_started",
        ticket.conversation_id,
        ticket_id=ticket.id,
        priority=str(ticket.priority),
        first_response_due_at=iso(first_response_due_at),
        resolution_due_at=iso(resolution_due_at),
        calendar=calendar,
    )


async def sla_breached(
    session: AsyncSession,
    ticket: Ticket,
    conversation: Conversation,
    kinds: Sequence[str],
    *,
    priority: str,
    notify_ids: Iterable[int],
    at: dt.datetime | None = None,
) -> None:
    """Mark the ticket's breached targets, raise its priority to ``priority`` and tell
    ``notify_ids``. Targets already marked stay as they were."""
    at = at or utcnow()
    if FIRST_RESPONSE in kinds and ticket.first_response_breached_at is None:
        ticket.first_response_breached_at = at
    if RESOLUTION in kinds and ticket.resolution_breached_at is None:
        ticket.resolution_breached_at = at
    before = str(ticket.priority)
    ticket.priority = conversation.priority = priority
    conversation.updated_at = at
    add_timeline(
        session,
        conversation.contact_id,
        "sla_breached",
        conversation.id,
        ticket_id=ticket.id,
        targets=list(kinds),
        priority_before=before,
        priority=priority,
        by=SYSTEM,
    )
    for agent_id in sorted(set(notify_ids)):
        await notify(
            session,
            agent_id,
            "sla_breached",
            conversation.id,
            ticket_id=ticket.id,
            targets=list(kinds),
            priority=priority,
        )
    emit(
        session,
        "conversation",
        conversation_id=conversation.id,
        state=conversation.state,
        priority=priority,
    )


async def auto_assigned(
    session: AsyncSession, conversation: Conversation, agent: Agent, team: Team | None
) -> Actor:
    """Give the conversation to the agent automatic assignment chose, move the team's
    round-robin cursor, and notify the agent."""
    actor = agent_actor(agent)
    await assign(session, conversation, actor, by=SYSTEM)
    if team is not None:
        team.last_assigned_agent_id = agent.id
    await notify(
        session,
        agent.id,
        "assigned",
        conversation.id,
        team_id=conversation.team_id,
        automatic=True,
    )
    return actor


async def requeue_unanswered(
    session: AsyncSession, conversation: Conversation, *, waited_minutes: float
) -> None:
    """The assignee left the customer waiting too long: back to the queue."""
    previous = conversation.assignee_id
    add_timeline(
        session,
        conversation.contact_id,
        "reassign_timeout",
        conversation.id,
        agent=conversation.assignee,
        agent_id=previous,
        waited_minutes=round(waited_minutes, 1),
        by=SYSTEM,
    )
    await assign(session, conversation, None, by=SYSTEM)
    if previous is not None:
        await notify(
            session,
            previous,
            "unassigned",
            conversation.id,
            reason="unanswered",
            waited_minutes=round(waited_minutes, 1),
        )


async def end_snooze(session: AsyncSession, conversation: Conversation) -> None:
    """A snooze ran out: the conversation is its assignee's again, or the queue's."""
    if conversation.state != ConversationState.SNOOZED:
        return
    owned = conversation.assignee_id is not None or conversation.assignee is not None
    conversation.state = ConversationState.ASSIGNED if owned else ConversationState.QUEUED
    snoozed_until = conversation.snoozed_until
    conversation.snoozed_until = None
    conversation.updated_at = utcnow()
    add_timeline(
        session,
        conversation.contact_id,
        "snooze_ended",
        conversation.id,
        snoozed_until=iso(snoozed_until),
        state=str(conversation.state),
        by=SYSTEM,
    )
    if conversation.assignee_id is not None:
        await notify(session, conversation.assignee_id, "snooze_ended", conversation.id)
    conversation_changed(session, conversation)


def require_skill(
    session: AsyncSession, conversation: Conversation, skill: str | None, by: Actor = SYSTEM
) -> None:
    """Only agents with ``skill`` (none: anyone) get the conversation automatically."""
    if conversation.required_skill == skill:
        return
    conversation.required_skill = skill
    add_timeline(
        session,
        conversation.contact_id,
        "skill_required",
        conversation.id,
        skill=skill,
        by=by,
    )
