"""Answers out through the outbox to a local Slack that rate-limits, fails and refuses:
retried after Retry-After or back-off, given up on for good errors and shown on the
timeline, and sent as text when Slack refuses the blocks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from omnidesk.channels import (
    Button,
    Citation,
    DeliveryReceipt,
    InboundMessage,
    InboundResult,
    OutboundMessage,
)
from omnidesk.channels.slack import SlackChannel
from omnidesk.config import SlackSettings
from omnidesk.helpdesk import Message, OutboxItem, TimelineEvent
from tests.channels.slack.conftest import Workspace
from tests.channels.slack.fakeslack import BOT_TOKEN, FakeSlack, eventually, fixture


async def bot_reply(workspace: Workspace) -> tuple[Message, OutboxItem]:
    # One statement, so message and outbox row come from one snapshot: on PostgreSQL two
    # statements may straddle the dispatcher's commit.
    async with workspace.services.sessionmaker() as session:
        row = (
            await session.execute(
                select(Message, OutboxItem)
                .join(OutboxItem, OutboxItem.message_id == Message.id)
                .where(Message.author == "bot")
                .order_by(Message.id)
                .limit(1)
            )
        ).first()
        assert row is not None
        return row[0], row[1]


async def delivered(workspace: Workspace, state: str) -> tuple[Message, OutboxItem] | None:
    try:
        message, item = await bot_reply(workspace)
    except AssertionError:
        return None
    return (message, item) if item.state == state else None


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}),
        (500, {}, {"ok": False, "error": "internal_error"}),
        (200, {}, {"ok": False, "error": "service_unavailable"}),
    ],
    ids=["429-retry-after", "500", "ok-false-transient"],
)
async def test_transient_failures_are_retried_until_sent(
    workspace: Workspace,
    slack: FakeSlack,
    status: int,
    headers: dict[str, str],
    body: dict[str, Any],
) -> None:
    slack.script("chat.postMessage", status=status, headers=headers, body=body)
    await workspace.event(fixture("message_im"))
    message, item = await eventually(lambda: delivered(workspace, "sent"))
    first, second = slack.calls_to("chat.postMessage")
    assert first.status == status and second.answer["ok"] is True
    assert first.args["thread_ts"] == second.args["thread_ts"]
    assert item.attempts == 2 and item.last_error is None
    assert message.delivery == "sent"
    if "Retry-After" in headers:
        # Slack asked for a second's pause, and got it.
        assert second.at - first.at >= 0.9


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_auth"])
async def test_permanent_errors_fail_once_and_show_on_the_timeline(
    workspace: Workspace, slack: FakeSlack, error: str
) -> None:
    slack.script("chat.postMessage", body={"ok": False, "error": error})
    await workspace.event(fixture("message_im"))
    message, item = await eventually(lambda: delivered(workspace, "failed"))
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert item.attempts == 1 and item.last_error and error in item.last_error
    assert message.delivery == "failed"
    async with workspace.services.sessionmaker() as session:
        failures = (
            await session.scalars(
                select(TimelineEvent).where(TimelineEvent.kind == "delivery_failed")
            )
        ).all()
    [failure] = failures
    assert failure.data["channel"] == "slack" and error in failure.data["error"]
    assert failure.data["message_id"] == message.id


async def test_refused_blocks_fall_back_to_text(workspace: Workspace, slack: FakeSlack) -> None:
    slack.script("chat.postMessage", body={"ok": False, "error": "invalid_blocks"})
    await workspace.event(fixture("message_im"))
    _, item = await eventually(lambda: delivered(workspace, "sent"))
    rich, plain = slack.calls_to("chat.postMessage")
    assert "blocks" in rich.args and "blocks" not in plain.args
    assert "\u2022 Helpful" in plain.args["text"] and "<http://" in plain.args["text"]
    assert item.attempts == 1


# -- the channel's send() alone, for what the outbox cannot show ---------------------------


@pytest.fixture
async def channel(slack: FakeSlack) -> Any:
    async def on_message(inbound: InboundMessage) -> InboundResult:
        return InboundResult.ACCEPTED

    settings = SlackSettings(
        bot_token=SecretStr(BOT_TOKEN), signing_secret=SecretStr("s"), api_base_url=slack.base_url
    )
    adapter = SlackChannel(settings, on_message)
    await adapter.start()
    yield adapter
    await adapter.stop()


def outbound(thread_key: str = "C0SUPPORT1:1700000100.000200") -> OutboundMessage:
    return OutboundMessage(
        channel="slack",
        recipient_id="U0ALICE01",
        conversation_id=1,
        message_id=1,
        text="Open <Settings> & choose *Reset password*.",
        thread_key=thread_key,
        buttons=(Button("Helpful", "feedback:helpful"),),
        citations=(Citation("reset-password", "Reset your password", "https://kb.example/a?b=1"),),
    )


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (429, {"Retry-After": "7"}, {"ok": False, "error": "ratelimited"}, (False, 7.0)),
        (503, {}, {"ok": False, "error": "service_unavailable"}, (False, None)),
        (200, {}, {"ok": False, "error": "is_archived"}, (True, None)),
        (404, {}, {"ok": False, "error": "unknown_method"}, (True, None)),
    ],
)
async def test_send_receipts(
    channel: SlackChannel,
    slack: FakeSlack,
    status: int,
    headers: dict[str, str],
    body: dict[str, Any],
    expected: tuple[bool, float | None],
) -> None:
    slack.script("chat.postMessage", status=status, headers=headers, body=body)
    receipt = await channel.send(outbound())
    assert not receipt.ok
    assert (receipt.permanent, receipt.retry_after) == expected
    assert receipt.error and str(status) in receipt.error


async def test_send_without_a_thread_goes_to_the_persons_dm(
    channel: SlackChannel, slack: FakeSlack
) -> None:
    receipt = await channel.send(outbound(thread_key=""))
    assert receipt.ok
    [call] = slack.calls_to("chat.postMessage")
    assert call.args["channel"] == "U0ALICE01" and "thread_ts" not in call.args
    assert receipt.external_id == f"U0ALICE01:{call.answer['ts']}"


async def test_send_when_slack_is_unreachable_is_retried(slack: FakeSlack) -> None:
    async def on_message(inbound: InboundMessage) -> InboundResult:
        return InboundResult.ACCEPTED

    # A loopback port nobody listens on.
    settings = SlackSettings(
        bot_token=SecretStr(BOT_TOKEN),
        signing_secret=SecretStr("s"),
        api_base_url="http://127.0.0.1:9/api/",
    )
    adapter = SlackChannel(settings, on_message)
    await adapter.start()
    try:
        receipt = await adapter.send(outbound())
    finally:
        await adapter.stop()
    assert receipt == DeliveryReceipt(ok=False, error=receipt.error)
    assert receipt.error and "Connect" in receipt.error


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, {"ok": False, "error": "internal_error"}), (503, {"ok": False})],
    ids=["500", "503"],
)
async def test_a_post_whose_answer_was_lost_is_not_sent_twice(
    workspace: Workspace, slack: FakeSlack, status: int, body: dict[str, Any]
) -> None:
    # Slack posts the reply, but the answer to our call is an error: before the outbox
    # sends it again, the post is found by the id in its metadata.
    slack.script("chat.postMessage", status=status, body=body, acts=True)
    await workspace.event(fixture("message_im"))
    message, item = await eventually(lambda: delivered(workspace, "sent"))
    assert len(slack.calls_to("chat.postMessage")) == 1
    [lookup] = slack.calls_to("conversations.replies")[-1:]
    assert lookup.args["include_all_metadata"] in (True, "true", "1")
    [posted] = [m for ms in slack.threads.values() for m in ms if m.get("metadata")]
    assert posted["metadata"]["event_payload"]["omnidesk_message_id"] == message.id
    assert message.external_id and message.external_id.endswith(posted["ts"])
    assert item.attempts == 1
