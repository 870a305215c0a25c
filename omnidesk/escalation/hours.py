"""Business hours: when a team works, and clocks that count only those minutes.

A calendar has periods per weekday (several a day) in a time zone, and holidays. Every
function here is pure and works on timezone-aware datetimes; periods are wall-clock times
of the calendar's zone, so a 09:00-17:00 day stays 09:00-17:00 across a DST change
(and a day whose clock jumps has fewer or more real minutes). A calendar with no periods
at all is open around the clock, except on its holidays.

A period never crosses midnight: an overnight shift is two periods (``22:00-24:00`` and
the next day's ``00:00-06:00``), which the clocks treat as one stretch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
# How far ahead a clock looks for an open minute before calling the calendar closed
# for good (a calendar whose holidays cover years).
MAX_DAYS_AHEAD = 3660
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")

Period = tuple[int, int]  # minutes since local midnight, start < end <= 1440


class CalendarError(ValueError):
    """A calendar's definition is wrong; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Calendar:
    """Business hours; build one with ``Calendar.parse`` (or ``ALWAYS`` for 24/7)."""

    zone: ZoneInfo
    # Seven tuples (Monday first) of sorted, non-overlapping periods.
    weekly: tuple[tuple[Period, ...], ...]
    holidays: frozenset[dt.date] = frozenset()

    @property
    def around_the_clock(self) -> bool:
        return not any(self.weekly)

    @classmethod
    def parse(
        cls,
        timezone: str = "UTC",
        weekly: Mapping[str, Any] | None = None,
        holidays: Sequence[Any] = (),
    ) -> Calendar:
        """A calendar from its stored or configured form, refusing anything unclear."""
        return cls(parse_zone(timezone), _parse_weekly(weekly or {}), _parse_holidays(holidays))

    def to_data(self) -> dict[str, Any]:
        """The stored form: ``timezone``, ``weekly`` and ``holidays``, normalised."""
        return {
            "timezone": self.zone.key,
            "weekly": {
                day: [[_hhmm(s), _hhmm(e)] for s, e in periods]
                for day, periods in zip(WEEKDAYS, self.weekly, strict=True)
                if periods
            },
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }


ALWAYS = Calendar(ZoneInfo("UTC"), ((),) * 7)


def normalise_calendar(timezone: Any, weekly: Any, holidays: Any) -> dict[str, Any]:
    """A calendar's stored form, checked and normalised; ``CalendarError`` when wrong."""
    return Calendar.parse(timezone, weekly, holidays).to_data()


def parse_zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise CalendarError("timezone must be an IANA zone name such as 'Europe/Berlin'")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"unknown timezone {name!r}") from None


def _minutes(value: Any) -> int:
    if not isinstance(value, str) or not _TIME.match(value.strip()):
        raise CalendarError(f"time {value!r} must be HH:MM, from 00:00 to 24:00")
    hours, minutes = value.strip().split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_weekly(weekly: Mapping[str, Any]) -> tuple[tuple[Period, ...], ...]:
    if not isinstance(weekly, Mapping):
        raise CalendarError("weekly must map mon..sun to lists of [start, end] periods")
    unknown = set(weekly) - set(WEEKDAYS)
    if unknown:
        raise CalendarError(f"unknown weekdays {sorted(unknown)}; use {', '.join(WEEKDAYS)}")
    days: list[tuple[Period, ...]] = []
    for day in WEEKDAYS:
        raw = weekly.get(day) or []
        if not isinstance(raw, list | tuple):
            raise CalendarError(f"{day} must be a list of [start, end] periods")
        periods: list[Period] = []
        for period in raw:
            if not isinstance(period, list | tuple) or len(period) != 2:
                raise CalendarError(f"{day}: each period is [start, end], e.g. ['09:00', '17:00']")
            start, end = _minutes(period[0]), _minutes(period[1])
            if start >= end:
                raise CalendarError(
                    f"{day}: period {period[0]}-{period[1]} must end after it starts; split "
                    "one that crosses midnight into two (until 24:00, then from 00:00)"
                )
            periods.append((start, end))
        days.append(_merge(sorted(periods)))
    return tuple(days)


