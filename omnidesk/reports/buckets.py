"""How a report's rows are keyed: by the local day, week (from Monday) or month of a
figure's own moment, or by a dimension (team, agent, channel, label).

PostgreSQL buckets in SQL (``date_trunc`` of the moment in the report's zone). SQLite
has no time zones, so it groups by 15-minute UTC slots (every zone's offset is a
multiple of 15 minutes) and each slot is put in its local bucket here; both give the
same rows, across DST changes too.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, Integer, cast, func, literal_column
from sqlalchemy.sql.elements import KeyedColumnElement

from omnidesk.reports.params import PERIODS

NONE_KEY = "none"


class Grouping:
    """The key of a report row: ``by`` is a period or a dimension name."""

    def __init__(self, by: str, zone: ZoneInfo, dialect: str) -> None:
        self.by = by
        self.zone = zone
        self.postgres = dialect == "postgresql"

    @property
    def is_period(self) -> bool:
        return self.by in PERIODS

    def key(self, moment: Any, dimensions: dict[str, Any]) -> ColumnElement[Any]:
        """The SQL key: the bucket of ``moment``, or the dimension's column."""
        if not self.is_period:
            return dimensions[self.by]  # type: ignore[no-any-return]
        if self.postgres:
            # Literals, not bound parameters: PostgreSQL must see the GROUP BY
            # expression as the same as the selected one. The zone name is validated.
            unit: ColumnElement[Any] = literal_column(f"'{self.by}'")
            zone: ColumnElement[Any] = literal_column(f"'{self.zone.key}'")
            return func.date_trunc(unit, func.timezone(zone, moment))
        slot = cast(func.strftime("%M", moment), Integer).op("/")(15).op("*")(15)
        return func.strftime("%Y-%m-%d %H:", moment).op("||")(func.printf("%02d", slot))

    def label(self, raw: Any) -> str:
        """The row's key as the API shows it: an ISO date for a period, else the
        dimension's value (an id, a channel, a label) as text."""
        if raw is None:
            return NONE_KEY
        if not self.is_period:
            return str(raw)
        if self.postgres:
            return _period_start(raw.date(), self.by).isoformat()
        return _slot_label(str(raw), self.by, self.zone)


def _period_start(day: dt.date, period: str) -> dt.date:
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


@functools.lru_cache(maxsize=65536)
def _slot_label(slot: str, period: str, zone: ZoneInfo) -> str:
    utc = dt.datetime.strptime(slot, "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
    return _period_start(utc.astimezone(zone).date(), period).isoformat()


def periods(first: dt.date, last: dt.date, period: str) -> list[str]:
    """Every bucket's key from ``first`` to ``last``, so empty ones show as zeros."""
    keys: list[str] = []
    day = _period_start(first, period)
    while day <= last:
        keys.append(day.isoformat())
        if period == "day":
            day += dt.timedelta(days=1)
        elif period == "week":
            day += dt.timedelta(days=7)
        else:
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return keys


def has_key(column: KeyedColumnElement[Any] | Any, key: str, dialect: str) -> ColumnElement[bool]:
    """Whether a JSON column's object has ``key`` (with a non-null value)."""
    if dialect == "postgresql":
        return column.op("->")(literal_column(f"'{key}'")).isnot(None)  # type: ignore[no-any-return]
    return func.json_extract(column, f"$.{key}").isnot(None)


def epoch(column: Any, dialect: str) -> ColumnElement[float]:
    """A moment as seconds since 1970 (UTC), cheaper to read by the thousand than
    datetimes."""
    if dialect == "postgresql":
        # extract() answers numeric, which the driver turns into slow Decimals.
        return cast(func.extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0  # type: ignore[no-any-return]
