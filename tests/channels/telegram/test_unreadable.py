"""Updates python-telegram-bot cannot read, by webhook and by long polling, in the real
app: acknowledged, parked in the inbox with the reason (and on the timeline when the
sender can be named), never fetched again, never blocking the messages behind them, and
never logged with what the customer wrote."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from telegram import Update

from omnidesk.helpdesk import (
    Conversation,
    ConversationState,
    InboxItem,
    InboxState,
    TimelineEvent,
)
from tests.channels.telegram.conftest import (
    CHAT_ID,
    fixture,
    post_update,
    variant,
    wait_until,
)
from tests.channels.telegram.fakeapi import FakeTelegram
from tests.channels.telegram.test_webhook import rows

Client = TestClient[Any, Any]
# Telegram's own webhook example: "from" has no is_bot, which the library requires.
DOCS_START = "tnt-tg-bot/message.json"
# A real 2017 update: its sticker predates file_unique_id.
OLD_STICKER = "telegram-types/message_with_sticker.json"


async def parked(client: Client) -> list[InboxItem]:
    return await rows(client, InboxItem, InboxItem.state == InboxState.FAILED)


def test_the_fixtures_really_are_unreadable() -> None:
    for path in (DOCS_START, OLD_STICKER):
        with pytest.raises(TypeError):
            Update.de_json(fixture(path), None)


async def test_webhook_acknowledges_and_parks_an_unreadable_update(
    client: Client, tg: FakeTelegram
) -> None:
    update = fixture(DOCS_START)
    assert await post_update(client, update) == 200
    assert await post_update(client, update) == 200  # Telegram's retry: refused as duplicate
    await wait_until(lambda: parked(client), what="the parked row")
    [item] = await rows(client, InboxItem)
    assert item.state == InboxState.FAILED
    assert "python-telegram-bot cannot read it" in (item.error or "")
    assert "is_bot" in (item.error or "")
    assert item.payload["raw"]["update"] == update  # the whole update, for an admin
    assert item.payload["sender_id"] == "1111111" and item.payload["text"] == "/start"

    async def noted() -> list[TimelineEvent]:
        return await rows(client, TimelineEvent, TimelineEvent.kind == "inbound_failed")

    await wait_until(noted, what="the timeline event")
    [event] = await noted()
    assert event.data["text"] == "/start" and "is_bot" in event.data["reason"]
    [conversation] = await rows(client, Conversation)
    assert conversation.state == ConversationState.QUEUED  # a person looks at it


async def test_webhook_parks_an_update_whose_sender_cannot_be_named(client: Client) -> None:
    assert await post_update(client, {"update_id": 5, "message": {"message_id": 1}}) == 200
    await wait_until(lambda: parked(client), what="the parked row")
    [item] = await rows(client, InboxItem)
    assert item.payload["sender_id"] == "" and "cannot read it" in (item.error or "")
    assert await rows(client, TimelineEvent, TimelineEvent.kind == "inbound_failed") == []


async def test_polling_parks_an_unreadable_update_and_delivers_the_ones_behind_it(
    polling_client: Client, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = fixture(OLD_STICKER)
    good = variant("text_message", bad["update_id"] + 1)
    tg.push(bad)
    tg.push(good)

    def answered() -> bool:
        return any(p["chat_id"] == CHAT_ID for p in tg.to("sendMessage"))

    await wait_until(answered, what="the answer to the message behind the bad one")
    offsets = [p.get("offset") for p in tg.to("getUpdates")]
    await wait_until(
        lambda: good["update_id"] + 1 in [p.get("offset") for p in tg.to("getUpdates")],
        what="the offset past both",
    )
    assert bad["update_id"] not in offsets  # never asked for the bad one again
    await wait_until(lambda: parked(polling_client), what="the parked row")
    [item] = await parked(polling_client)
    assert item.payload["sender_id"] == "12345678"
    assert "file_unique_id" in (item.error or "")
    # Nothing at CRITICAL, and no customer's words in any record above DEBUG.
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]
    loud = [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG]
    assert not [m for m in loud if "CityWars" in m or "reset my password" in m], loud
