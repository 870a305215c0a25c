"""Report figures on the known month of ``history.py``, against values worked by hand
there: business-hours first-response and resolution times, a reopened ticket measured
from its reopen, bot messages never counted for an agent, deflection confirmed and
assumed (the 24-hour rule), CSAT, SLA attainment, handoffs by reason, and Berlin days
and weeks across the change to summer time. On SQLite and PostgreSQL (``db``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from omnidesk.helpdesk import Author, actions
from omnidesk.reports import breakdown, handoff_articles, overview, parse_query
from omnidesk.reports.params import ReportError
from tests.conftest import Database
from tests.reports.history import CITED, NOW, History, write_history

MARCH = {"from": "2026-03-01", "to": "2026-03-31", "tz": "Europe/Berlin"}


async def report(db: Database, **params: str) -> tuple[dict[str, Any], History]:
    async with db.sessionmaker() as session:
        history = await write_history(session)
        await session.commit()
    query = parse_query({**MARCH, **params}, default_tz="UTC")
    return await overview(db.sessionmaker, query, now=NOW), history


async def test_month_totals_match_the_hand_worked_figures(db: Database) -> None:
    result, _ = await report(db, group="month")
    assert [r["key"] for r in result["rows"]] == ["2026-03-01"]
    totals = result["totals"]
    assert result["rows"][0]["conversations"] == totals["conversations"] == 10
    assert totals["messages"] == {"contact": 13, "bot": 8, "agent": 4}
    assert totals["deflection"] == {"confirmed": 1, "assumed": 1, "share": 0.2}
    assert totals["handoffs"] == {
        "customer_request": 1,
        "keyword": 1,
        "not_helpful": 1,
        "unsure": 1,
    }
    # 150 (c1), 60 (c2, from its reopen, not 90 from its opening), 29 (c5).
    assert totals["first_response_minutes"] == {"count": 3, "median": 60.0, "average": 79.7}
    # 540 (c1, over two working days), 240 (c2 from its reopen), 89 (c5).
    assert totals["resolution_minutes"] == {"count": 3, "median": 240.0, "average": 289.7}
    assert totals["sla"] == {
        "first_response": {"met": 1, "missed": 2, "attainment": 0.3333},
        "resolution": {"met": 2, "missed": 1, "attainment": 0.6667},
    }
    assert totals["csat"] == {
        "average": 4.0,
        "distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1},
        "rated": 2,
        "resolved": 3,
        # No asks recorded in this history: every resolution counts as asked.
        "asked": 0,
        "answered": 0,
        "response_rate": 0.6667,
    }
    assert result["nps"] == {"enabled": False} and "nps" not in totals


async def test_days_and_weeks_follow_berlin_across_the_dst_change(db: Database) -> None:
    days, _ = await report(db, group="day")
    by_day = {r["key"]: r for r in days["rows"]}
    assert len(days["rows"]) == 31
    assert [by_day[f"2026-03-{d}"]["conversations"] for d in (28, 29, 30, 31)] == [0, 2, 1, 1]
    assert by_day["2026-03-02"]["first_response_minutes"]["median"] == 150.0
    # The reopened ticket's clock started on the 10th, not when it was opened on the 6th.
    assert by_day["2026-03-10"]["first_response_minutes"]["median"] == 60.0
    assert by_day["2026-03-06"]["first_response_minutes"]["count"] == 0
    assert by_day["2026-03-04"]["handoffs"] == {"not_helpful": 1, "unsure": 1}

    query = parse_query({**MARCH, "group": "week"}, default_tz="UTC")
    weeks = await overview(db.sessionmaker, query, now=NOW)
    by_week = {r["key"]: r["conversations"] for r in weeks["rows"]}
    assert by_week == {
        "2026-02-23": 0,
        "2026-03-02": 6,
        "2026-03-09": 0,
        "2026-03-16": 0,
        "2026-03-23": 2,
        "2026-03-30": 2,
    }


async def test_an_agent_counts_only_their_own_messages_never_the_bots(db: Database) -> None:
    _, history = await report(db)
    query = parse_query({**MARCH, "agent": str(history.agent_b)}, default_tz="UTC")
    result = await overview(db.sessionmaker, query, now=NOW)
    totals = result["totals"]
    assert totals["conversations"] == 1
    assert totals["messages"] == {"contact": 0, "bot": 0, "agent": 2}
    assert totals["first_response_minutes"]["median"] == 60.0

    query = parse_query(MARCH, default_tz="UTC")
    rows = (await breakdown(db.sessionmaker, query, "agent", now=NOW))["rows"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["Ada"]["conversations"] == 2
    assert by_name["Ada"]["messages"] == {"contact": 0, "bot": 0, "agent": 2}
    assert by_name["Ada"]["first_response_minutes"]["median"] == 89.5
    assert by_name["Bo"]["messages"]["agent"] == 2
    # Per agent, only agents' own messages count: the customers' and the bot's 21 in
    # Ada's, Bo's and unassigned conversations are nobody's.
    nobody = by_name["Nobody (bot or queue)"]
    assert nobody["conversations"] == 7
    assert nobody["messages"] == {"contact": 0, "bot": 0, "agent": 0}


async def test_breakdowns_by_team_channel_and_label(db: Database) -> None:
    _, history = await report(db)
    query = parse_query(MARCH, default_tz="UTC")
    teams = await breakdown(db.sessionmaker, query, "team", now=NOW)
    channels = await breakdown(db.sessionmaker, query, "channel", now=NOW)
    labels = await breakdown(db.sessionmaker, query, "label", now=NOW)
    assert {r["name"]: r["conversations"] for r in teams["rows"]} == {"Support": 4, "No team": 6}
    assert teams["rows"][0]["key"] == str(history.team_id)
    assert teams["totals"]["conversations"] == 10
    assert {r["key"]: r["conversations"] for r in channels["rows"]} == {
        "webchat": 5,
        "slack": 3,
        "email": 1,
        "telegram": 1,
    }
    assert {r["key"]: r["conversations"] for r in labels["rows"]} == {"billing": 2, "vip": 1}
    assert labels["totals"] is None
    vip = await overview(db.sessionmaker, parse_query({**MARCH, "label": "vip"}, default_tz="UTC"))
    assert vip["totals"]["conversations"] == 1
    assert vip["totals"]["handoffs"] == {"keyword": 1}


async def test_articles_that_ended_in_a_handoff(db: Database) -> None:
    await report(db)
    async with db.sessionmaker() as session:
        articles = await handoff_articles(session, parse_query(MARCH, default_tz="UTC"))
    assert articles == [
        {"slug": "refunds", "title": "Refunds", "url": "/kb/refunds", "handoffs": 2}
    ]


@pytest.mark.parametrize(
    ("params", "fault"),
    [
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"tz": "../etc"}, "IANA"),
        ({"from": "2026-13-01"}, "YYYY-MM-DD"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "after"),
        ({"from": "2024-01-01", "to": "2026-03-01"}, "at most 400 days"),
        ({"group": "hour"}, "'group'"),
        ({"agent": "-1"}, "'agent'"),
        ({"agent": "9999999999"}, "'agent'"),
        ({"label": "a" * 65}, "'label'"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(params: dict[str, str], fault: str) -> None:
    with pytest.raises(ReportError, match=fault):
        parse_query(params, default_tz="UTC", today=dt.date(2026, 3, 31))


def test_the_default_range_is_the_last_30_days_in_the_settings_zone() -> None:
    query = parse_query({}, default_tz="Europe/Berlin", today=dt.date(2026, 3, 31))
    assert (query.first_day, query.last_day, query.zone.key) == (
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 31),
        "Europe/Berlin",
    )
    assert query.start == dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC)
    assert query.end == dt.datetime(2026, 3, 31, 22, 0, tzinfo=dt.UTC)


async def test_record_message_keeps_the_facts_reports_read(db: Database) -> None:
    async with db.sessionmaker() as session:
        identity = await actions.resolve_identity(session, "webchat", "v-facts")
        conversation = await actions.current_conversation(session, identity)
        await actions.record_message(session, conversation, Author.CONTACT, "refund?")
        answer = await actions.record_message(
            session, conversation, Author.BOT, "Here is how", payload=CITED
        )
        assert conversation.last_answer_at == answer.created_at
        assert conversation.answer_followed_at is None
        thanks = await actions.record_message(session, conversation, Author.CONTACT, "thanks")
        await actions.record_message(session, conversation, Author.CONTACT, "bye")
        await actions.record_message(session, conversation, Author.BOT, "You're welcome")
        await session.commit()
    assert (conversation.contact_messages, conversation.bot_messages) == (3, 2)
    assert conversation.agent_messages == 0
    assert conversation.last_answer_at == answer.created_at  # "welcome" cites nothing
    assert conversation.answer_followed_at == thanks.created_at  # the first after it
