"""The agents' work routes over HTTP: replies that would cross another person's ask
first (409 ``newer_reply``), notes, views with counts and unread, labels, priority,
state, canned responses, notifications, contacts with merge and un-merge, and bad
bodies answered with 4xx, never 500.

The routes take their guard from the app; here a guard that signs in the agent whose id
the ``X-Agent`` header names stands in for the accounts' one, so several agents can act.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from omnidesk.bot.middlewares import json_errors
from omnidesk.helpdesk import Actor, EventBus, OutboxItem, unit_of_work
from omnidesk.helpdesk.canned_api import CannedAPI
from omnidesk.helpdesk.contacts_api import ContactsAPI
from omnidesk.helpdesk.http import ACTOR_KEY, json_error
from omnidesk.helpdesk.models import Agent, AgentRole
from omnidesk.helpdesk.work_api import WorkAPI
from omnidesk.helpdesk.work_http import Handler
from tests.conftest import Database
from tests.helpdesk.work_helpers import add_agent, add_team, customer_conversation

Client = TestClient[Any, Any]


@pytest.fixture
async def client(aiohttp_client: Any, db: Database) -> AsyncIterator[Client]:
    def guard(role: AgentRole, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            raw = request.headers.get("X-Agent", "")
            async with db.sessionmaker() as session:
                agent = await session.get(Agent, int(raw)) if raw.isdigit() else None
            if agent is None:
                return json_error(401, "unauthorized", "sign in first")
            request[ACTOR_KEY] = Actor(agent.name, agent.id, AgentRole(agent.role), agent.email)
            return await handler(request)

        return guarded

    app = web.Application(middlewares=[json_errors])
    bus = EventBus()
    for part in (WorkAPI, CannedAPI, ContactsAPI):
        app.router.add_routes(part(db.sessionmaker, bus, guard).routes())
    yield await aiohttp_client(app)


@pytest.fixture
async def world(db: Database) -> dict[str, int]:
    """Two agents in one team and a queued web chat conversation of Ana's."""
    async with unit_of_work(db.sessionmaker) as session:
        team = await add_team(session, "Support")
        dana = await add_agent(session, "Dana Scully", "dana@example.com", team=team)
        fox = await add_agent(session, "Fox Mulder", "fox@example.com", team=team)
        conversation = await customer_conversation(
            session, "v-ana", "where is my order?", name="Ana"
        )
        assert dana.agent_id and fox.agent_id
        return {
            "dana": dana.agent_id,
            "fox": fox.agent_id,
            "team": team.id,
            "conversation": conversation.id,
            "contact": conversation.contact_id,
        }


async def call(
    client: Client, agent: int, method: str, path: str, body: Any = None, status: int = 200
) -> Any:
    kwargs: dict[str, Any] = {"headers": {"X-Agent": str(agent)}}
    if isinstance(body, str | bytes):
        kwargs["data"] = body
    elif body is not None:
        kwargs["json"] = body
    response = await client.request(method, "/api/v1" + path, **kwargs)
    data = await response.json()
    assert response.status == status, data
    return data


async def test_sending_after_another_persons_reply_asks_first(
    client: Client, world: dict[str, int]
) -> None:
    conv = f"/conversations/{world['conversation']}"
    detail = await call(client, world["dana"], "GET", conv)
    seen = detail["messages"][-1]["id"]
    # Fox replies while Dana is still typing.
    await call(client, world["fox"], "POST", conv + "/messages", {"text": "On it!"}, 201)
    crossed = await call(
        client,
        world["dana"],
        "POST",
        conv + "/messages",
        {"text": "Let me check", "last_seen_message_id": seen},
        409,
    )
    assert crossed["error"]["code"] == "newer_reply"
    assert "Fox Mulder" in crossed["error"]["message"]
    # Dana confirms: sent without the marker.
    sent = await call(
        client, world["dana"], "POST", conv + "/messages", {"text": "Let me check"}, 201
    )
    # Her own reply never counts as someone else's.
    await call(
        client,
        world["dana"],
        "POST",
        conv + "/messages",
        {"text": "Found it", "last_seen_message_id": sent["message"]["id"] - 1},
        201,
    )
    # A note is not a reply to the customer either.
    last = (await call(client, world["fox"], "GET", conv))["messages"][-1]["id"]
    await call(client, world["dana"], "POST", conv + "/notes", {"text": "fyi"}, 201)
    await call(
        client,
        world["fox"],
        "POST",
        conv + "/messages",
        {"text": "ok", "last_seen_message_id": last},
        201,
    )


