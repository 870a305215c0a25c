"""Agents in Slack, against the real app and the local Slack: an escalation is posted to
the agent channel, a person's reply in its thread reaches the customer on web chat as
that person's reply (the agent account with the same email when there is one), the bot
stays silent, and nothing in the agent channel is ever taken as a customer's message."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from omnidesk.bot.testchannel import CaptureChannel
from omnidesk.channels import InboundMessage, RoomPost
from omnidesk.channels.slack.agents import handoff_arguments, is_thread_reply
from omnidesk.config import Settings, SlackSettings
from omnidesk.helpdesk import (
    Actor,
    Conversation,
    ConversationState,
    InboxItem,
    Message,
    actions,
    unit_of_work,
)
from omnidesk.helpdesk.models import Agent, AgentThread
from tests.channels.slack.conftest import Workspace
from tests.channels.slack.fakeslack import (
    ALICE,
    BOB,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    FakeSlack,
    eventually,
    fixture,
)

AGENTS = "C0AGENTS01"


@pytest.fixture
def slack_settings(settings: Settings, slack: FakeSlack) -> Settings:
    settings.slack = SlackSettings(
        bot_token=SecretStr(BOT_TOKEN),
        signing_secret=SecretStr(SIGNING_SECRET),
        api_base_url=slack.base_url,
        agent_channel=AGENTS,
    )
    return settings


class WebVisitor:
    def __init__(self, workspace: Workspace) -> None:
        self.services = workspace.services
        self.channel = CaptureChannel("webchat")
        # The outbox delivers web chat replies here instead of to a socket.
        self.services.add_channel(self.channel)
        self.id = f"visitor-{uuid.uuid4().hex[:8]}"

    async def say(self, text: str, action: str | None = None) -> None:
        await self.services.on_message(
            InboundMessage(
                channel="webchat",
                sender_id=self.id,
                dedupe_key=uuid.uuid4().hex,
                text=text,
                action=action,
                sender_name="Vera Visitor",
            )
        )

    async def press(self, payload: str) -> None:
        await self.say(payload, action=payload)


def agent_posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [p for p in slack.posts() if p["channel"] == AGENTS]


def thread_reply(thread_ts: str, text: str, *, user: str = ALICE, n: int = 1) -> dict[str, Any]:
    return fixture(
        "message_thread_reply",
        event_id=f"Ev0AGENT{n:04d}",
        channel=AGENTS,
        thread_ts=thread_ts,
        ts=f"1800000900.{n:06d}",
        user=user,
        text=text,
        parent_user_id=BOT_USER_ID,
    )


async def _escalated(workspace: Workspace, slack: FakeSlack) -> tuple[WebVisitor, str]:
    visitor = WebVisitor(workspace)
    await visitor.say("My order never arrived and I want a human")
    await eventually(lambda: agent_posts(slack))
    return visitor, str(slack.calls_to("chat.postMessage")[-1].answer["ts"])


async def test_escalation_posted_and_a_thread_reply_reaches_the_web_chat_customer(
    workspace: Workspace, slack: FakeSlack
) -> None:
    async with workspace.services.sessionmaker() as session:
        session.add(Agent(name="Alice Agent", email="alice@example.com", password_hash="-"))
        await session.commit()
    visitor, thread_ts = await _escalated(workspace, slack)
    [post] = agent_posts(slack)
    assert "*Vera Visitor* needs a person on webchat" in post["text"]
    assert "My order never arrived" in post["text"]
    assert "/console#/conversations/" in post["text"]
    async with workspace.services.sessionmaker() as session:
        thread = await session.scalar(select(AgentThread))
    assert thread is not None
    assert (thread.platform, thread.channel_id, thread.thread_ts) == ("slack", AGENTS, thread_ts)

    response = await workspace.event(thread_reply(thread_ts, "Hi Vera, I'm on it."))
    assert response.status == 200
    reply = await eventually(lambda: [m for m in visitor.channel.sent if m.author == "agent"])
    assert (reply[0].author_name, reply[0].text) == ("Alice Agent", "Hi Vera, I'm on it.")
    async with workspace.services.sessionmaker() as session:
        conversation = await session.get_one(Conversation, thread.conversation_id)
        agent_id = await session.scalar(select(Agent.id))
    assert conversation.state == ConversationState.ASSIGNED
    assert conversation.assignee_id == agent_id

    # The customer writes again: the bot stays silent, the agents see it in the thread.
    sent_before = len(visitor.channel.sent)
    await visitor.say("Thanks! It was order 1234")
    follow = await eventually(lambda: [p for p in slack.posts() if p.get("thread_ts") == thread_ts])
    assert follow[0]["text"] == "Customer: Thanks! It was order 1234"
    await eventually(workspace.settled)
    assert len(visitor.channel.sent) == sent_before

    # Resolved in the console and rated by the customer: the thread hears of both.
    async with unit_of_work(workspace.services.sessionmaker, workspace.services.bus) as session:
        conv = await session.get_one(Conversation, thread.conversation_id)
        await actions.resolve(session, conv, Actor("Alice Agent", agent_id=agent_id))
    await eventually(lambda: [m for m in visitor.channel.sent if m.buttons])
    await visitor.press("csat:5")
    lines = await eventually(
        lambda: [p["text"] for p in slack.posts() if p.get("thread_ts") == thread_ts][1:]
    )
    assert lines[0] == "Resolved; the customer was asked to rate it."
    await eventually(
        lambda: (
            "The customer rated it 5/5."
            in [p["text"] for p in slack.posts() if p.get("thread_ts") == thread_ts]
        )
    )


async def test_notes_retries_and_bot_posts_never_reach_the_customer(
    workspace: Workspace, slack: FakeSlack
) -> None:
    visitor, thread_ts = await _escalated(workspace, slack)
    await eventually(workspace.settled)
    handoff_count = len(visitor.channel.sent)
    note = thread_reply(thread_ts, "note: check the courier first", n=2)
    assert (await workspace.event(note)).status == 200
    # Bob has no email, so he answers by name; Slack delivers it twice.
    reply = thread_reply(thread_ts, "Looking into it", user=BOB, n=3)
    assert (await workspace.event(reply)).status == 200
    assert (await workspace.event(reply, retry_num=1)).status == 200
    own = fixture("own_message", channel=AGENTS, thread_ts=thread_ts, event_id="Ev0OWN0001")
    assert (await workspace.event(own)).status == 200
    top_level = fixture(
        "message_thread_reply", channel=AGENTS, thread_ts=None, event_id="Ev0TOP0001"
    )
    assert (await workspace.event(top_level)).status == 200
    await eventually(workspace.settled)
    sent = visitor.channel.sent[handoff_count:]
    assert [(m.author_name, m.text) for m in sent] == [("Bob Stone", "Looking into it")]
    async with workspace.services.sessionmaker() as session:
        inbox = await session.scalar(select(func.count()).select_from(InboxItem))
        agent_messages = await session.scalar(
            select(func.count()).select_from(Message).where(Message.author == "agent")
        )
    assert inbox == 1  # only the visitor's message: nothing from the agent channel
    assert agent_messages == 1


def test_handoff_post_escapes_what_customers_wrote() -> None:
    arguments = handoff_arguments(
        RoomPost(
            conversation_id=7,
            customer="<!channel> Eve",
            channel="telegram",
            reason="customer_request",
            priority="high",
            ticket_id=3,
            last_messages=(("Eve", "hi <@U123> & bye"),),
            console_url="https://desk.example.com/console#/conversations/7",
        )
    )
    assert "<!channel>" not in arguments["text"]
    assert "&lt;!channel&gt; Eve" in arguments["text"]
    assert "hi &lt;@U123&gt; &amp; bye" in arguments["text"]
    assert "ticket #3" in arguments["text"] and "priority high" in arguments["text"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, True),
        ({"thread_ts": None}, False),
        ({"thread_ts": "1800000900.000001"}, False),  # the thread's own root
        ({"user": BOT_USER_ID}, False),
        ({"bot_id": "B0OTHER"}, False),
        ({"subtype": "message_changed"}, False),
    ],
)
def test_which_agent_channel_messages_are_replies(changes: dict[str, Any], expected: bool) -> None:
    event = {
        "type": "message",
        "user": ALICE,
        "channel": AGENTS,
        "ts": "1800000900.000001",
        "thread_ts": "1800000000.000100",
        "text": "hi",
        **changes,
    }
    assert is_thread_reply(event, BOT_USER_ID) is expected
