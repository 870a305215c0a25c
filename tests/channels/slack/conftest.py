"""Fixtures for the Slack channel: a local Slack peer, settings pointing at it, the real
app, and a ``workspace`` that posts signed events and clicks into it as Slack does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import func, select

from omnidesk.bot.app import SERVICES, create_app
from omnidesk.bot.services import Services
from omnidesk.config import Settings, SlackSettings
from omnidesk.helpdesk import DeliveryState, InboxItem, InboxState, OutboxItem
from tests.channels.slack.fakeslack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    eventually,
    interactivity_body,
    signed_headers,
)


@pytest.fixture
async def slack(aiohttp_server: Any) -> FakeSlack:
    fake = FakeSlack()
    server: TestServer = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("/api/"))
    return fake


@pytest.fixture
def slack_settings(settings: Settings, slack: FakeSlack) -> Settings:
    settings.slack = SlackSettings(
        bot_token=SecretStr(BOT_TOKEN),
        signing_secret=SecretStr(SIGNING_SECRET),
        api_base_url=slack.base_url,
    )
    return settings


class Workspace:
    """Slack's side of the HTTP endpoint: signed events and interactions."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client

    @property
    def services(self) -> Services:
        return self.client.app[SERVICES]

    async def event(
        self,
        payload: dict[str, Any],
        *,
        retry_num: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> ClientResponse:
        body = json.dumps(payload).encode()
        sent = {"Content-Type": "application/json", **signed_headers(body)}
        if retry_num is not None:
            sent["X-Slack-Retry-Num"] = str(retry_num)
            sent["X-Slack-Retry-Reason"] = "http_timeout"
        sent.update(headers or {})
        return await self.client.post("/slack/events", data=body, headers=sent)

    async def click(self, payload: dict[str, Any]) -> ClientResponse:
        body = interactivity_body(payload)
        sent = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        return await self.client.post("/slack/interactivity", data=body, headers=sent)

    async def settled(self) -> bool:
        """Nothing in flight: every inbox item handled, every outbox item sent or failed."""
        async with self.services.sessionmaker() as session:
            inbox = (await session.scalars(select(InboxItem.state))).all()
            outbox = (await session.scalars(select(OutboxItem.state))).all()
        return all(s == InboxState.DONE for s in inbox) and all(
            s != DeliveryState.PENDING for s in outbox
        )

    async def inbox_count(self) -> int:
        async with self.services.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(InboxItem)) or 0)


@pytest.fixture
async def workspace(
    aiohttp_client: Any, slack_settings: Settings, db: object
) -> AsyncIterator[Workspace]:
    client = await aiohttp_client(create_app(slack_settings))
    workspace = Workspace(client)
    yield workspace
    # Work still in flight is let finish: stopping the inbox cancels a worker mid
    # transaction, and on SQLite the next statement then waits out the 30 s busy timeout.
    await eventually(workspace.settled)
    # The service stops before the local Slack does, as in a real shutdown.
    await client.close()
