"""NPS and the survey response rates in the reports, on a known set of survey sends
worked by hand: NPS = % promoters (9-10) - % detractors (0-6) of the answers; reported
only where the survey is on (else ``{"enabled": false}``), per period, agent and
channel, and in the CSV export. On SQLite and PostgreSQL (``db``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.bot.app import create_app
from omnidesk.config import Settings
from omnidesk.helpdesk import ChannelIdentity, Contact, Conversation, Ticket
from omnidesk.helpdesk.models import Agent, AgentRole, SurveySend
from omnidesk.reports import breakdown, overview, parse_query
from omnidesk.reports.nps import nps_summary
from tests.accounts import bearer
from tests.conftest import Database

NOW = dt.datetime(2026, 5, 31, 12, tzinfo=dt.UTC)
MAY = {"from": "2026-05-01", "to": "2026-05-31", "tz": "UTC"}
MAY_FIRST = dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)
# (channel, agent, day of May, score or None when unanswered). Week of 4 May: 10, 10,
# 9, 9, 9 (five promoters), 8, 7, 7 (three passives), 6, 0 (two detractors) and two
# unanswered: NPS (5 - 2) / 10 = 30, response rate 10/12. Email: 10, 10, 9, 6, 0 and
# one unanswered: (3 - 2) / 5 = 20. Webchat: 9, 9, 8, 7, 7 and one unanswered:
# (2 - 0) / 5 = 40.
NPS_SENDS = [
    ("email", "ada", 4, 10),
    ("email", "ada", 4, 10),
    ("email", "bo", 5, 9),
    ("email", "bo", 5, 6),
    ("email", "bo", 6, 0),
    ("email", "ada", 6, None),
    ("webchat", "ada", 5, 9),
    ("webchat", "ada", 5, 9),
    ("webchat", "bo", 7, 8),
    ("webchat", "bo", 7, 7),
    ("webchat", "bo", 8, 7),
    ("webchat", "bo", 8, None),
]
# CSAT questions asked: four in May, three answered (rate 0.75); one in April.
CSAT_SENDS = [(4, 5), (5, 4), (12, None), (20, 2)]


async def write_surveys(session: AsyncSession, first: dt.datetime = MAY_FIRST) -> None:
    """The sends above, day 1 being ``first`` (a month's first day, 10:00 UTC)."""
    agents = {
        name: Agent(name=name, email=f"{name}.nps@x.test", password_hash="-", role=AgentRole.AGENT)
        for name in ("ada", "bo")
    }
    session.add_all(agents.values())
    await session.flush()
    sends = [(c, agents[a].id, d, s, "nps") for c, a, d, s in NPS_SENDS]
    sends += [("webchat", agents["ada"].id, d, s, "csat") for d, s in CSAT_SENDS]
    sends.append(("webchat", agents["ada"].id, -1, 5, "csat"))  # 29 April: outside
    for n, (channel, agent_id, day, score, kind) in enumerate(sends):
        when = first + dt.timedelta(days=day - 1)
        contact = Contact(name=f"Surveyed {n}")
        session.add(contact)
        await session.flush()
        identity = ChannelIdentity(
            contact_id=contact.id, channel=channel, external_id=f"surveyed-{n}"
        )
        session.add(identity)
        await session.flush()
        conversation = Conversation(
            contact_id=contact.id, identity_id=identity.id, channel=channel, created_at=when
        )
        session.add(conversation)
        await session.flush()
        ticket = Ticket(
            conversation_id=conversation.id,
            contact_id=contact.id,
            subject="help",
            assignee_id=agent_id,
            state="resolved",
            resolved_at=when,
        )
        session.add(ticket)
        await session.flush()
        answered = when + dt.timedelta(hours=1) if score is not None else None
        session.add(
            SurveySend(
                contact_id=contact.id,
                kind=kind,
                ticket_id=ticket.id,
                conversation_id=conversation.id,
                sent_at=when,
                answered_at=answered,
                score=score,
            )
        )
    await session.commit()


def test_nps_is_promoters_less_detractors() -> None:
    scores = {10: 2, 9: 3, 8: 1, 7: 2, 6: 1, 0: 1}
    summary = nps_summary(Counter(scores), 12)
    assert summary == {
        "score": 30.0,
        "promoters": 5,
        "passives": 3,
        "detractors": 2,
        "answered": 10,
        "sent": 12,
        "response_rate": 0.8333,
        "distribution": {"0": 1, "1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 1,
                         "7": 2, "8": 1, "9": 3, "10": 2},
    }  # fmt: skip
    assert nps_summary(Counter(), 0)["score"] is None


async def test_nps_in_the_overview_only_when_the_survey_is_on(db: Database) -> None:
    async with db.sessionmaker() as session:
        await write_surveys(session)
    query = parse_query({**MAY, "group": "week"}, default_tz="UTC")
    off = await overview(db.sessionmaker, query, now=NOW)
    assert off["nps"] == {"enabled": False}
    assert all("nps" not in row for row in off["rows"])
    # The CSAT response rate is answered over asked, from the survey sends.
    assert off["totals"]["csat"]["asked"] == 4 and off["totals"]["csat"]["answered"] == 3
    assert off["totals"]["csat"]["response_rate"] == 0.75

    on = await overview(db.sessionmaker, query, now=NOW, nps=True)
    nps = on["nps"]
    assert nps["enabled"] is True
    assert (nps["score"], nps["promoters"], nps["passives"], nps["detractors"]) == (30.0, 5, 3, 2)
    assert (nps["answered"], nps["sent"], nps["response_rate"]) == (10, 12, 0.8333)
    assert on["totals"]["nps"]["score"] == 30.0
    weeks = {r["key"]: r["nps"] for r in on["rows"]}
    # Week of 27 April: the 1st to the 3rd (nothing); of 4 May: every NPS survey.
    assert weeks["2026-04-27"]["sent"] == 0 and weeks["2026-04-27"]["score"] is None
    assert weeks["2026-05-04"]["score"] == 30.0


async def test_nps_per_channel_and_agent(db: Database) -> None:
    async with db.sessionmaker() as session:
        await write_surveys(session)
    query = parse_query(MAY, default_tz="UTC")
    channels = await breakdown(db.sessionmaker, query, "channel", now=NOW, nps=True)
    by_channel = {r["key"]: r["nps"] for r in channels["rows"]}
    assert by_channel["email"]["score"] == 20.0 and by_channel["email"]["sent"] == 6
    assert by_channel["webchat"]["score"] == 40.0 and by_channel["webchat"]["answered"] == 5
    # Ada: 10, 10, 9, 9 and one unanswered: 100. Bo: 9, 6, 0, 8, 7, 7, and one
    # unanswered: (1 - 2) / 6 = -16.7.
    agents = await breakdown(db.sessionmaker, query, "agent", now=NOW, nps=True)
    by_agent = {r["name"]: r["nps"] for r in agents["rows"]}
    assert by_agent["ada"]["score"] == 100.0 and by_agent["ada"]["sent"] == 5
    assert by_agent["bo"]["score"] == -16.7 and by_agent["bo"]["detractors"] == 2


async def test_the_csv_export_carries_the_nps(
    aiohttp_client: Any, settings: Settings, db: Database
) -> None:
    async with db.sessionmaker() as session:
        await write_surveys(session)
    settings.escalation.nps_enabled = True
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    admin = await bearer(db.sessionmaker, "admin", "root@example.test")
    params = "from=2026-05-01&to=2026-05-31&tz=UTC"
    response = await client.get(f"/api/v1/reports/overview.csv?{params}&group=month", headers=admin)
    assert response.status == 200
    [row] = list(csv.DictReader(io.StringIO(await response.text())))
    assert row["nps_score"] == "30.0" and row["nps_distribution_10"] == "2"
    assert row["csat_response_rate"] == "0.75"
    response = await client.get(f"/api/v1/reports/overview?{params}", headers=admin)
    assert (await response.json())["nps"]["score"] == 30.0
