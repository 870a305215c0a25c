"""The customer's side of a handoff, through the real service: a web chat conversation
is escalated, an agent answers and resolves it from the console API, the visitor is told
and rates it with a button, adds a comment, and the rating is on the timeline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from omnidesk.bot.app import create_app
from omnidesk.bot.services import Services
from omnidesk.bot.testchannel import CaptureChannel
from omnidesk.channels import InboundMessage, OutboundMessage
from omnidesk.config import BrandingSettings, Settings
from omnidesk.helpdesk import Conversation, ConversationState, Ticket, queries
from omnidesk.helpdesk.catalogue import Catalogue
from tests.accounts import bearer


class Visitor:
    """A web chat visitor whose replies are captured where the widget would show them."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.channel = CaptureChannel("webchat")
        services.add_channel(self.channel)
        self.id = f"visitor-{uuid.uuid4().hex[:8]}"

    async def send(self, text: str = "", action: str | None = None) -> list[OutboundMessage]:
        before = len(self.channel.sent)
        await self.services.on_message(
            InboundMessage(
                channel="webchat",
                sender_id=self.id,
                dedupe_key=uuid.uuid4().hex,
                text=text,
                action=action,
            )
        )
        await self.services.inbox.drain()
        return await self.delivered(before)

    async def delivered(self, before: int) -> list[OutboundMessage]:
        # One reply per conversation is in flight at a time, to keep their order.
        while await self.services.outbox.dispatch_ready():
            pass
        return self.channel.sent[before:]

    async def conversation(self) -> Conversation:
        async with self.services.sessionmaker() as session:
            found = await session.scalar(select(Conversation).order_by(Conversation.id.desc()))
            assert found is not None
            return found


class Console:
    """An agent's calls to the console API, signed in with their API token."""

    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self.client.post(path, json=body, headers=self.headers)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.branding = BrandingSettings(bot_name="Nova", team_name="the Nova crew")
    return settings


@pytest.fixture
async def service(
    settings: Settings, db: object, aiohttp_client: Any
) -> AsyncIterator[tuple[Services, Console]]:
    svc = Services(settings, workers=False)
    async with svc:
        client = await aiohttp_client(create_app(settings, svc))
        dana = await bearer(svc.sessionmaker, email="dana@example.test", name="Dana")
        yield svc, Console(client, dana)


async def test_escalated_resolved_rated_and_on_the_timeline(
    service: tuple[Services, Console],
) -> None:
    services, console = service
    visitor = Visitor(services)
    [greeting] = await visitor.send("hello")
    assert greeting.author_name == "Nova"  # the bot's name comes from settings
    [handoff] = await visitor.send("I want a human")
    assert handoff.text == (
        "I've passed your conversation to the Nova crew. A person will reply here shortly; "
        "we aim to answer within 4 hours."
    )
    conversation = await visitor.conversation()
    url = f"/api/v1/conversations/{conversation.id}"
    before = len(visitor.channel.sent)
    response = await console.post(f"{url}/messages", {"text": "Hi!"})
    assert response.status == 201
    response = await console.post(f"{url}/resolve", {"agent": "Dana"})
    assert response.status == 200
    reply, resolved, question = await visitor.delivered(before)
    assert reply.text == "Hi!"
    assert "marked as resolved" in resolved.text
    assert [(b.label, b.payload) for b in question.buttons] == [
        (str(n), f"csat:{n}") for n in range(1, 6)
    ]

    [thanks] = await visitor.send("5", action="csat:5")
    assert thanks.text == Catalogue().csat_thanks()
    [noted] = await visitor.send("Dana was great")
    assert noted.text == Catalogue().comment_thanks()

    async with services.sessionmaker() as session:
        ticket = await session.scalar(select(Ticket))
        timeline = await queries.contact_timeline(session, conversation.contact_id)
    assert ticket is not None and (ticket.csat_score, ticket.csat_comment) == (5, "Dana was great")
    [csat] = [e for e in timeline if e["kind"] == "csat"]
    assert csat["data"]["score"] == 5 and csat["data"]["comment"] == "Dana was great"
    assert (await visitor.conversation()).state == ConversationState.RESOLVED


@pytest.fixture
def no_reopen_window(settings: Settings) -> Settings:
    settings.escalation.reopen_window_hours = 0
    return settings


async def test_after_the_reopen_window_the_bot_answers_again(
    no_reopen_window: Settings, service: tuple[Services, Console]
) -> None:
    services, console = service
    visitor = Visitor(services)
    await visitor.send("I want a human")
    conversation = await visitor.conversation()
    url = f"/api/v1/conversations/{conversation.id}"
    await console.post(f"{url}/messages", {"text": "Hi!"})
    await console.post(f"{url}/resolve", {})
    await visitor.delivered(0)
    [reply] = await visitor.send("how do I reset my password?")
    assert reply.author == "bot"
    assert (await visitor.conversation()).state == ConversationState.BOT
