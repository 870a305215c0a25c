"""The audit log: admins' and agents' actions over the real app land in it with who,
what, which record, when and from which address; the system's own housekeeping does not;
admins read and export it (filters, pages, CSV that a spreadsheet will not run); nobody
can change or remove an entry, not even with SQL."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from omnidesk.bot.app import create_app
from omnidesk.config import Settings
from omnidesk.helpdesk import SYSTEM, Actor, actions, unit_of_work
from omnidesk.helpdesk.models import AgentRole, AuditEntry
from tests.accounts import PASSWORD, add_agent, bearer
from tests.conftest import Database
from tests.helpdesk.work_helpers import customer_conversation

Client = TestClient[Any, Any]
AUDIT = "/api/v1/admin/audit"


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, db: Database) -> AsyncIterator[Client]:
    yield await aiohttp_client(create_app(settings))


async def call(
    client: Client, headers: dict[str, str], method: str, path: str, body: Any = None
) -> Any:
    response = await client.request(method, path, json=body, headers=headers)
    data = await response.json()
    assert response.status < 300, data
    return data


async def entries(client: Client, admin: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    return list((await call(client, admin, "GET", f"{AUDIT}?{query}"))["entries"])


async def test_admin_and_agent_actions_are_recorded_with_who_what_and_where(
    client: Client, db: Database
) -> None:
    admin = await bearer(db.sessionmaker, "admin", "root@example.test", "Root")
    agent = await bearer(db.sessionmaker, "agent", "dana@example.test", "Dana")
    created = await call(
        client, admin, "POST", "/api/v1/agents", {"email": "fox@example.test", "password": PASSWORD}
    )
    fox_id = created["agent"]["id"]
    await call(
        client,
        admin,
        "POST",
        "/api/v1/admin/rules",
        {
            "name": "VIP",
            "trigger": "keyword",
            "condition": {"keywords": ["refund"]},
        },
    )
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await customer_conversation(session, "v-ana", "where is my parcel?")
    one = f"/api/v1/conversations/{conversation.id}"
    await call(client, agent, "POST", one + "/messages", {"text": "On its way, Ana."})
    await call(client, agent, "POST", one + "/notes", {"text": "tracking 123"})

    log = await entries(client, admin)
    # Newest first; the fixture's own accounts were made by the system, so are not here.
    assert [e["action"] for e in log] == [
        "conversation.note",
        "conversation.replied",
        "conversation.assigned",
        "rule.created",
        "agent.created",
    ]
    by_action = {e["action"]: e for e in log}
    assert by_action["agent.created"]["actor_name"] == "Root"
    assert by_action["agent.created"]["actor_role"] == "admin"
    assert by_action["agent.created"]["target"] == f"agent:{fox_id}"
    assert by_action["agent.created"]["ip"] == "127.0.0.1"
    reply = by_action["conversation.replied"]
    assert (reply["actor_name"], reply["target"]) == ("Dana", f"conversation:{conversation.id}")
    assert reply["data"]["message_id"] > 0
    # Entries name records, never what anyone wrote.
    flat = repr(log)
    for words in ("On its way", "tracking 123", "where is my parcel"):
        assert words not in flat


async def test_system_housekeeping_is_not_a_persons_action(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await customer_conversation(session, "v-bo", "help")
        await actions.assign(session, conversation, None, by=SYSTEM)
        await actions.create_canned(session, "hi", "Hello!", SYSTEM)
    async with db.sessionmaker() as session:
        assert (await session.scalar(text("SELECT count(*) FROM audit_log"))) == 0


async def test_sign_ins_and_failed_tries_carry_the_address(client: Client, db: Database) -> None:
    admin = await bearer(db.sessionmaker, "admin")
    await add_agent(db.sessionmaker, "ann@example.test", name="Ann")
    login = "/api/v1/auth/login"
    ok = await client.post(login, json={"email": "ann@example.test", "password": PASSWORD})
    assert ok.status == 200
    bad = await client.post(login, json={"email": "ann@example.test", "password": "nope-nope"})
    assert bad.status == 401
    log = await entries(client, admin, "action=session.")
    assert [e["action"] for e in log] == ["session.sign_in_failed", "session.signed_in"]
    failed, signed_in = log
    assert (signed_in["actor_name"], signed_in["ip"]) == ("Ann", "127.0.0.1")
    assert (failed["actor_id"], failed["ip"], failed["data"]) == (
        None,
        "127.0.0.1",
        {"email": "ann@example.test"},
    )


async def test_filters_pages_and_bad_queries(client: Client, db: Database) -> None:
    admin = await bearer(db.sessionmaker, "admin", "root@example.test")
    for n in range(5):
        await call(client, admin, "POST", "/api/v1/teams", {"name": f"Team {n}"})
    teams = await entries(client, admin, "action=team.created")
    assert len(teams) == 5
    first = await call(client, admin, "GET", f"{AUDIT}?action=team.&limit=2")
    assert [e["target"] for e in first["entries"]] == [t["target"] for t in teams[:2]]
    second = await call(
        client, admin, "GET", f"{AUDIT}?action=team.&limit=2&before_id={first['next_before_id']}"
    )
    assert [e["target"] for e in second["entries"]] == [t["target"] for t in teams[2:4]]
    one = teams[-1]["target"]
    assert [e["target"] for e in await entries(client, admin, f"target={one}")] == [one]
    root_id = teams[0]["actor_id"]
    assert len(await entries(client, admin, f"actor_id={root_id}")) == 5
    assert await entries(client, admin, "since=2999-01-01T00:00:00Z") == []
    assert len(await entries(client, admin, "until=2999-01-01T00:00:00%2B02:00")) == 5
    for query in (
        "limit=0",
        "limit=201",
        "since=yesterday",
        "since=2026-01-01",
        "actor_id=-1",
        "action=" + "x" * 65,
        "before_id=abc",
    ):
        response = await client.get(f"{AUDIT}?{query}", headers=admin)
        assert response.status == 400, query


async def test_agents_cannot_read_it(client: Client, db: Database) -> None:
    agent = await bearer(db.sessionmaker, "agent")
    for path in (AUDIT, AUDIT + ".csv"):
        response = await client.get(path, headers=agent)
        assert response.status == 403


async def test_csv_export_holds_every_entry_and_defuses_formulas(
    client: Client, db: Database
) -> None:
    admin = await bearer(db.sessionmaker, "admin", "root@example.test")
    await call(client, admin, "POST", "/api/v1/teams", {"name": '=HYPERLINK("x")'})
    await add_agent(db.sessionmaker, "ann@example.test", name="Ann")
    for _ in range(3):
        await client.post("/api/v1/auth/login", json={"email": "=1+1", "password": "x"})
    response = await client.get(AUDIT + ".csv", headers=admin)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["action"] for r in rows] == ["session.sign_in_failed"] * 3 + ["team.created"]
    assert all(not r["data"].startswith("=") for r in rows)
    assert rows[0]["data"] == '{"email": "=1+1"}'  # JSON text starts with "{": harmless
    assert len(rows) == len(await entries(client, admin, "limit=200"))


async def test_nobody_can_change_or_remove_an_entry(db: Database) -> None:
    root = Actor("Root", 1, AgentRole.ADMIN, ip="10.0.0.9")
    async with unit_of_work(db.sessionmaker) as session:
        await actions.create_team(session, {"name": "Night shift"}, root)
    statements = (
        "UPDATE audit_log SET actor_name = 'someone else'",
        "DELETE FROM audit_log",
        *(("TRUNCATE audit_log",) if db.backend == "postgresql" else ()),
    )
    for statement in statements:
        async with db.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
    async with db.sessionmaker() as session:
        entry = await session.scalar(select(AuditEntry))
        assert entry is not None
        assert (entry.actor_name, entry.ip, entry.action) == ("Root", "10.0.0.9", "team.created")
