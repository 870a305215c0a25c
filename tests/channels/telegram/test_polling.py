"""Long-polling mode: in the real app, and on its own with an ``on_message`` that fails,
to show the offset moves only past what was committed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from omnidesk.channels import InboundMessage, InboundResult
from omnidesk.channels.telegram import TelegramChannel
from omnidesk.channels.telegram.polling import Poller
from tests.channels.telegram.conftest import (
    CHAT_ID,
    WEBHOOK,
    load,
    telegram_settings,
    variant,
    wait_until,
)
from tests.channels.telegram.fakeapi import FakeTelegram


def offsets(tg: FakeTelegram) -> list[int | None]:
    return [p.get("offset") for p in tg.to("getUpdates")]


async def test_polling_mode_answers_and_advances_the_offset(
    polling_client: TestClient[Any, Any], tg: FakeTelegram
) -> None:
    client = polling_client
    await wait_until(lambda: tg.to("deleteWebhook"), what="the old webhook removed")
    assert tg.to("deleteWebhook")[0]["drop_pending_updates"] == "false"  # nothing is dropped
    assert tg.to("setWebhook") == []
    # The webhook route is not mounted in polling mode.
    assert (await client.post(WEBHOOK, json=load("text_message"))).status in (404, 405)

    update = load("text_message")
    tg.push(update)
    await wait_until(lambda: tg.to("sendMessage"), what="the answer")
    [sent] = tg.to("sendMessage")
    assert sent["chat_id"] == CHAT_ID and "Source: How to reset your password" in sent["text"]
    await wait_until(
        lambda: update["update_id"] + 1 in offsets(tg), what="the offset to move past it"
    )
    polls = tg.to("getUpdates")
    assert all(p["timeout"] == 25 for p in polls)
    assert polls[0]["allowed_updates"] == ["message", "edited_message", "callback_query"]


class FlakyInbox:
    """``on_message`` that fails the first ``failures`` calls, as a database outage would."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[InboundMessage] = []
        self.committed: list[str] = []
        self.poller: Poller | None = None
        self.offsets: list[int | None] = []  # the poller's offset at each call

    async def __call__(self, inbound: InboundMessage) -> InboundResult:
        self.calls.append(inbound)
        self.offsets.append(self.poller.offset if self.poller else None)
        if self.failures:
            self.failures -= 1
            # As a database error quotes the row it could not write.
            raise ConnectionError(f"database unavailable [parameters: ({inbound.text!r},)]")
        if inbound.dedupe_key in self.committed:
            return InboundResult.DUPLICATE
        self.committed.append(inbound.dedupe_key)
        return InboundResult.ACCEPTED


@pytest.fixture
async def polling_channel(
    tg: FakeTelegram, tmp_path: Path
) -> AsyncIterator[tuple[TelegramChannel, FlakyInbox]]:
    inbox = FlakyInbox(failures=2)
    channel = TelegramChannel(
        telegram_settings(tg, mode="polling"),
        tmp_path / "uploads",
        inbox,
        poll_timeout=1,
        retry_base=0.05,
        retry_cap=0.2,
    )
    inbox.poller = channel.poller
    await channel.start()
    yield channel, inbox
    await channel.stop()
    await channel.stop()  # stopping twice is harmless (the app and the services both do)


async def test_offset_moves_only_past_committed_updates(
    polling_channel: tuple[TelegramChannel, FlakyInbox],
    tg: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    channel, inbox = polling_channel
    first = variant("text_message", 900, message_id=1)
    second = variant("text_message", 901, message_id=2, text="where is my parcel?")
    tg.push(first)
    tg.push(second)
    await wait_until(lambda: inbox.committed == [f"{CHAT_ID}:1", f"{CHAT_ID}:2"], what="commits")
    await wait_until(lambda: 902 in offsets(tg), what="the offset past both")
    # Both failures hit the first update; until it was committed the offset stayed put,
    # so Telegram sent it again.
    assert [m.dedupe_key for m in inbox.calls] == [f"{CHAT_ID}:1"] * 3 + [f"{CHAT_ID}:2"]
    assert inbox.offsets == [None, None, None, 901]
    assert channel.poller.offset == 902
    seen = [o for o in offsets(tg) if o is not None]
    assert seen == sorted(seen)
    # The failures were logged, but what the customer wrote only at DEBUG.
    loud = [r for r in caplog.records if r.levelno > logging.DEBUG]
    assert any("ConnectionError" in r.getMessage() for r in loud)
    assert not [r for r in loud if "reset my password" in r.getMessage() or r.exc_info]


async def test_polling_backs_off_on_api_errors_and_recovers(
    polling_channel: tuple[TelegramChannel, FlakyInbox], tg: FakeTelegram
) -> None:
    _, inbox = polling_channel
    inbox.failures = 0
    tg.fail("getUpdates", 500, "Internal Server Error", times=2)
    tg.fail("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    tg.push(variant("text_message", 950, message_id=5))
    await wait_until(lambda: inbox.committed == [f"{CHAT_ID}:5"], what="the update after errors")
    failed = [c for c in tg.attempts("getUpdates") if c.status != 200]
    assert [c.status for c in failed][-3:] == [500, 500, 429]
    ok_after = [c for c in tg.attempts("getUpdates") if c.status == 200 and c.at > failed[-1].at]
    assert ok_after and ok_after[0].at - failed[-1].at >= 0.9  # retry_after was honoured


async def test_unreachable_api_at_start_does_not_stop_the_service(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.fail("getMe", 502, "Bad Gateway", times=2)
    inbox = FlakyInbox(failures=0)
    channel = TelegramChannel(
        telegram_settings(tg), tmp_path / "uploads", inbox, retry_base=0.05, retry_cap=0.2
    )
    await channel.start()  # does not raise
    try:
        await wait_until(lambda: tg.to("setWebhook"), what="the webhook set by the retry")
        assert len(tg.attempts("getMe")) == 3
    finally:
        await channel.stop()