async def test_note_over_http_is_private_and_mentions_notify(
    client: Client, world: dict[str, int], db: Database
) -> None:
    conv = f"/conversations/{world['conversation']}"
    note = await call(
        client,
        world["dana"],
        "POST",
        conv + "/notes",
        {"text": "@fox mulder can you take it?"},
        201,
    )
    assert note["message"]["private"] is True and note["mentioned"] == [world["fox"]]
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(OutboxItem))).all() == []
    detail = await call(client, world["fox"], "GET", conv)
    assert detail["messages"][-1]["private"] is True
    inbox = await call(client, world["fox"], "GET", "/notifications")
    [mention] = inbox["notifications"]
    assert (mention["kind"], mention["conversation_id"], inbox["unread"]) == (
        "mention",
        world["conversation"],
        1,
    )
    assert (await call(client, world["dana"], "GET", "/notifications"))["notifications"] == []
    # Dana cannot mark Fox's notification read; Fox can.
    assert (
        await call(client, world["dana"], "POST", "/notifications/read", {"ids": [mention["id"]]})
    )["read"] == 0
    assert (
        await call(client, world["fox"], "POST", "/notifications/read", {"ids": [mention["id"]]})
    )["read"] == 1
    assert (await call(client, world["fox"], "GET", "/notifications?unread=1"))[
        "notifications"
    ] == []


async def test_views_counts_unread_and_the_work_on_one_conversation(
    client: Client, world: dict[str, int]
) -> None:
    conv = f"/conversations/{world['conversation']}"
    listing = await call(client, world["dana"], "GET", "/conversations?view=unassigned")
    assert [c["id"] for c in listing["conversations"]] == [world["conversation"]]
    assert listing["counts"] == {"mine": 0, "unassigned": 1, "teams": 0, "all": 1}
    assert listing["conversations"][0]["unread"] == 1

    assigned = await call(
        client,
        world["fox"],
        "POST",
        conv + "/assign",
        {"agent_id": world["dana"], "team_id": world["team"]},
    )
    assert assigned["conversation"]["assignee"] == {"id": world["dana"], "name": "Dana Scully"}
    assert assigned["conversation"]["team"] == {"id": world["team"], "name": "Support"}
    # Dana is told; Fox, who did it, is not.
    [told] = (await call(client, world["dana"], "GET", "/notifications"))["notifications"]
    assert told["kind"] == "assigned"
    mine = await call(client, world["dana"], "GET", "/conversations?view=mine")
    assert mine["counts"] == {"mine": 1, "unassigned": 0, "teams": 1, "all": 1}
    assert (await call(client, world["fox"], "GET", "/conversations?view=mine"))[
        "conversations"
    ] == []

    detail = await call(client, world["dana"], "GET", conv)
    last = detail["messages"][-1]["id"]
    await call(client, world["dana"], "POST", conv + "/read", {"message_id": last})
    mine = await call(client, world["dana"], "GET", "/conversations?view=mine")
    assert mine["conversations"][0]["unread"] == 0

    labelled = await call(
        client, world["dana"], "PUT", conv + "/labels", {"labels": ["VIP", "refund"]}
    )
    assert labelled["conversation"]["labels"] == ["refund", "vip"]
    urgent = await call(client, world["dana"], "POST", conv + "/priority", {"priority": "urgent"})
    assert urgent["conversation"]["priority"] == "urgent"
    filtered = await call(
        client, world["dana"], "GET", "/conversations?view=all&label=vip&priority=urgent"
    )
    assert len(filtered["conversations"]) == 1
    snoozed = await call(
        client,
        world["dana"],
        "POST",
        conv + "/state",
        {"state": "snoozed", "snoozed_until": "2999-01-01T09:00:00+02:00"},
    )
    assert snoozed["conversation"]["state"] == "snoozed"
    assert snoozed["conversation"]["snoozed_until"].startswith("2999-01-01T07:00:00")
    await call(client, world["dana"], "POST", conv + "/assign", {"agent_id": None})
    back = await call(client, world["dana"], "POST", conv + "/state", {"state": "open"})
    assert back["conversation"]["state"] == "queued" and back["conversation"]["assignee"] is None
    resolved = await call(client, world["dana"], "POST", conv + "/state", {"state": "resolved"})
    assert resolved["conversation"]["state"] == "resolved"
    closed = await call(client, world["dana"], "POST", conv + "/state", {"state": "closed"})
    assert closed["conversation"]["state"] == "closed"
    refused = await call(client, world["dana"], "POST", conv + "/state", {"state": "open"}, 409)
    assert refused["error"]["code"] == "closed"


