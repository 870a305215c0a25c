"""The admin API for rules, SLA policies and business calendars: admins only, bodies
validated (bad time zone, time, priority or trigger is a 400), changes announced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from omnidesk.bot.app import SERVICES, create_app
from omnidesk.config import Settings
from omnidesk.helpdesk import unit_of_work
from omnidesk.helpdesk.events import Event
from omnidesk.helpdesk.models import Team
from tests.accounts import client_bearer

AUTH: dict[str, dict[str, str]] = {}  # the test's accounts, filled by ``client``
OFFICE = {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "fri": [["09:00", "15:00"]]}


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: object
) -> AsyncIterator[TestClient[Any, Any]]:
    client = await aiohttp_client(create_app(settings))
    AUTH["admin"] = await client_bearer(client, "admin")
    AUTH["agent"] = await client_bearer(client, "agent")
    yield client


async def call(
    client: TestClient[Any, Any],
    method: str,
    path: str,
    body: Any = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Any:
    response = await client.request(
        method, path, json=body, headers=AUTH["admin"] if headers is None else headers
    )
    data = await response.json()
    assert response.status == status, data
    return data


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/admin/rules"),
        ("POST", "/api/v1/admin/rules"),
        ("PATCH", "/api/v1/admin/rules/1"),
        ("DELETE", "/api/v1/admin/rules/1"),
        ("GET", "/api/v1/admin/sla"),
        ("PUT", "/api/v1/admin/sla"),
        ("GET", "/api/v1/admin/calendars"),
        ("POST", "/api/v1/admin/calendars"),
        ("PATCH", "/api/v1/admin/calendars/1"),
        ("DELETE", "/api/v1/admin/calendars/1"),
    ],
)
async def test_admins_only(client: TestClient[Any, Any], method: str, path: str) -> None:
    assert (await call(client, method, path, {}, status=401, headers={}))["error"]["code"]
    body = await call(client, method, path, {}, status=403, headers=AUTH["agent"])
    assert body["error"]["code"] == "forbidden"


async def test_rules_crud_announces_changes(client: TestClient[Any, Any]) -> None:
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    services = client.app[SERVICES]
    services.bus.subscribe(record)
    async with unit_of_work(services.sessionmaker) as session:
        team = Team(name="VIP desk")
        session.add(team)
        await session.flush()
        team_id = team.id
    vip = {
        "name": "VIPs go straight to a person",
        "trigger": "attribute",
        "condition": {"attribute": "vip", "equals": True},
        "priority": "high",
        "team_id": team_id,
        "position": 1,
    }
    rule = (await call(client, "POST", "/api/v1/admin/rules", vip, status=201))["rule"]
    assert rule["reason"] == "attribute" and rule["enabled"] is True
    refund = {"name": "Refunds", "trigger": "keyword", "condition": {"keywords": [" refund "]}}
    second = (await call(client, "POST", "/api/v1/admin/rules", refund, status=201))["rule"]
    assert second["condition"] == {"keywords": ["refund"]}
    listed = (await call(client, "GET", "/api/v1/admin/rules"))["rules"]
    assert [r["id"] for r in listed] == [second["id"], rule["id"]]  # by position
    path = f"/api/v1/admin/rules/{rule['id']}"
    changed = (await call(client, "PATCH", path, {"enabled": False, "priority": None}))["rule"]
    assert changed["enabled"] is False and changed["priority"] is None
    assert changed["condition"] == vip["condition"]
    await call(client, "DELETE", path)
    await call(client, "GET", path, status=404)
    assert [e.kind for e in seen if e.kind == "rules_changed"] == ["rules_changed"] * 4


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"trigger": "keyword", "condition": {"keywords": ["x"]}}, "invalid"),
        ({"name": "r", "trigger": "moon_phase"}, "invalid"),
        ({"name": "r", "trigger": "keyword", "condition": {"keywords": []}}, "invalid"),
        ({"name": "r", "trigger": "channel", "condition": {"channels": "email"}}, "invalid"),
        ({"name": "r", "trigger": "attribute", "condition": {}}, "invalid"),
        ({"name": "r", "trigger": "unsure", "condition": {"turns": 0}}, "invalid"),
        ({"name": "r", "trigger": "unsure", "priority": "critical"}, "invalid"),
        ({"name": "r", "trigger": "unsure", "team_id": 999}, "unknown_team"),
        ({"name": "r", "trigger": "unsure", "enabled": "yes"}, "invalid"),
        ({"name": "r", "trigger": "unsure", "condition": []}, "invalid"),
    ],
)
async def test_bad_rules_are_400(
    client: TestClient[Any, Any], body: dict[str, Any], code: str
) -> None:
    data = await call(client, "POST", "/api/v1/admin/rules", body, status=400)
    assert data["error"]["code"] == code
    assert (await call(client, "GET", "/api/v1/admin/rules"))["rules"] == []


async def test_calendars_crud_and_validation(client: TestClient[Any, Any]) -> None:
    body = {"name": "Berlin office", "timezone": "Europe/Berlin", "weekly": OFFICE}
    body["holidays"] = ["2026-12-25"]
    created = (await call(client, "POST", "/api/v1/admin/calendars", body, status=201))["calendar"]
    assert created["weekly"] == OFFICE and created["holidays"] == ["2026-12-25"]
    await call(client, "POST", "/api/v1/admin/calendars", body, status=409)
    path = f"/api/v1/admin/calendars/{created['id']}"
    patched = (await call(client, "PATCH", path, {"timezone": "Europe/Lisbon"}))["calendar"]
    assert patched["timezone"] == "Europe/Lisbon" and patched["weekly"] == OFFICE
    for bad in (
        {"timezone": "Europe/Atlantis"},
        {"weekly": {"mon": [["18:00", "02:00"]]}},
        {"weekly": {"mon": [["9:00", "17:00"]]}},
        {"weekly": {"funday": [["09:00", "17:00"]]}},
        {"holidays": ["2026-02-30"]},
        {"name": ""},
    ):
        error = (await call(client, "PATCH", path, bad, status=400))["error"]
        assert error["code"] == "invalid" and error["message"]
    listed = (await call(client, "GET", "/api/v1/admin/calendars"))["calendars"]
    assert [c["timezone"] for c in listed] == ["Europe/Lisbon"]
    await call(client, "DELETE", path)
    await call(client, "GET", path, status=404)


async def test_sla_policies_replace_and_fall_back(client: TestClient[Any, Any]) -> None:
    policies = (await call(client, "GET", "/api/v1/admin/sla"))["policies"]
    assert {p["priority"]: p["source"] for p in policies} == dict.fromkeys(
        ("low", "normal", "high", "urgent"), "settings"
    )
    urgent = next(p for p in policies if p["priority"] == "urgent")
    assert (urgent["first_response_minutes"], urgent["resolution_minutes"]) == (30, 240)
    cal = {"name": "UK", "timezone": "Europe/London", "weekly": OFFICE}
    cal_id = (await call(client, "POST", "/api/v1/admin/calendars", cal, status=201))["calendar"]
    new = {
        "policies": [
            {
                "priority": "urgent",
                "first_response_minutes": 15,
                "resolution_minutes": 120,
                "calendar_id": cal_id["id"],
            }
        ]
    }
    got = {
        p["priority"]: p for p in (await call(client, "PUT", "/api/v1/admin/sla", new))["policies"]
    }
    assert got["urgent"]["source"] == "policy" and got["urgent"]["first_response_minutes"] == 15
    assert got["urgent"]["calendar_id"] == cal_id["id"] and got["low"]["source"] == "settings"
    # Replacing with none brings the settings' targets back.
    got = {
        p["priority"]: p
        for p in (await call(client, "PUT", "/api/v1/admin/sla", {"policies": []}))["policies"]
    }
    assert got["urgent"]["source"] == "settings"
    for bad in (
        {"policies": [{"priority": "asap", "first_response_minutes": 1, "resolution_minutes": 2}]},
        {"policies": [{"priority": "low", "first_response_minutes": 0, "resolution_minutes": 2}]},
        {"policies": [{"priority": "low", "first_response_minutes": "5", "resolution_minutes": 2}]},
        {"policies": [{"priority": "low", "first_response_minutes": 5}]},
        {"policies": "all"},
        {
            "policies": [
                {"priority": "low", "first_response_minutes": 5, "resolution_minutes": 9},
                {"priority": "low", "first_response_minutes": 5, "resolution_minutes": 9},
            ]
        },
    ):
        await call(client, "PUT", "/api/v1/admin/sla", bad, status=400)
    missing = {
        "policies": [
            {
                "priority": "low",
                "first_response_minutes": 5,
                "resolution_minutes": 9,
                "calendar_id": 999,
            }
        ]
    }
    error = (await call(client, "PUT", "/api/v1/admin/sla", missing, status=400))["error"]
    assert error["code"] == "unknown_calendar"
