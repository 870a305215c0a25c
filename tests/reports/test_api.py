"""The reports over HTTP: admins read the figures as JSON and CSV, agents are refused,
wrong parameters are a 400 that says why, and the unanswered topics carry the same ids
as the Gaps view they link to."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from omnidesk.bot.app import create_app
from omnidesk.config import Settings
from tests.accounts import bearer
from tests.conftest import Database
from tests.reports.history import write_history

Client = TestClient[Any, Any]
MARCH = "from=2026-03-01&to=2026-03-31&tz=Europe/Berlin"


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, db: Database) -> AsyncIterator[Client]:
    async with db.sessionmaker() as session:
        await write_history(session)
        await session.commit()
    yield await aiohttp_client(create_app(settings))


async def test_admin_reads_json_and_csv_agents_are_refused(client: Client, db: Database) -> None:
    admin = await bearer(db.sessionmaker, "admin", "root@example.test")
    response = await client.get(f"/api/v1/reports/overview?{MARCH}&group=week", headers=admin)
    assert response.status == 200
    report = await response.json()
    assert report["rows"][0]["key"] == "2026-02-23"
    assert report["totals"]["conversations"] == 10
    assert report["query"]["tz"] == "Europe/Berlin"

    response = await client.get(f"/api/v1/reports/overview.csv?{MARCH}&group=day", headers=admin)
    assert response.status == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="report-day.csv"'
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert len(rows) == 31
    by_day = {r["key"]: r for r in rows}
    assert by_day["2026-03-29"]["conversations"] == "2"
    assert by_day["2026-03-02"]["first_response_minutes_median"] == "150.0"
    assert by_day["2026-03-04"]["handoffs_unsure"] == "1"

    response = await client.get(f"/api/v1/reports/channels.csv?{MARCH}", headers=admin)
    channels = {
        r["key"]: r["conversations"] for r in csv.DictReader(io.StringIO(await response.text()))
    }
    assert channels == {"webchat": "5", "slack": "3", "email": "1", "telegram": "1"}

    agent = await bearer(db.sessionmaker, "agent", "dana@example.test")
    for path in ("overview", "agents", "topics", "labels.csv"):
        response = await client.get(f"/api/v1/reports/{path}?{MARCH}", headers=agent)
        assert response.status == 403, path


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("tz=Nowhere/Land", "unknown time zone"),
        ("from=yesterday", "YYYY-MM-DD"),
        ("from=2020-01-01&to=2026-01-01", "at most 400 days"),
        ("group=year", "'group'"),
        ("team=abc", "'team'"),
        ("channel=%3Cscript%3E", "'channel'"),
    ],
)
async def test_wrong_parameters_are_a_400_that_says_why(
    client: Client, db: Database, query: str, says: str
) -> None:
    admin = await bearer(db.sessionmaker, "admin", "root@example.test")
    for path in ("overview", "teams.csv", "topics"):
        response = await client.get(f"/api/v1/reports/{path}?{query}", headers=admin)
        assert response.status == 400, path
        assert says in (await response.json())["error"]["message"]


async def test_topics_link_to_gaps_and_name_handoff_articles(client: Client, db: Database) -> None:
    admin = await bearer(db.sessionmaker, "admin", "root@example.test")
    response = await client.get(f"/api/v1/reports/topics?{MARCH}", headers=admin)
    assert response.status == 200
    report = await response.json()
    assert report["articles"] == [
        {"slug": "refunds", "title": "Refunds", "url": "/kb/refunds", "handoffs": 2}
    ]
    gaps = await (await client.get("/api/v1/kb/gaps?days=3650", headers=admin)).json()
    assert report["topics"]
    assert {t["id"] for t in report["topics"]} <= {t["id"] for t in gaps["topics"]}
    titles = {t["title"] for t in report["topics"]}
    assert "refund?" in titles  # the answer marked not helpful

    response = await client.get(f"/api/v1/reports/topics.csv?{MARCH}", headers=admin)
    lines = list(csv.DictReader(io.StringIO(await response.text())))
    assert {"kind": "article", "id": "refunds", "title": "Refunds", "count": "2"} in lines
