"""Operations endpoints against the real app: /readyz, and /metrics for admins with the
queues, turn times, handoffs and sockets it reports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from omnidesk.bot.app import SERVICES, create_app
from omnidesk.config import Settings
from tests.accounts import client_bearer
from tests.channels.test_webchat import bot_message, connect


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: object
) -> AsyncIterator[TestClient[Any, Any]]:
    yield await aiohttp_client(create_app(settings))


async def scrape(client: TestClient[Any, Any], headers: dict[str, str]) -> dict[str, float]:
    resp = await client.get("/metrics", headers=headers)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(await resp.text()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


async def test_ready_and_metrics_for_admins_only(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/readyz")
    assert resp.status == 200 and (await resp.json())["status"] == "ready"
    assert (await client.get("/metrics", allow_redirects=False)).status == 302  # to /signin
    agent = await client_bearer(client, "agent")
    assert (await client.get("/metrics", headers=agent)).status == 403

    admin = await client_bearer(client, "admin")
    before = await scrape(client, admin)
    sock, _ = await connect(client)
    await sock.say("how do I reset my password?")
    await sock.until(bot_message)
    await sock.say("agent please")
    await sock.until(bot_message)
    turns = before.get("omnidesk_turn_seconds_count", 0) + 2
    # The socket can show a reply before its worker has counted the turn, and before the
    # dispatcher has marked its delivery sent: look again.
    for _ in range(100):
        after = await scrape(client, admin)
        if (
            after["omnidesk_turn_seconds_count"] >= turns
            and after["omnidesk_outbox{state=sent}"] >= 2
        ):
            break
        await asyncio.sleep(0.1)
    assert after["omnidesk_turn_seconds_count"] >= turns
    key = "omnidesk_handoffs_total{reason=customer_request}"
    assert after[key] == before.get(key, 0) + 1
    assert after["omnidesk_open_sockets{kind=webchat}"] == 1
    assert after["omnidesk_inbox_pending"] == 0
    assert after["omnidesk_outbox{state=sent}"] >= 2
    assert "omnidesk_inbox_oldest_pending_seconds" in after
    await sock.ws.close()


async def test_not_ready_while_stopped(client: TestClient[Any, Any]) -> None:
    client.app[SERVICES].started = False
    resp = await client.get("/readyz")
    assert resp.status == 503 and (await resp.json())["status"] == "starting"
    client.app[SERVICES].started = True
