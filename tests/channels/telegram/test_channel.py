"""The channel on its own against the local Bot API server: what ``send`` returns for each
kind of answer Telegram gives, and how the registry builds it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from omnidesk.channels import (
    Action,
    Button,
    Channel,
    DeliveryReceipt,
    InboundMessage,
    InboundResult,
    OutboundMessage,
)
from omnidesk.channels.registry import platform_channels
from omnidesk.channels.telegram import TelegramChannel, create_channel
from omnidesk.config import Settings
from tests.channels.telegram.conftest import CHAT_ID, telegram_settings
from tests.channels.telegram.fakeapi import FakeTelegram


async def never(inbound: InboundMessage) -> InboundResult:
    raise AssertionError("no inbound traffic in these tests")


@pytest.fixture
async def channel(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[TelegramChannel]:
    built = TelegramChannel(telegram_settings(tg, webhook_url=None), tmp_path / "uploads", never)
    await built.start()
    yield built
    await built.stop()


def reply(text: str = "Hello there", **changes: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "channel": "telegram",
        "recipient_id": str(CHAT_ID),
        "conversation_id": 1,
        "message_id": 1,
        "text": text,
    }
    return OutboundMessage(**{**values, **changes})


async def test_send_returns_the_platform_message_key(
    channel: TelegramChannel, tg: FakeTelegram
) -> None:
    assert tg.to("setWebhook") == []  # no public URL configured: nothing registered
    receipt = await channel.send(reply(buttons=(Button("Talk to a person", Action.HUMAN),)))
    assert receipt == DeliveryReceipt(ok=True, external_id=f"{CHAT_ID}:1001")
    [sent] = tg.to("sendMessage")
    assert sent["reply_markup"] == {
        "inline_keyboard": [[{"text": "Talk to a person", "callback_data": "human"}]]
    }


async def test_long_text_goes_out_in_pieces_with_buttons_last(
    channel: TelegramChannel, tg: FakeTelegram
) -> None:
    text = "\n\n".join(f"Paragraph {n}: " + "lorem ipsum " * 60 for n in range(10))
    receipt = await channel.send(reply(text, buttons=(Button("Helpful", Action.HELPFUL),)))
    sent = tg.to("sendMessage")
    assert len(sent) == 2 and all(len(s["text"]) <= 4096 for s in sent)
    assert "reply_markup" not in sent[0] and "reply_markup" in sent[1]
    assert receipt.external_id == f"{CHAT_ID}:1002"


@pytest.mark.parametrize(
    ("status", "description", "retry_after", "permanent"),
    [
        (429, "Too Many Requests: retry after 3", 3, False),
        (500, "Internal Server Error", None, False),
        (502, "Bad Gateway", None, False),
        (403, "Forbidden: bot was blocked by the user", None, True),
        (403, "Forbidden: user is deactivated", None, True),
        (400, "Bad Request: chat not found", None, True),
    ],
)
async def test_send_failures_become_receipts(
    channel: TelegramChannel,
    tg: FakeTelegram,
    status: int,
    description: str,
    retry_after: int | None,
    permanent: bool,
) -> None:
    tg.fail("sendMessage", status, description, retry_after=retry_after)
    receipt = await channel.send(reply())
    assert not receipt.ok
    assert receipt.permanent is permanent
    assert receipt.retry_after == (float(retry_after) if retry_after else None)
    assert receipt.error
    if status != 429:
        # PTB drops the "Bad Request: " prefix and capitalises the rest.
        assert description.split(": ")[-1].lower() in receipt.error.lower()


async def test_unreachable_api_is_retried(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    fake = FakeTelegram(base=f"http://127.0.0.1:{port}")
    built = TelegramChannel(telegram_settings(fake), tmp_path, never, retry_base=10)
    await built.start()  # does not raise; setup is retried in the background
    try:
        receipt = await built.send(reply())
        assert not receipt.ok and not receipt.permanent and receipt.retry_after is None
        assert receipt.error and "NetworkError" in receipt.error
    finally:
        await built.stop()


async def test_recipient_that_is_not_a_chat_fails_for_good(channel: TelegramChannel) -> None:
    receipt = await channel.send(reply(recipient_id="visitor-1"))
    assert not receipt.ok and receipt.permanent


def test_registry_builds_the_channel_when_configured(settings: Settings, tg: FakeTelegram) -> None:
    assert all(c.name != "telegram" for c in platform_channels(settings, never))
    settings.telegram = telegram_settings(tg)
    [built] = [c for c in platform_channels(settings, never) if c.name == "telegram"]
    assert isinstance(built, TelegramChannel) and isinstance(built, Channel)
    assert [r.path for r in built.routes()] == ["/telegram/webhook"]  # type: ignore[attr-defined]
    polling = create_channel(
        settings.model_copy(update={"telegram": telegram_settings(tg, mode="polling")}), never
    )
    assert list(polling.routes()) == []


def test_webhook_mode_needs_a_secret(settings: Settings, tg: FakeTelegram) -> None:
    settings.telegram = telegram_settings(tg, webhook_secret=None)
    assert not settings.telegram.enabled
    settings.telegram = telegram_settings(tg, webhook_secret=SecretStr("s"))
    assert settings.telegram.enabled
