"""Time-driven decisions, run by the sweeper every few seconds: SLA breaches raise the
priority and notify; a customer left unanswered too long by the assignee goes back to
the queue (and to someone else); ended snoozes come back; queued conversations find an
agent who came online; NPS surveys due go out (``surveys.sweep_nps``).

Each sweep claims its rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so several
processes share the work without doing any twice, and each change is idempotent: a row
a sweep has handled no longer matches it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.config import EscalationSettings
from omnidesk.escalation.assignment import auto_assign
from omnidesk.escalation.sla import LADDER, breaches, raised
from omnidesk.escalation.surveys import sweep_nps
from omnidesk.helpdesk import (
    Conversation,
    ConversationState,
    EventBus,
    Ticket,
    TicketState,
    TimelineEvent,
    actions,
    unit_of_work,
    utcnow,
)
from omnidesk.helpdesk.models import Agent, AgentRole, TeamMember

BATCH = 100


@dataclass(frozen=True, slots=True)
class BreachAlert:
    """A breach to announce outside the console (a Slack channel)."""

    conversation_id: int
    ticket_id: int
    targets: tuple[str, ...]
    priority: str
    subject: str
    channel: str
    assignee: str | None

    def text(self) -> str:
        missed = " and ".join(t.replace("_", " ") for t in self.targets)
        who = f"assigned to {self.assignee}" if self.assignee else "unassigned"
        return (
            f":rotating_light: SLA breached ({missed}) on ticket #{self.ticket_id} "
            f"\u201c{self.subject}\u201d ({self.channel}, {who}); priority now {self.priority}."
        )


@dataclass(slots=True)
class SweepReport:
    alerts: list[BreachAlert] = field(default_factory=list)
    requeued: int = 0
    woken: int = 0
    assigned: int = 0
    surveyed: int = 0


def _higher(a: str, b: str) -> str:
    rank = {str(p): i for i, p in enumerate(LADDER)}
    return a if rank.get(a, 1) >= rank.get(b, 1) else b


async def _recipients(session: AsyncSession, conversation: Conversation) -> list[int]:
    """Who hears of a breach: the assignee; else the team's members; else the admins."""
    if conversation.assignee_id is not None:
        return [conversation.assignee_id]
    active = select(Agent.id).where(Agent.active.is_(True))
    if conversation.team_id is not None:
        members = (
            await session.scalars(
                active.join(TeamMember, TeamMember.agent_id == Agent.id).where(
                    TeamMember.team_id == conversation.team_id
                )
            )
        ).all()
        if members:
            return list(members)
    return list((await session.scalars(active.where(Agent.role == AgentRole.ADMIN))).all())


async def _lapsed(session: AsyncSession, conversation: Conversation) -> list[int]:
    """Agents who already let the customer's current wait run out: not chosen again."""
    if conversation.waiting_since is None:
        return []
    rows = await session.scalars(
        select(TimelineEvent.data).where(
            TimelineEvent.conversation_id == conversation.id,
            TimelineEvent.kind == "reassign_timeout",
            TimelineEvent.created_at >= conversation.waiting_since,
        )
    )
    return [int(d["agent_id"]) for d in rows if isinstance(d.get("agent_id"), int)]


