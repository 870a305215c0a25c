"""The admin API for webhooks: admins only; bodies validated with clear 400s; the secret
shown whole on create and rotate only; a test ping and a retry queue deliveries; the
deliveries list pages newest first; every change is in the audit log."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from omnidesk.bot.app import SERVICES
from omnidesk.helpdesk.models import AuditEntry, WebhookDelivery
from tests.helpdesk import test_policies_api as admin_api_tests

# The signed-in test client (a pytest fixture) and call helper of the other admin API's
# tests: an admin's and an agent's token in AUTH.
AUTH, call, client = admin_api_tests.AUTH, admin_api_tests.call, admin_api_tests.client
BASE = "/api/v1/admin/webhooks"
GOOD = {"url": "https://hooks.example.com/omnidesk?k=1", "events": ["conversation.resolved"]}


# Every route, with ids that name nothing: the role is checked before the record.
ROUTES = [
    ("GET", BASE),
    ("POST", BASE),
    ("GET", f"{BASE}/1"),
    ("PATCH", f"{BASE}/1"),
    ("DELETE", f"{BASE}/1"),
    ("POST", f"{BASE}/1/rotate"),
    ("POST", f"{BASE}/1/test"),
    ("GET", f"{BASE}/1/deliveries"),
    ("POST", f"{BASE}/1/deliveries/1/retry"),
]


async def test_admins_only(client: TestClient[Any, Any]) -> None:
    for method, path in ROUTES:
        await call(client, method, path, GOOD, status=401, headers={})
        body = await call(client, method, path, GOOD, status=403, headers=AUTH["agent"])
        assert body["error"]["code"] == "forbidden", (method, path)


BAD_BODIES = [
    ({"events": ["contact.created"]}, "'url'"),
    ({**GOOD, "url": "ftp://files.example.com/x"}, "http or https"),
    ({**GOOD, "url": "javascript:alert(1)"}, "http or https"),
    ({**GOOD, "url": "https://"}, "with a host"),
    ({**GOOD, "url": "https://example.com:99999/"}, "not a valid address"),
    ({**GOOD, "url": "https://example.com/a b"}, "spaces"),
    ({**GOOD, "url": "https://example.com/" + "a" * 2001}, "longer than 2000"),
    ({**GOOD, "url": 42}, "'url'"),
    ({**GOOD, "events": []}, "non-empty list"),
    ({**GOOD, "events": "contact.created"}, "non-empty list"),
    ({**GOOD, "events": ["contact.deleted"]}, "unknown event 'contact.deleted'"),
    ({**GOOD, "events": ["ping"]}, "unknown event 'ping'"),
    ({**GOOD, "active": "yes"}, "'active'"),
    ({**GOOD, "description": "x" * 501}, "'description'"),
    ([GOOD], "JSON object"),
]


async def test_bad_bodies_are_400(client: TestClient[Any, Any]) -> None:
    for body, says in BAD_BODIES:
        refused = await call(client, "POST", BASE, body, status=400)
        assert says in refused["error"]["message"], body
    assert (await call(client, "GET", BASE))["webhooks"] == []


async def test_webhook_life_and_its_audit_trail(client: TestClient[Any, Any]) -> None:
    made = (
        await call(
            client,
            "POST",
            BASE,
            {**GOOD, "events": ["contact.merged", "conversation.resolved"], "description": " CRM "},
            status=201,
        )
    )["webhook"]
    webhook_id, secret = made["id"], made["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert made["events"] == ["conversation.resolved", "contact.merged"]  # canonical order
    assert made["active"] is True and made["description"] == "CRM"
    listed = await call(client, "GET", BASE)
    assert listed["events"][0] == "conversation.created"
    (shown,) = listed["webhooks"]
    assert shown["secret"] == f"••••{secret[-4:]}"
    assert secret not in str(await call(client, "GET", f"{BASE}/{webhook_id}"))

    changed = await call(
        client, "PATCH", f"{BASE}/{webhook_id}", {"active": False, "url": "http://127.0.0.1:1/x"}
    )
    assert changed["webhook"]["active"] is False
    assert changed["webhook"]["url"] == "http://127.0.0.1:1/x"
    assert changed["webhook"]["events"] == ["conversation.resolved", "contact.merged"]
    await call(client, "PATCH", f"{BASE}/{webhook_id}", {}, status=400)

    rotated = (await call(client, "POST", f"{BASE}/{webhook_id}/rotate"))["webhook"]["secret"]
    assert rotated.startswith("whsec_") and rotated != secret

    await call(client, "DELETE", f"{BASE}/{webhook_id}")
    await call(client, "GET", f"{BASE}/{webhook_id}", status=404)
    await call(client, "POST", f"{BASE}/{webhook_id}/test", status=404)

    async with client.app[SERVICES].sessionmaker() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.target == f"webhook:{webhook_id}")
                .order_by(AuditEntry.id)
            )
        )
    assert [e.action for e in entries] == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]
    assert entries[0].data["host"] == "hooks.example.com"
    assert entries[1].data["changes"] == ["active", "url"]
    assert all(secret not in str(e.data) and rotated not in str(e.data) for e in entries)


async def test_test_ping_deliveries_page_and_retry(client: TestClient[Any, Any]) -> None:
    webhook_id = (await call(client, "POST", BASE, GOOD, status=201))["webhook"]["id"]
    pings = [
        (await call(client, "POST", f"{BASE}/{webhook_id}/test", status=202))["delivery"]
        for _ in range(3)
    ]
    assert pings[0]["event"] == "ping" and pings[0]["state"] == "pending"
    assert pings[0]["payload"]["data"] == {"webhook_id": webhook_id}

    page = await call(client, "GET", f"{BASE}/{webhook_id}/deliveries?limit=2")
    assert [d["id"] for d in page["deliveries"]] == [pings[2]["id"], pings[1]["id"]]
    rest = await call(
        client, "GET", f"{BASE}/{webhook_id}/deliveries?limit=2&before_id={page['next_before_id']}"
    )
    assert [d["id"] for d in rest["deliveries"]] == [pings[0]["id"]]
    assert rest["next_before_id"] is None
    await call(client, "GET", f"{BASE}/{webhook_id}/deliveries?limit=0", status=400)
    await call(client, "GET", f"{BASE}/{webhook_id}/deliveries?limit=x", status=400)

    first = pings[0]["id"]
    refused = await call(
        client, "POST", f"{BASE}/{webhook_id}/deliveries/{first}/retry", status=409
    )
    assert refused["error"]["code"] == "not_failed"
    async with client.app[SERVICES].sessionmaker() as session, session.begin():
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == first)
            .values(state="failed", attempts=8, last_status=410, last_error="HTTP 410")
        )
    again = await call(client, "POST", f"{BASE}/{webhook_id}/deliveries/{first}/retry", status=202)
    assert again["delivery"]["state"] == "pending" and again["delivery"]["attempts"] == 0
    other = (await call(client, "POST", BASE, GOOD, status=201))["webhook"]["id"]
    await call(client, "POST", f"{BASE}/{other}/deliveries/{first}/retry", status=404)
