"""Slack's Events API and interactivity against the real app and a local Slack: signed
events in, answers in the question's thread, retries and forgeries refused, buttons
routed, Slack users joined to contacts by email."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from omnidesk.bot.app import SERVICES
from omnidesk.bot.router import HANDOFF_TEXT
from omnidesk.channels import Action
from omnidesk.helpdesk import (
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationState,
    Message,
    actions,
    unit_of_work,
)
from tests.accounts import bearer
from tests.channels.slack.conftest import Workspace
from tests.channels.slack.fakeslack import (
    ALICE,
    BOB,
    BOT_USER_ID,
    SIGNING_SECRET,
    FakeSlack,
    eventually,
    fixture,
    interactivity_body,
    sign,
    signed_headers,
)


def fixture_bytes(name: str) -> bytes:
    return json.dumps(fixture(name)).encode()


async def conversation(workspace: Workspace, thread_key: str) -> Conversation:
    async with workspace.services.sessionmaker() as session:
        found = (
            await session.scalars(select(Conversation).where(Conversation.thread_key == thread_key))
        ).all()
    assert len(found) == 1, found
    return found[0]


async def contact_messages(workspace: Workspace) -> list[Message]:
    async with workspace.services.sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(Message).where(Message.author == "contact").order_by(Message.id)
                )
            ).all()
        )


def blocks_of(post: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in post.get("blocks", []) if b["type"] == kind]


async def test_dm_question_answered_in_its_thread_with_citation_and_feedback_buttons(
    workspace: Workspace, slack: FakeSlack
) -> None:
    event = fixture("message_im")
    resp = await workspace.event(event)
    assert resp.status == 200
    # Committed before acknowledged: the inbox holds it the moment Slack has its 200.
    assert await workspace.inbox_count() == 1

    [post] = await eventually(slack.posts)
    assert post["channel"] == "D0ALICE01"
    assert post["thread_ts"] == event["event"]["ts"]
    assert post["unfurl_links"] is False
    [section, *_] = blocks_of(post, "section")
    assert section["text"]["type"] == "mrkdwn" and "password" in section["text"]["text"].lower()
    [context] = blocks_of(post, "context")
    source = context["elements"][0]["text"]
    assert source.startswith("Source: <http://127.0.0.1:") and "/kb/" in source
    assert "|" in source and source.endswith(">")
    [buttons] = blocks_of(post, "actions")
    assert [(e["text"]["text"], e["value"]) for e in buttons["elements"]] == [
        ("Helpful", Action.HELPFUL),
        ("Not helpful", Action.NOT_HELPFUL),
    ]
    # The text fallback carries the answer and the link too, for notifications.
    assert "password" in post["text"].lower() and "<http://" in post["text"]

    await eventually(workspace.settled)
    conv = await conversation(workspace, f"D0ALICE01:{event['event']['ts']}")
    assert conv.channel == "slack"
    async with workspace.services.sessionmaker() as session:
        identity = await session.get_one(ChannelIdentity, conv.identity_id)
        contact = await session.get_one(Contact, conv.contact_id)
        bot_reply = await session.scalar(
            select(Message).where(Message.conversation_id == conv.id, Message.author == "bot")
        )
    assert identity.external_id == ALICE
    assert (contact.name, contact.email) == ("Alice Doe", "alice@example.com")
    assert bot_reply is not None and bot_reply.delivery == "sent"
    posted_ts = slack.calls_to("chat.postMessage")[0].answer["ts"]
    assert bot_reply.external_id == f"D0ALICE01:{posted_ts}"
    [question] = await contact_messages(workspace)
    assert question.text == "how do I reset my password?"
    # Slack names a message by its channel and ts: its edits and deletion find it by that.
    assert question.external_id == f"D0ALICE01:{event['event']['ts']}"


async def test_app_mention_answered_in_channel_thread_and_mention_stripped(
    workspace: Workspace, slack: FakeSlack
) -> None:
    mention = fixture("app_mention")
    assert (await workspace.event(mention)).status == 200
    # Slack also sends the same message as message.channels: it must not count twice.
    assert (await workspace.event(fixture("message_channel_mention"))).status == 200
    assert await workspace.inbox_count() == 1

    [post] = await eventually(slack.posts)
    assert (post["channel"], post["thread_ts"]) == ("C0SUPPORT1", mention["event"]["ts"])
    await eventually(workspace.settled)
    [question] = await contact_messages(workspace)
    assert question.text == "how do I reset my password?"
    assert len(slack.posts()) == 1


async def test_thread_replies_in_channels_only_where_the_bot_takes_part(
    workspace: Workspace, slack: FakeSlack
) -> None:
    mention = fixture("app_mention")
    await workspace.event(mention)
    await eventually(slack.posts)

    # A reply in the answered thread, without a mention, continues the conversation.
    reply = fixture("message_thread_reply")
    assert (await workspace.event(reply)).status == 200
    posts = await eventually(lambda: len(slack.posts()) == 2 and slack.posts())
    assert (posts[1]["channel"], posts[1]["thread_ts"]) == ("C0SUPPORT1", mention["event"]["ts"])
    await eventually(workspace.settled)
    conv = await conversation(workspace, f"C0SUPPORT1:{mention['event']['ts']}")
    assert [m.conversation_id for m in await contact_messages(workspace)] == [conv.id, conv.id]

    # A thread the bot is not part of: Slack is asked, and the message is not ours.
    unrelated = fixture(
        "message_thread_reply",
        event_id="Ev0UNRELATED1",
        ts="1700000900.000100",
        thread_ts="1700000800.000100",
        text="lunch anyone?",
    )
    assert (await workspace.event(unrelated)).status == 200
    [replies_call] = slack.calls_to("conversations.replies")
    assert replies_call.args["ts"] == "1700000800.000100"

    # A thread another process answered: Slack's history shows the bot, so it is ours.
    slack.threads[("C0SUPPORT1", "1700000700.000100")].append(
        {"type": "message", "user": BOT_USER_ID, "bot_id": "B0BOT0001", "ts": "1700000701.1"}
    )
    elsewhere = fixture(
        "message_thread_reply",
        event_id="Ev0ELSEWHERE1",
        ts="1700000901.000100",
        thread_ts="1700000700.000100",
        text="how do I reset my password?",
    )
    assert (await workspace.event(elsewhere)).status == 200
    assert await workspace.inbox_count() == 3


async def test_slack_retry_with_same_event_id_gets_no_second_answer(
    workspace: Workspace, slack: FakeSlack
) -> None:
    event = fixture("message_im")
    assert (await workspace.event(event)).status == 200
    await eventually(slack.posts)
    retry = await workspace.event(event, retry_num=1)
    assert retry.status == 200
    # Refused by the inbox before Slack got its 200: there is nothing left to answer.
    assert await workspace.inbox_count() == 1
    await eventually(workspace.settled)
    assert len(slack.posts()) == 1
    assert len(await contact_messages(workspace)) == 1


@pytest.mark.parametrize(
    "forge",
    ["wrong_secret", "tampered_body", "no_signature", "garbage_signature", "no_timestamp"],
)
async def test_forged_requests_are_refused_and_nothing_is_stored(
    workspace: Workspace, slack: FakeSlack, forge: str
) -> None:
    body = fixture_bytes("message_im")
    headers = {"Content-Type": "application/json", **signed_headers(body)}
    if forge == "wrong_secret":
        headers.update(signed_headers(body, secret="not-the-signing-secret"))
    elif forge == "tampered_body":
        body = body.replace(b"reset my password", b"refund everything!")
    elif forge == "no_signature":
        del headers["X-Slack-Signature"]
    elif forge == "garbage_signature":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    else:
        del headers["X-Slack-Request-Timestamp"]
    resp = await workspace.client.post("/slack/events", data=body, headers=headers)
    assert resp.status == 401
    assert await workspace.inbox_count() == 0
    assert slack.calls == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"[]"),
        ("application/json", b"{"),
        ("application/json", b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"),
        ("application/x-www-form-urlencoded", b"payload=%5B%5D"),
        ("application/x-www-form-urlencoded", b"payload=%7B"),
    ],
)
async def test_signed_but_unreadable_bodies_get_a_400(
    workspace: Workspace, slack: FakeSlack, content_type: str, body: bytes
) -> None:
    headers = {"Content-Type": content_type, **signed_headers(body)}
    resp = await workspace.client.post("/slack/events", data=body, headers=headers)
    assert resp.status == 400
    assert (await resp.json())["ok"] is False
    assert await workspace.inbox_count() == 0
    assert slack.calls == []


@pytest.mark.parametrize("offset", [-400, +400, -120])
async def test_stale_timestamps_are_refused(
    workspace: Workspace, slack: FakeSlack, offset: int
) -> None:
    # The window comes from settings: 60 s here, so two minutes old is already stale.
    workspace.services.settings.slack.timestamp_window_seconds = 60
    body = fixture_bytes("message_im")
    ts = int(time.time()) + offset
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(SIGNING_SECRET, str(ts), body),
    }
    resp = await workspace.client.post("/slack/events", data=body, headers=headers)
    assert resp.status == 401
    assert await workspace.inbox_count() == 0


async def test_talk_to_a_person_button_hands_off_in_the_thread(
    workspace: Workspace, slack: FakeSlack
) -> None:
    event = fixture("message_im", text="What is the capital of Mongolia?")
    await workspace.event(event)
    [post] = await eventually(slack.posts)
    [buttons] = blocks_of(post, "actions")
    button = next(e for e in buttons["elements"] if e["value"] == Action.HUMAN)
    posted_ts = slack.calls_to("chat.postMessage")[0].answer["ts"]

    click = fixture("block_actions")
    click["container"].update(message_ts=posted_ts, thread_ts=event["event"]["ts"])
    click["message"].update(ts=posted_ts, thread_ts=event["event"]["ts"], blocks=post["blocks"])
    click["actions"] = [{**button, "block_id": buttons["block_id"], "action_ts": "1700000010.5"}]
    resp = await workspace.click(click)
    assert resp.status == 200

    posts = await eventually(lambda: len(slack.posts()) == 2 and slack.posts())
    assert posts[1]["text"] == HANDOFF_TEXT
    assert (posts[1]["channel"], posts[1]["thread_ts"]) == ("D0ALICE01", event["event"]["ts"])
    await eventually(workspace.settled)
    conv = await conversation(workspace, f"D0ALICE01:{event['event']['ts']}")
    assert conv.state == ConversationState.QUEUED
    pressed = (await contact_messages(workspace))[-1]
    assert pressed.text == "Talk to a person"
    assert pressed.payload["action"] == Action.HUMAN
    assert pressed.external_id == f"{posted_ts}:1700000010.5"

    # The agent's reply from the console goes back into the same Slack thread.
    resp = await workspace.client.post(
        f"/api/v1/conversations/{conv.id}/messages",
        json={"text": "Hi, Dana here <3 & happy to help"},
        headers=await bearer(workspace.client.app[SERVICES].sessionmaker, email="dana@x.test"),
    )
    assert resp.status == 201
    posts = await eventually(lambda: len(slack.posts()) == 3 and slack.posts())
    agent = posts[2]
    assert (agent["channel"], agent["thread_ts"]) == ("D0ALICE01", event["event"]["ts"])
    assert agent["blocks"][0]["elements"][0]["text"] == "*Dana*"
    assert agent["blocks"][1]["text"]["text"] == "Hi, Dana here &lt;3 &amp; happy to help"


async def test_users_info_email_joins_the_existing_contact(
    workspace: Workspace, slack: FakeSlack
) -> None:
    services = workspace.services
    async with unit_of_work(services.sessionmaker) as session:
        identity = await actions.resolve_identity(
            session, "email", "alice@example.com", name="Alice", email="alice@example.com"
        )
        known_contact = identity.contact_id

    await workspace.event(fixture("message_im"))
    await workspace.event(
        fixture("message_im", event_id="Ev0DM00000002", ts="1700000050.000100", text="thanks")
    )
    await eventually(lambda: len(slack.posts()) == 2)
    await eventually(workspace.settled)
    async with services.sessionmaker() as session:
        slack_identity = await session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "slack", ChannelIdentity.external_id == ALICE
            )
        )
        contacts = (await session.scalars(select(Contact))).all()
    assert slack_identity is not None and slack_identity.contact_id == known_contact
    assert len(contacts) == 1
    # users.info is cached: two messages, one lookup.
    assert [c.args["user"] for c in slack.calls_to("users.info")] == [ALICE]


async def test_user_without_email_and_unknown_user_still_get_answers(
    workspace: Workspace, slack: FakeSlack
) -> None:
    await workspace.event(fixture("message_im", user=BOB, channel="D0BOB0001"))
    await workspace.event(
        fixture("message_im", event_id="Ev0DM00000003", user="U0GHOST01", channel="D0GHOST01")
    )
    posts = await eventually(lambda: len(slack.posts()) == 2 and slack.posts())
    assert {p["channel"] for p in posts} == {"D0BOB0001", "D0GHOST01"}
    async with workspace.services.sessionmaker() as session:
        contacts = {c.name: c.email for c in (await session.scalars(select(Contact))).all()}
    assert contacts == {"Bob Stone": None, None: None}


@pytest.mark.parametrize("name", ["bot_message", "own_message", "channel_join"])
async def test_joins_and_bot_messages_are_not_questions(
    workspace: Workspace, slack: FakeSlack, name: str
) -> None:
    resp = await workspace.event(fixture(name))
    assert resp.status == 200
    assert await workspace.inbox_count() == 0


async def test_url_verification_challenge(workspace: Workspace) -> None:
    payload = fixture("url_verification")
    resp = await workspace.event(payload)
    assert resp.status == 200
    assert payload["challenge"] in await resp.text()


@pytest.mark.parametrize("failure", ["inbox", "auth_test"])
async def test_not_stored_means_not_acknowledged(
    workspace: Workspace, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    services = workspace.services
    if failure == "inbox":
        real_accept = services.inbox.accept

        async def broken(inbound: Any) -> Any:
            raise ConnectionError("database is gone")

        monkeypatch.setattr(services.inbox, "accept", broken)
    else:
        slack.script("auth.test", status=500, body={"ok": False, "error": "internal_error"})
    event = fixture("message_im")
    resp = await workspace.event(event)
    # Slack sees a failure and will send the event again.
    assert resp.status == 500
    assert await workspace.inbox_count() == 0

    if failure == "inbox":
        monkeypatch.setattr(services.inbox, "accept", real_accept)
    resp = await workspace.event(event, retry_num=1)
    assert resp.status == 200
    assert await workspace.inbox_count() == 1
    await eventually(slack.posts)


async def test_interactivity_with_a_forged_signature_is_refused(
    workspace: Workspace, slack: FakeSlack
) -> None:
    body = interactivity_body(fixture("block_actions"))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **signed_headers(body, secret="someone-else"),
    }
    resp = await workspace.client.post("/slack/interactivity", data=body, headers=headers)
    assert resp.status == 401
    assert await workspace.inbox_count() == 0


async def test_mentioned_people_are_named_in_the_stored_text(
    workspace: Workspace, slack: FakeSlack
) -> None:
    event = fixture("message_im", text="<@U0BOB0001> said to ask you, and <@U0GHOST01> too")
    await workspace.event(event)
    await eventually(workspace.settled)
    [question] = await contact_messages(workspace)
    # Bob is known to users.info; the ghost is not and stays readable.
    assert question.text == "@Bob Stone said to ask you, and @U0GHOST01 too"
