"""SLA policies: the first-response and resolution targets of a ticket's priority,
counted in business hours, and which tickets have missed them.

Targets come from the ``sla_policies`` table, or from the ``sla`` settings for a
priority without a row. The calendar is the ticket's team's, else the policy's, else
the default calendar of the settings.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.config import SlaSettings
from omnidesk.escalation.hours import ALWAYS, Calendar, CalendarError, add_business_minutes
from omnidesk.helpdesk import Priority, Ticket, TicketState, actions, utcnow
from omnidesk.helpdesk.models import BusinessCalendar, SlaPolicy, Team

log = logging.getLogger(__name__)

LADDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)


class _Defaults:
    """The process's ``sla`` settings; ``configure_sla`` sets them at start-up."""

    settings = SlaSettings()


def configure_sla(settings: SlaSettings) -> None:
    """Use these targets and default calendar where the tables name none."""
    _Defaults.settings = settings


def raised(priority: str) -> str:
    """One step up the ladder (low -> normal -> high -> urgent), urgent staying urgent."""
    try:
        index = LADDER.index(Priority(priority))
    except ValueError:
        return str(Priority.HIGH)
    return str(LADDER[min(index + 1, len(LADDER) - 1)])


@dataclass(frozen=True, slots=True)
class Targets:
    """What a ticket must meet, in business minutes of ``calendar``."""

    first_response_minutes: int
    resolution_minutes: int
    calendar: Calendar
    calendar_name: str


def default_calendar(settings: SlaSettings) -> Calendar:
    cal = settings.calendar
    return Calendar.parse(cal.timezone, cal.weekly, cal.holidays)


async def _calendar(session: AsyncSession, calendar_id: int | None) -> BusinessCalendar | None:
    return await session.get(BusinessCalendar, calendar_id) if calendar_id else None


async def targets_for(
    session: AsyncSession,
    priority: str,
    team_id: int | None = None,
    *,
    settings: SlaSettings | None = None,
) -> Targets:
    """The targets and calendar for a ticket of ``priority`` in ``team_id``'s queue."""
    settings = settings or _Defaults.settings
    policy = await session.scalar(select(SlaPolicy).where(SlaPolicy.priority == str(priority)))
    if policy is not None:
        first, resolution = policy.first_response_minutes, policy.resolution_minutes
        calendar_id = policy.calendar_id
    else:
        target = settings.policies.get(str(priority)) or settings.policies["normal"]
        first, resolution = target.first_response_minutes, target.resolution_minutes
        calendar_id = None
    team = await session.get(Team, team_id) if team_id else None
    if team is not None and team.calendar_id:
        calendar_id = team.calendar_id
    row = await _calendar(session, calendar_id)
    if row is not None:
        try:
            calendar = Calendar.parse(row.timezone, row.weekly, row.holidays)
            return Targets(first, resolution, calendar, row.name)
        except CalendarError:
            # The API validates; a row edited by hand must not stop the ticket's clock.
            log.warning("business calendar %s is invalid; using the default", row.id)
    try:
        return Targets(first, resolution, default_calendar(settings), "default")
    except CalendarError:
        log.warning("sla.calendar in the settings is invalid; counting every hour")
        return Targets(first, resolution, ALWAYS, "always")


async def team_calendar(
    session: AsyncSession, team_id: int | None = None, *, settings: SlaSettings | None = None
) -> Calendar:
    """The business hours a team works (its calendar, else the default): for telling a
    customer when a person will be back."""
    return (await targets_for(session, Priority.NORMAL, team_id, settings=settings)).calendar


async def start_sla(
    session: AsyncSession,
    ticket: Ticket,
    *,
    at: dt.datetime | None = None,
    settings: SlaSettings | None = None,
) -> Targets:
    """Set the ticket's first-response and resolution due times from its priority's
    policy, counted from ``at`` (default: when the ticket was opened)."""
    targets = await targets_for(session, ticket.priority, ticket.team_id, settings=settings)
    start = at or ticket.created_at or utcnow()
    first = add_business_minutes(targets.calendar, start, targets.first_response_minutes)
    resolution = add_business_minutes(targets.calendar, start, targets.resolution_minutes)
    if (ticket.first_response_due_at, ticket.resolution_due_at) != (first, resolution):
        actions.set_sla_due(
            session,
            ticket,
            first_response_due_at=first,
            resolution_due_at=resolution,
            calendar=targets.calendar_name,
        )
    return targets


class Clocked(Protocol):
    """What breach detection reads of a ticket."""

    state: str
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    first_response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    first_response_breached_at: dt.datetime | None
    resolution_breached_at: dt.datetime | None


C = TypeVar("C", bound=Clocked)


def breached_targets(ticket: Clocked, now: dt.datetime) -> list[str]:
    """The targets the ticket has missed at ``now`` and that are not marked yet: no (or
    a late) first response past its due time; not resolved past its due time."""
    if ticket.state not in (TicketState.OPEN, TicketState.PENDING):
        return []
    missed: list[str] = []
    due = ticket.first_response_due_at
    if (
        due is not None
        and ticket.first_response_breached_at is None
        and due <= now
        and (ticket.first_response_at is None or ticket.first_response_at > due)
    ):
        missed.append(actions.FIRST_RESPONSE)
    due = ticket.resolution_due_at
    if (
        due is not None
        and ticket.resolution_breached_at is None
        and ticket.resolved_at is None
        and due <= now
    ):
        missed.append(actions.RESOLUTION)
    return missed


def breaches(tickets: Iterable[C], now: dt.datetime) -> list[tuple[C, list[str]]]:
    """Each ticket with newly missed targets at ``now``, and which."""
    found = ((ticket, breached_targets(ticket, now)) for ticket in tickets)
    return [(ticket, missed) for ticket, missed in found if missed]
