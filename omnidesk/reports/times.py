"""First-response and resolution times in business hours, and SLA attainment, per
ticket, by when the ticket's clock started.

A ticket's clock starts when it was opened, or, for a reopened ticket, when it was last
reopened: its first response is then the first agent reply after the reopen, and its
resolution the resolution that followed (the SLA due times restart at the reopen too).
Minutes count in the ticket's business hours: its team's calendar, else its priority's
SLA calendar, else the default (``escalation.targets_for`` chooses, as for the SLA).
Only agents reply: the bot's messages never make a first response.

SLA: a target is met when the reply (or resolution) came by its due time, missed when it
came later or has not come and the due time has passed; tickets still in time count as
neither.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.escalation import Calendar, targets_for
from omnidesk.helpdesk import Author, Conversation, Message, Ticket
from omnidesk.reports.buckets import epoch
from omnidesk.reports.clock import BusinessClock
from omnidesk.reports.figures import Rows
from omnidesk.reports.scope import Scope, fetch


def _first_reply_after_reopen() -> Any:
    return (
        select(func.min(Message.created_at))
        .where(
            Message.conversation_id == Ticket.conversation_id,
            Message.author == Author.AGENT,
            Message.private.is_(False),
            Message.created_at >= Ticket.reopened_at,
        )
        .scalar_subquery()
    )


async def add_times(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    start = func.coalesce(Ticket.reopened_at, Ticket.created_at)
    response = case(
        (Ticket.reopened_at.is_(None), Ticket.first_response_at),
        else_=_first_reply_after_reopen(),
    )
    agent = Ticket.assignee_id
    seconds = [
        epoch(moment, scope.dialect)
        for moment in (
            start,
            response,
            Ticket.resolved_at,
            Ticket.first_response_due_at,
            Ticket.resolution_due_at,
        )
    ]
    stmt = select(scope.key(start, agent), Ticket.priority, Ticket.team_id, *seconds)
    link = Conversation.id == Ticket.conversation_id
    stmt = scope.narrow(stmt.select_from(Ticket), start, agent, link)
    found = await fetch(session, stmt)
    if not found:
        return
    latest = max(t for r in found for t in r[3:6] if t is not None)
    low = scope.query.start - dt.timedelta(days=1)
    clocks = _Clocks(session, low, dt.datetime.fromtimestamp(float(latest), dt.UTC))
    # Looked up once per calendar and per key, not per ticket (tens of thousands).
    by_ticket = {(p, t): await clocks.get(str(p), t) for p, t in {(r[1], r[2]) for r in found}}
    keys = {raw: scope.grouping.label(raw) for raw in {r[0] for r in found}}
    now = scope.now.timestamp()
    for raw, priority, team_id, began, replied, resolved, reply_due, resolve_due in found:
        row = rows[keys[raw]]
        clock = by_ticket[(priority, team_id)]
        if replied is not None:
            row.first_response.append(clock.minutes_between(float(began), float(replied)))
        if resolved is not None:
            row.resolution.append(clock.minutes_between(float(began), float(resolved)))
        _attain(row.sla["first_response"], replied, reply_due, now)
        _attain(row.sla["resolution"], resolved, resolve_due, now)


def _attain(tally: list[int], done: Any, due: Any, now: float) -> None:
    if due is None:
        return
    if done is not None and float(done) <= float(due):
        tally[0] += 1
    elif done is not None or float(due) <= now:
        tally[1] += 1


class _Clocks:
    """One business clock per calendar, from the report's start to the latest instant
    its tickets name (replies and resolutions may come after the range ends)."""

    def __init__(self, session: AsyncSession, low: dt.datetime, high: dt.datetime) -> None:
        self._session = session
        self._low = low
        self._high = high + dt.timedelta(days=1)
        self._by_ticket: dict[tuple[str, int | None], BusinessClock] = {}
        self._by_calendar: dict[Calendar, BusinessClock] = {}

    async def get(self, priority: str, team_id: int | None) -> BusinessClock:
        found = self._by_ticket.get((priority, team_id))
        if found is None:
            calendar = (await targets_for(self._session, priority, team_id)).calendar
            found = self._by_calendar.get(calendar)
            if found is None:
                found = self._by_calendar[calendar] = BusinessClock(calendar, self._low, self._high)
            self._by_ticket[(priority, team_id)] = found
        return found
