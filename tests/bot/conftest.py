"""A conversational fixture: ``await chat.say("hi")`` runs one message through the inbox,
the router and the outbox, and returns what the bot sent back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from omnidesk.bot.services import Services
from omnidesk.bot.testchannel import CaptureChannel
from omnidesk.channels import InboundMessage, InboundResult, OutboundMessage
from omnidesk.config import Settings


class Chat:
    def __init__(self, services: Services, channel: CaptureChannel, sender: str) -> None:
        self.services = services
        self.channel = channel
        self.sender = sender

    async def send(
        self,
        text: str = "",
        *,
        action: str | None = None,
        dedupe_key: str | None = None,
        described: bool = False,
    ) -> tuple[InboundResult, list[OutboundMessage]]:
        before = len(self.channel.sent)
        result = await self.services.on_message(
            InboundMessage(
                channel=self.channel.name,
                sender_id=self.sender,
                dedupe_key=dedupe_key or uuid.uuid4().hex,
                text=text,
                action=action,
                described=described,
            )
        )
        await self.services.inbox.drain()
        await self.services.outbox.dispatch_ready()
        return result, self.channel.sent[before:]

    async def say(self, text: str) -> list[OutboundMessage]:
        return (await self.send(text))[1]

    async def press(self, payload: str, label: str = "") -> list[OutboundMessage]:
        return (await self.send(label or payload, action=payload))[1]


@pytest.fixture
async def services(settings: Settings, db: object) -> AsyncIterator[Services]:
    svc = Services(settings, workers=False)
    svc.add_channel(CaptureChannel("test"))
    async with svc:
        yield svc


@pytest.fixture
def chat(services: Services) -> Chat:
    channel = services.channels["test"]
    assert isinstance(channel, CaptureChannel)
    return Chat(services, channel, f"visitor-{uuid.uuid4().hex[:8]}")
