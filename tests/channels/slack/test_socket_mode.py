"""Socket Mode against a local Slack WebSocket: the channel opens the connection with the
app token, an envelope is stored before it is acknowledged, answered in its thread, and a
redelivered envelope gets no second answer. And when the registry turns the channel on."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from omnidesk.bot.app import SERVICES, create_app
from omnidesk.channels import Channel, InboundMessage, InboundResult
from omnidesk.channels.registry import platform_channels
from omnidesk.channels.slack import SlackChannel
from omnidesk.config import Settings, SlackSettings
from omnidesk.helpdesk import InboxItem
from tests.channels.slack.conftest import Workspace
from tests.channels.slack.fakeslack import APP_TOKEN, BOT_TOKEN, FakeSlack, eventually, fixture


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: object, slack: FakeSlack
) -> AsyncIterator[TestClient[Any, Any]]:
    settings.slack = SlackSettings(
        bot_token=SecretStr(BOT_TOKEN),
        app_token=SecretStr(APP_TOKEN),
        socket_mode=True,
        api_base_url=slack.base_url,
    )
    client = await aiohttp_client(create_app(settings))
    yield client
    # Let in-flight work finish (see the workspace fixture), and stop before the local
    # Slack goes away; otherwise the SDK spends the teardown reconnecting.
    await eventually(Workspace(client).settled)
    await client.close()


async def test_socket_mode_event_is_acknowledged_after_commit_and_answered(
    client: TestClient[Any, Any], slack: FakeSlack
) -> None:
    services = client.app[SERVICES]

    # No HTTP endpoint in Socket Mode: nothing there to forge.
    assert (await client.post("/slack/events", data=b"{}")).status in (404, 405)

    await eventually(lambda: slack.sockets)
    [opened] = slack.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN

    envelope = fixture("socket_mode_events_api")
    await slack.push(envelope)
    await eventually(
        lambda: any(f.get("envelope_id") == envelope["envelope_id"] for f in slack.socket_frames)
    )
    async with services.sessionmaker() as session:
        # Acknowledged, so already committed.
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 1

    [post] = await eventually(slack.posts)
    event = envelope["payload"]["event"]
    assert (post["channel"], post["thread_ts"]) == (event["channel"], event["ts"])

    # Slack redelivers an envelope it thinks was lost: same event_id, no second answer.
    again = copy.deepcopy(envelope)
    again.update(envelope_id="2e5c6d3f-9a8b-4e4c-8f7a-3b2c1d0e9f8a", retry_attempt=1)
    await slack.push(again)
    await eventually(
        lambda: any(f.get("envelope_id") == again["envelope_id"] for f in slack.socket_frames)
    )
    async with services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 1
    assert len(slack.posts()) == 1


@pytest.mark.parametrize(
    ("slack_settings", "on"),
    [
        ({}, False),
        ({"bot_token": BOT_TOKEN}, False),
        ({"bot_token": BOT_TOKEN, "signing_secret": "s"}, True),
        ({"bot_token": BOT_TOKEN, "socket_mode": True}, False),
        ({"bot_token": BOT_TOKEN, "socket_mode": True, "app_token": APP_TOKEN}, True),
    ],
)
def test_registry_builds_the_channel_when_its_settings_are_complete(
    settings: Settings, slack_settings: dict[str, Any], on: bool
) -> None:
    async def on_message(inbound: InboundMessage) -> InboundResult:
        return InboundResult.ACCEPTED

    settings.slack = SlackSettings.model_validate(slack_settings)
    built = [c for c in platform_channels(settings, on_message) if c.name == "slack"]
    assert len(built) == int(on)
    if on:
        assert isinstance(built[0], SlackChannel) and isinstance(built[0], Channel)
        assert len(built[0].routes()) == (0 if settings.slack.socket_mode else 2)
