"""SLA targets from policies, settings and calendars; breach detection; the priority
ladder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError

from omnidesk.config import CONFIG_ENV, CalendarSettings, SlaSettings, SlaTarget, load_settings
from omnidesk.escalation import breached_targets, next_open, raised, start_sla, team_calendar
from omnidesk.escalation.sla import default_calendar
from omnidesk.helpdesk import Ticket, TimelineEvent, actions, unit_of_work
from omnidesk.helpdesk.models import BusinessCalendar, SlaPolicy
from tests.conftest import Database
from tests.escalation import helpers

UTC = dt.UTC
# Monday 2026-11-30 10:00 UTC = 11:00 in Berlin.
MONDAY = dt.datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
OFFICE = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.mark.parametrize(
    ("before", "after"),
    [("low", "normal"), ("normal", "high"), ("high", "urgent"), ("urgent", "urgent")],
)
def test_priority_ladder(before: str, after: str) -> None:
    assert raised(before) == after


@dataclass
class Clock:
    state: str = "open"
    first_response_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    first_response_due_at: dt.datetime | None = None
    resolution_due_at: dt.datetime | None = None
    first_response_breached_at: dt.datetime | None = None
    resolution_breached_at: dt.datetime | None = None


def test_breach_detection_is_pure() -> None:
    due = MONDAY
    later = MONDAY + dt.timedelta(minutes=1)
    assert breached_targets(Clock(first_response_due_at=due), later) == ["first_response"]
    assert breached_targets(Clock(first_response_due_at=due), due - dt.timedelta(seconds=1)) == []
    on_time = Clock(first_response_due_at=due, first_response_at=due - dt.timedelta(minutes=5))
    assert breached_targets(on_time, later) == []
    late = Clock(first_response_due_at=due, first_response_at=later)
    assert breached_targets(late, later) == ["first_response"]
    both = Clock(first_response_due_at=due, resolution_due_at=due)
    assert breached_targets(both, later) == ["first_response", "resolution"]
    marked = Clock(resolution_due_at=due, resolution_breached_at=later)
    assert breached_targets(marked, later) == []
    assert breached_targets(Clock(state="resolved", resolution_due_at=due), later) == []
    assert breached_targets(Clock(), later) == []


async def _ticket(db: Database, visitor: str, team_id: int | None = None) -> Ticket:
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await helpers.queued(session, visitor, team_id=team_id)
        ticket = await actions.open_ticket(session, conversation.id)
        assert ticket is not None
        ticket.team_id = team_id
        return ticket


async def test_defaults_count_every_hour(db: Database) -> None:
    ticket = await _ticket(db, "v")
    async with unit_of_work(db.sessionmaker) as session:
        ticket = await session.get_one(Ticket, ticket.id)
        await start_sla(session, ticket, at=MONDAY, settings=SlaSettings())
        assert ticket.first_response_due_at == MONDAY + dt.timedelta(hours=4)
        assert ticket.resolution_due_at == MONDAY + dt.timedelta(hours=24)
        # Starting again with the same clock writes nothing new.
        await start_sla(session, ticket, at=MONDAY, settings=SlaSettings())
    async with db.sessionmaker() as session:
        from sqlalchemy import select

        kinds = (await session.scalars(select(TimelineEvent.kind))).all()
        assert kinds.count("sla_started") == 1


async def test_settings_calendar_and_targets(db: Database) -> None:
    settings = SlaSettings(
        policies={"urgent": SlaTarget(first_response_minutes=90, resolution_minutes=600)},
        calendar=CalendarSettings(timezone="Europe/Berlin", weekly=OFFICE, holidays=["2026-12-01"]),
    )
    ticket = await _ticket(db, "v")
    async with unit_of_work(db.sessionmaker) as session:
        ticket = await session.get_one(Ticket, ticket.id)
        ticket.priority = "urgent"
        targets = await start_sla(session, ticket, at=MONDAY, settings=settings)
        assert targets.calendar_name == "default"
        # 11:00 + 90 min = 12:30 Berlin, 11:30 UTC.
        assert ticket.first_response_due_at == dt.datetime(2026, 11, 30, 11, 30, tzinfo=UTC)
        # 600 min: 360 on Monday (to 17:00), Tuesday is a holiday, 240 on Wednesday.
        assert ticket.resolution_due_at == dt.datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    # A priority the file leaves out keeps its built-in target.
    assert settings.policies["low"].first_response_minutes == 480


async def test_policy_row_and_team_calendar_win(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        berlin = BusinessCalendar(name="Berlin", timezone="Europe/Berlin", weekly=OFFICE)
        tokyo = BusinessCalendar(
            name="Tokyo", timezone="Asia/Tokyo", weekly={"mon": [["09:00", "18:00"]]}
        )
        session.add_all([berlin, tokyo])
        await session.flush()
        session.add(
            SlaPolicy(
                priority="normal",
                first_response_minutes=60,
                resolution_minutes=120,
                calendar_id=berlin.id,
            )
        )
        japan = await helpers.team(session, "Japan", [], calendar_id=tokyo.id)
        team_id = japan.id
    plain, japanese = await _ticket(db, "v"), await _ticket(db, "w", team_id)
    async with unit_of_work(db.sessionmaker) as session:
        plain = await session.get_one(Ticket, plain.id)
        targets = await start_sla(session, plain, at=MONDAY)
        assert targets.calendar_name == "Berlin"
        assert plain.first_response_due_at == MONDAY + dt.timedelta(hours=1)
        japanese = await session.get_one(Ticket, japanese.id)
        targets = await start_sla(session, japanese, at=MONDAY)
        # 19:00 in Tokyo on Monday: closed until next Monday 09:00 JST (00:00 UTC).
        assert targets.calendar_name == "Tokyo"
        assert japanese.first_response_due_at == dt.datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
        hours = await team_calendar(session, team_id)
        assert next_open(hours, MONDAY) == dt.datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def test_sla_settings_from_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "omnidesk.toml"
    config.write_text(
        "[sla.policies.urgent]\nfirst_response_minutes = 10\nresolution_minutes = 60\n"
        '[sla.calendar]\ntimezone = "Europe/Berlin"\nholidays = ["2026-12-25"]\n'
        '[sla.calendar.weekly]\nmon = [["09:00", "12:00"], ["13:00", "17:00"]]\n'
    )
    monkeypatch.setenv(CONFIG_ENV, str(config))
    sla = load_settings().sla
    assert sla.policies["urgent"].first_response_minutes == 10
    assert sla.policies["normal"].resolution_minutes == 24 * 60
    calendar = default_calendar(sla)
    assert calendar.to_data()["weekly"] == {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}
    config.write_text("[sla.policies.asap]\nfirst_response_minutes = 1\nresolution_minutes = 2\n")
    with pytest.raises(ValidationError, match="unknown priorities"):
        load_settings()
