"""The outbound contract, once for every adapter: what ``queue_delivery`` stores
round-trips through ``to_dict``/``from_dict``, and every channel (web chat, email,
Slack, Telegram and the test channel) accepts the ``OutboundMessage`` it rebuilds,
against the local peers each speaks to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import select

from omnidesk.bot.testchannel import CaptureChannel
from omnidesk.channels import (
    Attachment,
    Button,
    Channel,
    Citation,
    InboundMessage,
    InboundResult,
    OutboundMessage,
)
from omnidesk.channels.registry import platform_channels
from omnidesk.channels.webchat import VisitorTokens, WebchatChannel
from omnidesk.config import Settings, SlackSettings
from omnidesk.helpdesk import Author, OutboxItem, actions, unit_of_work
from tests.channels.email.conftest import JANE, configure_email
from tests.channels.email.peers import SmtpPeer
from tests.channels.slack.fakeslack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.channels.telegram.conftest import CHAT_ID, telegram_settings
from tests.channels.telegram.fakeapi import FakeTelegram
from tests.conftest import Database

# Who a reply goes to on each channel, and the conversation's thread there.
RECIPIENTS = {
    "webchat": ("visitor-1", ""),
    "email": (JANE, "<root@customer.example>"),
    "slack": ("U0CUSTOMER", "C0SUPPORT:1700000000.000100"),
    "telegram": (str(CHAT_ID), ""),
    "test": ("someone", ""),
}


async def never(inbound: InboundMessage) -> InboundResult:
    raise AssertionError("no inbound traffic in this test")


async def no_history(visitor: str) -> list[dict[str, object]]:
    return []


@pytest.fixture
async def adapters(
    settings: Settings, aiohttp_server: Any, tmp_path: Path
) -> AsyncIterator[dict[str, Channel]]:
    """Every adapter, built as the service builds it, each pointed at a local peer."""
    slack, tg, smtp = FakeSlack(), FakeTelegram(), SmtpPeer()
    slack_server: TestServer = await aiohttp_server(slack.app())
    slack.base_url = str(slack_server.make_url("/api/"))
    tg_server: TestServer = await aiohttp_server(tg.app())
    tg.base = str(tg_server.make_url("")).rstrip("/")
    await smtp.start()
    settings.slack = SlackSettings(
        bot_token=SecretStr(BOT_TOKEN),
        signing_secret=SecretStr(SIGNING_SECRET),
        api_base_url=slack.base_url,
    )
    settings.telegram = telegram_settings(tg, webhook_url=None)
    configure_email(settings, smtp.port)
    built: list[Channel] = [
        WebchatChannel(settings.webchat, VisitorTokens("secret"), never, no_history),
        CaptureChannel("test"),
        *platform_channels(settings, never),
    ]
    for channel in built:
        await channel.start()
    yield {channel.name: channel for channel in built}
    for channel in built:
        await channel.stop()
    await smtp.stop()


async def queued(db: Database, channel: str) -> dict[str, Any]:
    """The outbox payload ``queue_delivery`` stores for a bot answer on ``channel``."""
    recipient, thread = RECIPIENTS[channel]
    async with unit_of_work(db.sessionmaker) as session:
        identity = await actions.resolve_identity(session, channel, recipient)
        conversation = await actions.current_conversation(
            session, identity, thread, subject="Password help"
        )
        await actions.record_message(
            session, conversation, Author.CONTACT, "how do I reset my password?", external_id="in-1"
        )
        await actions.reply(
            session,
            conversation,
            Author.BOT,
            "Open Settings, then Password.",
            payload={
                "buttons": [{"label": "Helpful", "payload": "feedback:helpful"}],
                "citations": [
                    {"slug": "reset", "title": "Reset", "url": "https://x.test/kb/reset"}
                ],
                "confidence": 0.91,
            },
        )
    async with db.sessionmaker() as session:
        item = await session.scalar(
            select(OutboxItem).where(OutboxItem.channel == channel).order_by(OutboxItem.id.desc())
        )
    assert item is not None
    return dict(item.payload)


async def test_every_adapter_accepts_what_queue_delivery_builds(
    db: Database, adapters: dict[str, Channel]
) -> None:
    assert set(adapters) == set(RECIPIENTS)
    for name, channel in adapters.items():
        payload = await queued(db, name)
        assert payload["version"] == 1
        message = OutboundMessage.from_dict(payload)
        assert message.to_dict() == payload
        assert (message.channel, message.recipient_id) == (name, RECIPIENTS[name][0])
        assert message.buttons == (Button("Helpful", "feedback:helpful"),)
        assert message.reply_to_external_id == "in-1" and message.subject == "Password help"
        receipt = await channel.send(message)
        assert receipt.ok, (name, receipt)
        assert receipt.external_id, name


def test_an_unknown_version_is_refused() -> None:
    data = OutboundMessage("test", "u", 1, 1, "hi").to_dict()
    with pytest.raises(ValueError, match="version"):
        OutboundMessage.from_dict({**data, "version": 99})
    # Rows queued before versioning carry the same fields without a version.
    del data["version"]
    assert OutboundMessage.from_dict(data) == OutboundMessage("test", "u", 1, 1, "hi")


text = st.text(max_size=40)
messages = st.builds(
    OutboundMessage,
    channel=text,
    recipient_id=text,
    conversation_id=st.integers(min_value=1),
    message_id=st.integers(min_value=1),
    text=text,
    author=st.sampled_from(["bot", "agent", "system"]),
    author_name=st.none() | text,
    thread_key=text,
    buttons=st.lists(st.builds(Button, text, text), max_size=3).map(tuple),
    citations=st.lists(st.builds(Citation, text, text, text), max_size=3).map(tuple),
    attachments=st.lists(
        st.builds(Attachment, text, text, st.integers(min_value=0), st.none() | text),
        max_size=2,
    ).map(tuple),
    confidence=st.none() | st.floats(allow_nan=False),
    created_at=st.none() | text,
    reply_to_external_id=st.none() | text,
    subject=st.none() | text,
    ticket_ref=st.none() | st.integers(min_value=1),
)


@given(messages)
def test_to_dict_from_dict_round_trips(message: OutboundMessage) -> None:
    assert OutboundMessage.from_dict(message.to_dict()) == message
