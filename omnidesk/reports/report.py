"""Reports as JSON-shaped dicts: the overview (rows per day, week or month) and the
breakdowns (rows per team, agent, channel or label), each with the same figures."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk import Agent, Team, utcnow
from omnidesk.reports.buckets import NONE_KEY, Grouping, periods
from omnidesk.reports.csat import add_csat
from omnidesk.reports.figures import Figures, Rows, new_rows
from omnidesk.reports.nps import add_surveys, nps_summary
from omnidesk.reports.params import DIMENSIONS, ReportQuery
from omnidesk.reports.scope import Scope
from omnidesk.reports.times import add_times
from omnidesk.reports.volume import add_conversations, add_handoffs

Sessions = async_sessionmaker[AsyncSession]
Figure = Callable[[AsyncSession, Scope, Rows], Awaitable[None]]
FIGURES: tuple[Figure, ...] = (
    add_conversations,
    add_handoffs,
    add_times,
    add_csat,
    add_surveys,
)


async def prepare(session: AsyncSession) -> str:
    """The session's dialect; on PostgreSQL, JIT is off for the report's transaction:
    compiling these short aggregate plans took longer than running them."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
    return dialect


async def _rows(sessions: Sessions, query: ReportQuery, by: str, now: dt.datetime | None) -> Rows:
    """Every figure's rows; the figures are asked at once, each on its own connection,
    so a report takes about as long as its slowest figure."""
    rows = new_rows()

    async def run(figure: Figure) -> None:
        async with sessions() as session:
            dialect = await prepare(session)
            scope = Scope(query, Grouping(by, query.zone, dialect), dialect, now or utcnow())
            await figure(session, scope, rows)

    await asyncio.gather(*(run(figure) for figure in FIGURES))
    return rows


def _total(rows: Rows) -> Figures:
    total = Figures()
    for figures in rows.values():
        total.merge(figures)
    return total


async def overview(
    sessions: Sessions,
    query: ReportQuery,
    *,
    now: dt.datetime | None = None,
    nps: bool = False,
) -> dict[str, Any]:
    """Every figure per period of ``query.group``, oldest first (empty periods too),
    and the totals over the range. With ``nps`` (the survey is on) each row has its NPS,
    and ``nps`` the range's; else ``nps`` is ``{"enabled": false}``."""
    rows = await _rows(sessions, query, query.group, now)
    keys = periods(query.first_day, query.last_day, query.group)
    total = _total(rows)
    return {
        "query": query.to_dict(),
        "rows": [{"key": key, **rows[key].to_dict(nps=nps)} for key in keys],
        "totals": total.to_dict(nps=nps),
        "nps": {"enabled": True, **nps_summary(total.nps, total.nps_sent)}
        if nps
        else {"enabled": False},
    }


async def breakdown(
    sessions: Sessions,
    query: ReportQuery,
    dimension: str,
    *,
    now: dt.datetime | None = None,
    nps: bool = False,
) -> dict[str, Any]:
    """Every figure per team, agent, channel or label over the range, biggest first.
    A conversation with two labels counts under each, so label rows have no totals.
    With ``nps`` every row has its NPS figures too."""
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    rows = await _rows(sessions, query, dimension, now)
    async with sessions() as session:
        names = await _names(session, dimension)
    found = [
        {"key": key, "name": names.get(key, key), **figures.to_dict(nps=nps)}
        for key, figures in rows.items()
    ]
    found.sort(key=lambda r: (r["key"] == NONE_KEY, -r["conversations"], str(r["name"])))
    return {
        "query": query.to_dict(),
        "by": dimension,
        "rows": found,
        "totals": None if dimension == "label" else _total(rows).to_dict(nps=nps),
    }


async def _names(session: AsyncSession, dimension: str) -> dict[str, str]:
    names = {NONE_KEY: {"team": "No team", "agent": "Nobody (bot or queue)"}.get(dimension, "None")}
    if dimension == "team":
        found = await session.execute(select(Team.id, Team.name))
    elif dimension == "agent":
        found = await session.execute(select(Agent.id, Agent.name))
    else:
        return names
    names.update({str(i): n for i, n in found.tuples()})
    return names