async def sweep_breaches(session: AsyncSession, now: dt.datetime) -> list[BreachAlert]:
    """Mark newly breached tickets: priority one step up, the people told."""
    late_first = and_(
        Ticket.first_response_due_at <= now,
        Ticket.first_response_breached_at.is_(None),
        or_(
            Ticket.first_response_at.is_(None),
            Ticket.first_response_at > Ticket.first_response_due_at,
        ),
    )
    late_resolution = and_(
        Ticket.resolution_due_at <= now,
        Ticket.resolution_breached_at.is_(None),
        Ticket.resolved_at.is_(None),
    )
    tickets = (
        await session.scalars(
            select(Ticket)
            .where(
                Ticket.state.in_([TicketState.OPEN, TicketState.PENDING]),
                or_(late_first, late_resolution),
            )
            .order_by(Ticket.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    alerts: list[BreachAlert] = []
    for ticket, targets in breaches(tickets, now):
        conversation = await session.get_one(Conversation, ticket.conversation_id)
        priority = raised(_higher(str(ticket.priority), str(conversation.priority)))
        await actions.sla_breached(
            session,
            ticket,
            conversation,
            targets,
            priority=priority,
            notify_ids=await _recipients(session, conversation),
            at=now,
        )
        alerts.append(
            BreachAlert(
                conversation.id,
                ticket.id,
                tuple(targets),
                priority,
                ticket.subject,
                conversation.channel,
                conversation.assignee,
            )
        )
    return alerts


async def sweep_unanswered(
    session: AsyncSession, now: dt.datetime, after_minutes: float
) -> tuple[int, int]:
    """Assigned conversations whose customer has waited ``after_minutes`` since the
    later of their message and the assignment go back to the queue, then to another
    agent if one fits. Returns (requeued, reassigned)."""
    cutoff = now - dt.timedelta(minutes=after_minutes)
    conversations = (
        await session.scalars(
            select(Conversation)
            .where(
                Conversation.state == ConversationState.ASSIGNED,
                Conversation.waiting_since <= cutoff,
                or_(Conversation.assigned_at.is_(None), Conversation.assigned_at <= cutoff),
            )
            .order_by(Conversation.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    reassigned = 0
    for conversation in conversations:
        since = max(t for t in (conversation.waiting_since, conversation.assigned_at) if t)
        waited = (now - since).total_seconds() / 60
        await actions.requeue_unanswered(session, conversation, waited_minutes=waited)
        await session.flush()
        lapsed = await _lapsed(session, conversation)
        if await auto_assign(session, conversation, exclude=lapsed) is not None:
            reassigned += 1
    return len(conversations), reassigned


async def sweep_snoozes(session: AsyncSession, now: dt.datetime) -> int:
    """Snoozes that ran out: back to the assignee, or to the queue and an agent."""
    conversations = (
        await session.scalars(
            select(Conversation)
            .where(
                Conversation.state == ConversationState.SNOOZED,
                Conversation.snoozed_until <= now,
            )
            .order_by(Conversation.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for conversation in conversations:
        await actions.end_snooze(session, conversation)
        await auto_assign(session, conversation, exclude=await _lapsed(session, conversation))
    return len(conversations)


async def sweep_queue(session: AsyncSession) -> int:
    """Queued conversations nobody holds get an agent who has come online since."""
    conversations: Sequence[Conversation] = (
        await session.scalars(
            select(Conversation)
            .where(
                Conversation.state == ConversationState.QUEUED,
                Conversation.assignee_id.is_(None),
                Conversation.assignee.is_(None),
            )
            .order_by(Conversation.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    assigned = 0
    for conversation in conversations:
        lapsed = await _lapsed(session, conversation)
        if await auto_assign(session, conversation, exclude=lapsed) is not None:
            assigned += 1
    return assigned


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: EventBus | None,
    settings: EscalationSettings,
    now: dt.datetime | None = None,
) -> SweepReport:
    """Every sweep once, each in its own transaction; events go out after each commit."""
    now = now or utcnow()
    report = SweepReport()
    async with unit_of_work(sessionmaker, bus) as session:
        report.alerts = await sweep_breaches(session, now)
    if settings.reassign_after_minutes:
        async with unit_of_work(sessionmaker, bus) as session:
            report.requeued, reassigned = await sweep_unanswered(
                session, now, settings.reassign_after_minutes
            )
            report.assigned += reassigned
    async with unit_of_work(sessionmaker, bus) as session:
        report.woken = await sweep_snoozes(session, now)
    async with unit_of_work(sessionmaker, bus) as session:
        report.assigned += await sweep_queue(session)
    if settings.nps_enabled:
        async with unit_of_work(sessionmaker, bus) as session:
            report.surveyed = await sweep_nps(session, settings, now)
    return report