async def test_canned_responses_over_http(client: Client, world: dict[str, int]) -> None:
    dana = world["dana"]
    made = await call(
        client,
        dana,
        "POST",
        "/canned",
        {
            "short_code": "hi",
            "title": "Greeting",
            "body": "Hi {{contact.name}}, {{agent.name}} here",
        },
        201,
    )
    canned_id = made["canned"]["id"]
    dup = await call(client, dana, "POST", "/canned", {"short_code": "hi", "body": "x"}, 409)
    assert dup["error"]["code"] == "duplicate"
    rendered = await call(
        client,
        dana,
        "POST",
        f"/canned/{canned_id}/render",
        {"conversation_id": world["conversation"]},
    )
    assert rendered == {"text": "Hi Ana, Dana Scully here"}
    await call(client, dana, "PATCH", f"/canned/{canned_id}", {"title": "Hello"})
    [listed] = (await call(client, dana, "GET", "/canned"))["canned"]
    assert (listed["short_code"], listed["title"]) == ("hi", "Hello")
    await call(client, dana, "DELETE", f"/canned/{canned_id}")
    await call(client, dana, "DELETE", f"/canned/{canned_id}", status=404)
    assert (await call(client, dana, "GET", "/canned"))["canned"] == []
    directory = await call(client, dana, "GET", "/directory")
    assert [a["name"] for a in directory["agents"]] == ["Dana Scully", "Fox Mulder"]
    assert directory["teams"] == [{"id": world["team"], "name": "Support"}]


async def test_contact_panel_merge_and_unmerge_over_http(
    client: Client, world: dict[str, int], db: Database
) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        other = await customer_conversation(
            session, "ana@example.com", "by mail", channel="email", email="ana@example.com"
        )
        other_id = other.contact_id
    dana, keep = world["dana"], world["contact"]
    merged = await call(client, dana, "POST", f"/contacts/{keep}/merge", {"contact_id": other_id})
    assert merged["contact_id"] == keep
    panel = (await call(client, dana, "GET", f"/contacts/{keep}"))["contact"]
    assert panel["emails"] == ["ana@example.com"] and len(panel["conversations"]) == 2
    assert [m["contact_id"] for m in panel["merges"]] == [other_id]
    await call(client, dana, "GET", f"/contacts/{other_id}", status=404)
    restored = await call(
        client, dana, "POST", f"/contacts/{keep}/unmerge", {"contact_id": other_id}
    )
    assert restored["restored_contact_id"] == other_id
    back = (await call(client, dana, "GET", f"/contacts/{other_id}"))["contact"]
    assert [c["id"] for c in back["conversations"]] == [other.id]
    again = await call(
        client, dana, "POST", f"/contacts/{keep}/unmerge", {"contact_id": other_id}, 404
    )
    assert again["error"]["code"] == "not_found"
    timeline = await call(client, dana, "GET", f"/contacts/{keep}/timeline")
    kinds = [e["kind"] for e in timeline["events"]]
    assert "contacts_merged" in kinds and "contacts_unmerged" in kinds
    detail = await call(client, dana, "GET", f"/conversations/{world['conversation']}")
    assert detail["contact"]["id"] == keep and detail["contact"]["merges"] == []


