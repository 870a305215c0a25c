"""Visitor tokens: signed, expiring, renewed on every welcome; tokens from before expiry
existed are taken once and renewed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from itsdangerous import URLSafeSerializer

from omnidesk.bot.app import create_app
from omnidesk.channels.webchat import VisitorTokens
from omnidesk.channels.webchat.tokens import SALT
from omnidesk.config import Settings
from tests.channels.test_webchat import connect


def test_tokens_expire_after_their_age(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = VisitorTokens("k", max_age_days=1)
    visitor, token = tokens.issue()
    assert tokens.verify(token) == visitor
    later = time.time() + 2 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert tokens.verify(token) is None
    # A fresh one, signed now, works again.
    assert tokens.verify(tokens.sign(visitor)) == visitor


def test_forged_malformed_and_legacy_tokens() -> None:
    tokens = VisitorTokens("k")
    assert tokens.verify(VisitorTokens("other").sign("v")) is None
    assert tokens.verify("x" * 600) is None
    assert tokens.verify("not.a.token") is None
    legacy = URLSafeSerializer("k", salt=SALT).dumps({"v": "old-visitor"})
    assert tokens.verify(str(legacy)) == "old-visitor"
    assert tokens.verify(str(URLSafeSerializer("other", salt=SALT).dumps({"v": "x"}))) is None


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: object
) -> AsyncIterator[TestClient[Any, Any]]:
    settings.knowledge.seed_sample = False
    yield await aiohttp_client(create_app(settings))


async def test_every_welcome_renews_the_token(client: TestClient[Any, Any]) -> None:
    first, welcome = await connect(client)
    await first.ws.close()
    await asyncio.sleep(1.1)  # the signature's clock counts whole seconds
    again, renewed = await connect(client, welcome["token"])
    assert renewed["visitor"] == welcome["visitor"]
    assert renewed["token"] != welcome["token"]
    await again.ws.close()