def _merge(periods: list[Period]) -> tuple[Period, ...]:
    """Overlapping or touching periods of one day become one."""
    merged: list[Period] = []
    for start, end in periods:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _parse_holidays(holidays: Sequence[Any]) -> frozenset[dt.date]:
    if isinstance(holidays, str) or not isinstance(holidays, Sequence):
        raise CalendarError("holidays must be a list of YYYY-MM-DD dates")
    days: set[dt.date] = set()
    for value in holidays:
        try:
            days.add(dt.date.fromisoformat(value))
        except (TypeError, ValueError):
            raise CalendarError(f"holiday {value!r} must be a YYYY-MM-DD date") from None
    return frozenset(days)


# -- clocks ---------------------------------------------------------------------------


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError("business-hours clocks need timezone-aware datetimes")
    return at.astimezone(dt.UTC)


def _to_utc(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    """The instant a wall-clock time of ``zone`` names. A time skipped by a DST jump
    is the instant of the jump; a repeated one is its first occurrence."""
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
    for _ in range(24 * 60):
        instant = naive.replace(tzinfo=zone).astimezone(dt.UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == naive:
            return instant
        # Inside a DST gap: the first wall-clock minute that exists is the jump itself.
        naive += dt.timedelta(minutes=1)
    raise AssertionError("no valid wall-clock time within a day")  # pragma: no cover


def open_intervals(
    calendar: Calendar, start: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The calendar's open stretches in UTC, in order, from the local day of ``start``
    (the first may end before ``start``; callers clip). Ends when nothing is open for
    ``MAX_DAYS_AHEAD`` days."""
    zone = calendar.zone
    day = _aware(start).astimezone(zone).date()
    idle = 0
    while idle < MAX_DAYS_AHEAD:
        periods = calendar.weekly[day.weekday()]
        if calendar.around_the_clock:
            periods = ((0, DAY_MINUTES),)
        if day in calendar.holidays:
            periods = ()
        emitted = False
        for begin, end in periods:
            a, b = _to_utc(day, begin, zone), _to_utc(day, end, zone)
            if b > a:
                emitted = True
                yield a, b
        idle = 0 if emitted else idle + 1
        day += dt.timedelta(days=1)


def is_open(calendar: Calendar, at: dt.datetime) -> bool:
    """Whether ``at`` falls in business hours."""
    at = _aware(at)
    if calendar is ALWAYS or (calendar.around_the_clock and not calendar.holidays):
        return True
    for a, b in open_intervals(calendar, at):
        if a > at:
            return False
        if at < b:
            return True
    return False


def next_open(calendar: Calendar, at: dt.datetime) -> dt.datetime:
    """``at`` when open, else the start of the next open stretch."""
    return add_business_minutes(calendar, at, 0)


def add_business_minutes(calendar: Calendar, start: dt.datetime, minutes: float) -> dt.datetime:
    """The instant ``minutes`` business minutes after ``start`` (UTC)."""
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    start = _aware(start)
    remaining = dt.timedelta(minutes=minutes)
    if calendar.around_the_clock and not calendar.holidays:
        return start + remaining
    for a, b in open_intervals(calendar, start):
        begin = max(a, start)
        if b <= begin:
            continue
        if remaining <= b - begin:
            return begin + remaining
        remaining -= b - begin
    raise CalendarError("the calendar is never open, so no business minutes can pass")


def business_minutes_between(calendar: Calendar, a: dt.datetime, b: dt.datetime) -> float:
    """Business minutes from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
    a, b = _aware(a), _aware(b)
    if b <= a:
        return 0.0
    if calendar.around_the_clock and not calendar.holidays:
        return (b - a).total_seconds() / 60
    total = dt.timedelta()
    for start, end in open_intervals(calendar, a):
        if start >= b:
            break
        overlap = min(end, b) - max(start, a)
        if overlap > dt.timedelta():
            total += overlap
    return total.total_seconds() / 60