BAD = [
    ("POST", "/messages", "not json", "bad_json"),
    ("POST", "/messages", "[1, 2]", "bad_json"),
    ("POST", "/messages", {"text": ""}, "invalid"),
    ("POST", "/messages", {"text": "x" * 10_001}, "too_long"),
    ("POST", "/messages", {"text": "hi", "last_seen_message_id": "7"}, "invalid"),
    ("POST", "/messages", {"text": "hi", "last_seen_message_id": 2**40}, "invalid"),
    ("POST", "/notes", {"text": 5}, "invalid"),
    ("POST", "/assign", {"agent_id": 999_999}, "invalid"),
    ("POST", "/assign", {"agent_id": True}, "invalid"),
    ("POST", "/assign", {"agent_id": None, "team_id": 999_999}, "invalid"),
    ("POST", "/state", {"state": "bot"}, "invalid"),
    ("POST", "/state", {"state": "snoozed"}, "invalid"),
    ("POST", "/state", {"state": "snoozed", "snoozed_until": "tomorrow"}, "invalid"),
    ("POST", "/state", {"state": "snoozed", "snoozed_until": "2999-01-01T09:00:00"}, "invalid"),
    ("POST", "/state", {"state": "snoozed", "snoozed_until": "2000-01-01T09:00:00Z"}, "invalid"),
    ("POST", "/priority", {"priority": "whenever"}, "invalid"),
    ("PUT", "/labels", {"labels": "vip"}, "invalid"),
    ("PUT", "/labels", {"labels": [1]}, "invalid"),
    ("PUT", "/labels", {"labels": ["x" * 65]}, "invalid"),
    ("POST", "/read", {"message_id": -1}, "invalid"),
    ("POST", "/read", {"message_id": 999_999}, "not_found"),
]


@pytest.mark.parametrize(("method", "suffix", "body", "code"), BAD)
async def test_bad_bodies_are_4xx_and_change_nothing(
    client: Client, world: dict[str, int], method: str, suffix: str, body: Any, code: str
) -> None:
    conv = f"/conversations/{world['conversation']}"
    before = await call(client, world["dana"], "GET", conv)
    status = 404 if code == "not_found" else 400
    answer = await call(client, world["dana"], method, conv + suffix, body, status)
    assert answer["error"]["code"] == code
    after = await call(client, world["dana"], "GET", conv)
    assert after["messages"] == before["messages"]
    assert after["conversation"]["state"] == before["conversation"]["state"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/conversations?view=elsewhere", None, 400),
        ("GET", "/conversations?state=asleep", None, 400),
        ("GET", "/conversations?priority=whenever", None, 400),
        ("GET", "/conversations?assignee_id=abc", None, 400),
        ("GET", "/conversations?team_id=99999999999999999999", None, 400),
        ("GET", "/conversations?label=" + "x" * 65, None, 400),
        ("GET", "/conversations/99999999999999999999", None, 404),
        ("GET", "/conversations/123456", None, 404),
        ("POST", "/conversations/123456/notes", {"text": "x"}, 404),
        ("GET", "/contacts/123456", None, 404),
        ("GET", "/contacts/123456/timeline", None, 404),
        ("POST", "/contacts/123456/merge", {"contact_id": 1}, 404),
        ("POST", "/contacts/123456/unmerge", {}, 400),
        ("POST", "/canned", {"short_code": "has space", "body": "x"}, 400),
        ("POST", "/canned", {"short_code": "ok"}, 400),
        ("PATCH", "/canned/123456", {"title": "x"}, 404),
        ("POST", "/canned/123456/render", {"conversation_id": 1}, 404),
        ("POST", "/notifications/read", {"ids": "all"}, 400),
        ("POST", "/notifications/read", {"ids": [None]}, 400),
    ],
)
async def test_bad_requests_elsewhere(
    client: Client, world: dict[str, int], method: str, path: str, body: Any, status: int
) -> None:
    await call(client, world["dana"], method, path, body, status)


async def test_merging_a_contact_with_itself_is_refused(
    client: Client, world: dict[str, int]
) -> None:
    contact = world["contact"]
    refused = await call(
        client, world["dana"], "POST", f"/contacts/{contact}/merge", {"contact_id": contact}, 409
    )
    assert refused["error"]["code"] == "same_contact"


async def test_no_caller_is_401(client: Client, world: dict[str, int]) -> None:
    response = await client.get("/api/v1/conversations")
    assert response.status == 401
