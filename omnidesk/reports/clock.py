"""Business minutes between many pairs of instants, fast: a calendar's open stretches
over the span asked for are laid out once with their running total of minutes, so each
pair is two binary searches instead of a walk through the calendar's days."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools

from omnidesk.escalation import Calendar, open_intervals


class BusinessClock:
    """``minutes(a, b)`` for instants between ``low`` and ``high``; the same figures as
    ``escalation.business_minutes_between``."""

    def __init__(self, calendar: Calendar, low: dt.datetime, high: dt.datetime) -> None:
        self._always = calendar.around_the_clock and not calendar.holidays
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._before: list[float] = []  # open seconds before each stretch
        if self._always:
            return
        total = 0.0
        stop = high.timestamp()
        for a, b in itertools.takewhile(
            lambda ab: ab[0].timestamp() <= stop, open_intervals(calendar, low)
        ):
            self._starts.append(a.timestamp())
            self._ends.append(b.timestamp())
            self._before.append(total)
            total += b.timestamp() - a.timestamp()

    def _open_seconds_until(self, at: float) -> float:
        i = bisect.bisect_right(self._starts, at) - 1
        if i < 0:
            return 0.0
        return self._before[i] + min(at, self._ends[i]) - self._starts[i]

    def minutes(self, a: dt.datetime, b: dt.datetime) -> float:
        """Business minutes from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
        return self.minutes_between(a.timestamp(), b.timestamp())

    def minutes_between(self, x: float, y: float) -> float:
        """The same for instants in seconds since 1970."""
        if y <= x:
            return 0.0
        if self._always:
            return (y - x) / 60
        return (self._open_seconds_until(y) - self._open_seconds_until(x)) / 60
