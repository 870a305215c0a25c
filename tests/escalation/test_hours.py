"""Business-hours clocks: periods, holidays, time zones and DST, and their laws."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnidesk.escalation.hours import (
    ALWAYS,
    Calendar,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    is_open,
    next_open,
)

UTC = dt.UTC
OFFICE = Calendar.parse(
    "Europe/Berlin",
    {day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    ["2026-12-25"],
)
NIGHTS = Calendar.parse(
    "America/New_York",
    {"mon": [["22:00", "24:00"]], "tue": [["00:00", "06:00"]], "sat": [["10:00", "11:30"]]},
)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_periods_lunch_and_weekend() -> None:
    # Monday 2026-11-30, Berlin is UTC+1 in winter.
    assert is_open(OFFICE, utc(2026, 11, 30, 8, 0))  # 09:00 local
    assert not is_open(OFFICE, utc(2026, 11, 30, 7, 59))
    assert not is_open(OFFICE, utc(2026, 11, 30, 11, 30))  # lunch, 12:30 local
    assert not is_open(OFFICE, utc(2026, 12, 5, 10, 0))  # Saturday
    assert next_open(OFFICE, utc(2026, 11, 30, 11, 30)) == utc(2026, 11, 30, 12, 0)
    # Friday 16:30 local + 60 minutes: 30 on Friday, 30 on Monday morning.
    due = add_business_minutes(OFFICE, utc(2026, 12, 4, 15, 30), 60)
    assert due == utc(2026, 12, 7, 8, 30)


def test_holiday_is_closed() -> None:
    christmas = utc(2026, 12, 25, 10, 0)  # a Friday
    assert not is_open(OFFICE, christmas)
    assert next_open(OFFICE, christmas) == utc(2026, 12, 28, 8, 0)
    assert business_minutes_between(OFFICE, utc(2026, 12, 24, 0), utc(2026, 12, 26, 0)) == 7 * 60


def test_overnight_shift_is_one_stretch() -> None:
    # Monday 22:00 EST = Tuesday 03:00 UTC; 3 hours run through midnight.
    start = utc(2026, 11, 30, 23, 0)  # Monday 18:00 local, closed
    assert next_open(NIGHTS, start) == utc(2026, 12, 1, 3, 0)
    assert add_business_minutes(NIGHTS, start, 180) == utc(2026, 12, 1, 6, 0)
    assert is_open(NIGHTS, utc(2026, 12, 1, 5, 0))  # Tuesday 00:00 local


def test_dst_spring_forward_day_is_shorter() -> None:
    # Berlin jumps 02:00 -> 03:00 on Sunday 2026-03-29; open all that Sunday.
    cal = Calendar.parse("Europe/Berlin", {"sun": [["00:00", "24:00"]]})
    start, end = utc(2026, 3, 28, 12), utc(2026, 3, 30, 12)
    assert business_minutes_between(cal, start, end) == 23 * 60
    # A period wholly inside the skipped hour has no minutes at all.
    gap = Calendar.parse(
        "Europe/Berlin", {"sun": [["02:15", "02:45"]], "mon": [["09:00", "10:00"]]}
    )
    assert business_minutes_between(gap, start, utc(2026, 3, 30, 6)) == 0
    assert next_open(gap, start) == utc(2026, 3, 30, 7)
    # 09:00-17:00 stays 09:00-17:00 local: UTC+1 before, UTC+2 after.
    office = Calendar.parse(
        "Europe/Berlin", {"fri": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]}
    )
    assert next_open(office, utc(2026, 3, 27, 17)) == utc(2026, 3, 30, 7)


def test_dst_fall_back_day_is_longer() -> None:
    # New York repeats 01:00-02:00 on Sunday 2026-11-01.
    cal = Calendar.parse("America/New_York", {"sun": [["00:00", "24:00"]]})
    assert business_minutes_between(cal, utc(2026, 10, 31), utc(2026, 11, 3)) == 25 * 60
    assert add_business_minutes(cal, utc(2026, 11, 1, 4), 25 * 60) == utc(2026, 11, 2, 5)


def test_no_periods_is_around_the_clock() -> None:
    start = utc(2026, 11, 28, 23, 59)
    assert add_business_minutes(ALWAYS, start, 90) == start + dt.timedelta(minutes=90)
    assert is_open(ALWAYS, start)
    off = Calendar.parse("UTC", {}, ["2026-11-29"])
    assert not is_open(off, utc(2026, 11, 29, 12))
    assert add_business_minutes(off, start, 2) == utc(2026, 11, 30, 0, 1)


@pytest.mark.parametrize(
    ("timezone", "weekly", "holidays", "message"),
    [
        ("Mars/Olympus", {}, [], "unknown timezone"),
        ("", {}, [], "IANA"),
        ("UTC", {"monday": [["09:00", "17:00"]]}, [], "unknown weekdays"),
        ("UTC", {"mon": [["22:00", "06:00"]]}, [], "crosses midnight"),
        ("UTC", {"mon": [["9am", "5pm"]]}, [], "HH:MM"),
        ("UTC", {"mon": [["09:00", "24:01"]]}, [], "HH:MM"),
        ("UTC", {"mon": [["09:00"]]}, [], "[start, end]"),
        ("UTC", {"mon": "09:00-17:00"}, [], "list"),
        ("UTC", {}, ["25/12/2026"], "YYYY-MM-DD"),
        ("UTC", {}, "2026-12-25", "list"),
    ],
)
def test_bad_calendars_are_refused(
    timezone: str, weekly: dict[str, object], holidays: object, message: str
) -> None:
    with pytest.raises(CalendarError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Calendar.parse(timezone, weekly, holidays)  # type: ignore[arg-type]


def test_round_trip_normalises() -> None:
    cal = Calendar.parse("UTC", {"mon": [["13:00", "17:00"], ["09:00", "13:30"]]})
    assert cal.to_data() == {
        "timezone": "UTC",
        "weekly": {"mon": [["09:00", "17:00"]]},
        "holidays": [],
    }
    assert Calendar.parse(**cal.to_data()) == cal


# -- laws ------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    weekly: dict[str, list[list[str]]] = {}
    for day in draw(st.sets(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))):
        cuts = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))
        pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
        weekly[day] = [
            [f"{a * 15 // 60:02d}:{a * 15 % 60:02d}", f"{b * 15 // 60:02d}:{b * 15 % 60:02d}"]
            for a, b in pairs
        ]
    holidays = draw(st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)), max_size=5))
    return Calendar.parse(draw(st.sampled_from(ZONES)), weekly, [d.isoformat() for d in holidays])


# Hypothesis takes naive bounds and attaches the zone itself.
instants = st.datetimes(
    dt.datetime(2026, 1, 1),  # noqa: DTZ001
    dt.datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, st.integers(0, 5000))
def test_add_then_measure_gives_the_minutes_back(
    cal: Calendar, start: dt.datetime, minutes: int
) -> None:
    due = add_business_minutes(cal, start, minutes)
    assert due >= start
    assert business_minutes_between(cal, start, due) == pytest.approx(minutes)
    if minutes:
        # The clock stops in open time: just before ``due`` it is open.
        assert is_open(cal, due - dt.timedelta(seconds=1))


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, instants, instants)
def test_minutes_add_up_over_a_split(
    cal: Calendar, a: dt.datetime, b: dt.datetime, c: dt.datetime
) -> None:
    a, b, c = sorted((a, b, c))
    whole = business_minutes_between(cal, a, c)
    assert whole == pytest.approx(
        business_minutes_between(cal, a, b) + business_minutes_between(cal, b, c)
    )
    assert whole <= (c - a).total_seconds() / 60 + 1e-9


@settings(max_examples=150, deadline=None)
@given(calendars(), instants)
def test_next_open_is_open_and_nothing_is_skipped(cal: Calendar, at: dt.datetime) -> None:
    first = next_open(cal, at)
    assert first >= at
    assert is_open(cal, first)
    assert business_minutes_between(cal, at, first) == 0
