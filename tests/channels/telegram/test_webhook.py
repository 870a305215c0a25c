"""The Telegram channel in the real app, webhook mode, against a local Bot API server:
answers with citations, refused strangers, redeliveries, hand-off, button presses,
edits, files, and what delivery failures leave on the timeline."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from omnidesk.bot.app import SERVICES
from omnidesk.bot.router import HANDOFF_TEXT, NOT_HELPFUL_TEXT
from omnidesk.config import Settings
from omnidesk.helpdesk import (
    Author,
    Conversation,
    ConversationState,
    DeliveryState,
    InboxItem,
    InboxState,
    Message,
    OutboxItem,
    TimelineEvent,
)
from tests.accounts import client_bearer
from tests.channels.telegram.conftest import (
    CHAT_ID,
    HEADER,
    SECRET,
    WEBHOOK,
    load,
    post_update,
    variant,
    wait_until,
)
from tests.channels.telegram.fakeapi import FakeTelegram

Client = TestClient[Any, Any]


async def rows(client: Client, model: Any, *where: Any) -> list[Any]:
    async with client.app[SERVICES].sessionmaker() as session:
        return list((await session.scalars(select(model).where(*where).order_by(model.id))).all())


async def count(client: Client, model: Any) -> int:
    async with client.app[SERVICES].sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def settled(client: Client) -> bool:
    """Every inbound message handled and every reply out of the outbox."""
    inbox = await rows(client, InboxItem)
    outbox = await rows(client, OutboxItem)
    return all(i.state == InboxState.DONE for i in inbox) and all(
        o.state != DeliveryState.PENDING for o in outbox
    )


async def ask(client: Client, tg: FakeTelegram, update: dict[str, Any]) -> dict[str, Any]:
    """Post an update and return the next message the bot sends."""
    before = len(tg.to("sendMessage"))
    assert await post_update(client, update) == 200
    await wait_until(lambda: len(tg.to("sendMessage")) > before, what="the bot's reply")
    return tg.to("sendMessage")[before]


async def test_question_is_answered_with_citation(client: Client, tg: FakeTelegram) -> None:
    assert tg.to("getMe")
    [hook] = tg.to("setWebhook")
    assert hook["url"] == "https://support.example.com/telegram/webhook"
    assert hook["secret_token"] == SECRET
    assert hook["allowed_updates"] == ["message", "edited_message", "callback_query"]

    sent = await ask(client, tg, load("text_message"))
    assert sent["chat_id"] == CHAT_ID
    assert "account.lumenlabs.com/reset" in sent["text"]
    assert "\n\nSource: How to reset your password <http" in sent["text"]
    assert "/kb/reset-password" in sent["text"]
    assert "parse_mode" not in sent
    keyboard = sent["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard] == [
        ["feedback:helpful", "feedback:not_helpful"]
    ]

    await wait_until(lambda: settled(client), what="delivery")
    contact, bot = await rows(client, Message)
    assert (contact.author, contact.external_id) == (Author.CONTACT, f"{CHAT_ID}:201")
    assert contact.text == "how do I reset my password?"
    assert bot.author == Author.BOT and bot.delivery == DeliveryState.SENT
    assert bot.external_id == f"{CHAT_ID}:1001"  # the id Telegram gave the sent message
    [conversation] = await rows(client, Conversation)
    assert conversation.channel == "telegram" and conversation.thread_key == ""


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("", 401), ("not-the-secret", 403)])
async def test_wrong_or_missing_secret_is_refused(
    client: Client, tg: FakeTelegram, secret: str | None, status: int
) -> None:
    assert await post_update(client, load("text_message"), secret=secret) == status
    assert await count(client, InboxItem) == 0
    assert tg.to("sendMessage") == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"message": {"text": "no update id"}}', 400),
        (b'{"update_id": "1", "message": {"message_id": 1}}', 400),
        (b'{"update_id": true}', 400),
        (b'{"update_id": 1, "message": {"text": "' + b"x" * 300_000 + b'"}}', 413),
        (b'{"update_id": 1, "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", 400),
        (b"\xff\xfe{}", 400),
    ],
)
async def test_malformed_bodies_are_refused(client: Client, body: bytes, status: int) -> None:
    resp = await client.post(
        WEBHOOK, data=body, headers={HEADER: SECRET, "Content-Type": "application/json"}
    )
    assert resp.status == status
    assert await count(client, InboxItem) == 0


@pytest.mark.parametrize("name", ["group_message", "my_chat_member"])
async def test_other_updates_are_acknowledged_and_ignored(
    client: Client, tg: FakeTelegram, name: str
) -> None:
    assert await post_update(client, load(name)) == 200
    assert await count(client, InboxItem) == 0


async def test_redelivered_update_gets_no_second_answer(client: Client, tg: FakeTelegram) -> None:
    update = load("text_message")
    await ask(client, tg, update)
    # Telegram retries an update it thinks was not received: same update, same message.
    assert await post_update(client, update) == 200
    assert await count(client, InboxItem) == 1
    await wait_until(lambda: settled(client), what="delivery")
    assert len(tg.to("sendMessage")) == 1
    assert len(await rows(client, Message, Message.author == Author.BOT)) == 1


async def test_human_command_hands_off(client: Client, tg: FakeTelegram) -> None:
    sent = await ask(client, tg, load("command_human"))
    assert sent["text"] == HANDOFF_TEXT
    [conversation] = await rows(client, Conversation)
    assert conversation.state == ConversationState.QUEUED
    [contact] = await rows(client, Message, Message.author == Author.CONTACT)
    assert contact.payload["action"] == "human"


async def test_start_is_handed_to_the_router(client: Client, tg: FakeTelegram) -> None:
    await ask(client, tg, load("command_start"))
    [contact] = await rows(client, Message, Message.author == Author.CONTACT)
    assert contact.text == "hello" and contact.external_id == f"{CHAT_ID}:200"


async def test_button_press_is_answered_and_handled(client: Client, tg: FakeTelegram) -> None:
    answer = await ask(client, tg, load("text_message"))
    press = load("callback_query")
    query = press["callback_query"]
    query["message"].update(
        message_id=1001, text=answer["text"], reply_markup=answer["reply_markup"]
    )
    [[_, not_helpful]] = answer["reply_markup"]["inline_keyboard"]
    query["data"] = not_helpful["callback_data"]

    sent = await ask(client, tg, press)
    assert sent["text"] == NOT_HELPFUL_TEXT
    assert tg.to("answerCallbackQuery") == [{"callback_query_id": query["id"]}]
    [conversation] = await rows(client, Conversation)
    assert conversation.state == ConversationState.QUEUED
    pressed = (await rows(client, Message, Message.author == Author.CONTACT))[-1]
    assert pressed.text == "Not helpful"
    assert pressed.payload["action"] == "feedback:not_helpful"
    feedback = await rows(client, TimelineEvent, TimelineEvent.kind == "feedback")
    assert [e.data["helpful"] for e in feedback] == [False]


async def test_edit_updates_the_stored_message_without_a_new_answer(
    client: Client, tg: FakeTelegram
) -> None:
    await ask(client, tg, load("text_message"))
    edit = load("edited_message")
    assert await post_update(client, edit) == 200
    assert await post_update(client, edit) == 200  # redelivered edit: refused as duplicate

    async def edited() -> bool:
        [contact] = await rows(client, Message, Message.author == Author.CONTACT)
        return bool(contact.payload.get("edited"))

    await wait_until(edited, what="the edit")
    await wait_until(lambda: settled(client), what="the inbox")
    [contact] = await rows(client, Message, Message.author == Author.CONTACT)
    assert contact.text == "how do I reset my password in the app?"
    assert await count(client, InboxItem) == 2
    assert len(tg.to("sendMessage")) == 1
    [event] = await rows(client, TimelineEvent, TimelineEvent.kind == "message_edited")
    assert event.data["previous"] == "how do I reset my password?"


async def test_files_are_stored_as_attachments(
    client: Client, tg: FakeTelegram, tg_settings: Settings
) -> None:
    photo_bytes = bytes(range(256)) * 58  # 14848 bytes, under the 20000 limit
    tg.add_file("AgACAgQAAxkBAAIBzGZfPhoto320AAQ", "AQADhsMxG_m", photo_bytes)
    pdf_bytes = b"%PDF-1.7\n" + b"0" * 8000
    tg.add_file("BQACAgQAAxkBAAIBzWZfDocInvoiceAAQ", "AgADiQcAAs", pdf_bytes)
    # Declared too large: never fetched.
    declared = variant("document_message", 845123020, message_id=220)
    declared["message"]["document"].update(file_id="BIG", file_unique_id="big", file_size=50_000)
    # Size unknown until the download runs past the limit: cut off, nothing kept.
    tg.add_file("SNEAKY", "sneaky", b"z" * 30_000, declare_size=False)
    sneaky = variant("document_message", 845123021, message_id=221)
    sneaky["message"]["document"].update(file_id="SNEAKY", file_unique_id="sneaky")
    del sneaky["message"]["document"]["file_size"]

    photo = load("photo_message")
    for update in (photo, load("document_message"), declared, sneaky, photo):
        assert await post_update(client, update) == 200
    await wait_until(lambda: settled(client), what="the inbox")

    contacts = await rows(client, Message, Message.author == Author.CONTACT)
    assert [m.text for m in contacts] == [
        "my parcel arrived damaged",
        "here is my invoice",
        "here is my invoice",
        "here is my invoice",
    ]
    [photo_att] = contacts[0].payload["attachments"]
    [pdf_att] = contacts[1].payload["attachments"]
    assert contacts[2].payload.get("attachments") is None
    assert contacts[3].payload.get("attachments") is None
    assert (photo_att["filename"], photo_att["content_type"], photo_att["size"]) == (
        "photo_204.jpg",
        "image/jpeg",
        len(photo_bytes),
    )
    assert (pdf_att["filename"], pdf_att["size"]) == ("invoice-2024-06.pdf", len(pdf_bytes))
    for attachment, content in ((photo_att, photo_bytes), (pdf_att, pdf_bytes)):
        assert attachment["url"].startswith("/api/v1/attachments/tg-")
        resp = await client.get(attachment["url"], headers=await client_bearer(client))
        assert resp.status == 200 and await resp.read() == content
        assert (await client.get(attachment["url"])).status == 401
    # The oversized ones: the declared one was never asked for, the other was cut off.
    fetched = [p["file_id"] for p in tg.to("getFile")]
    assert "BIG" not in fetched
    assert fetched.count("AgACAgQAAxkBAAIBzGZfPhoto320AAQ") == 1  # redelivery reused the file
    stored = sorted(p.name for p in tg_settings.uploads_dir.iterdir())
    assert len(stored) == 2 and not any(name.startswith(".") for name in stored)
    inbox = await rows(client, InboxItem)
    skipped = [i.payload["raw"].get("skipped_files") for i in inbox]
    assert skipped[2] == [
        {"filename": "invoice-2024-06.pdf", "size": 50_000, "reason": "too_large"}
    ]
    assert skipped[3] == [{"filename": "invoice-2024-06.pdf", "size": None, "reason": "too_large"}]


async def test_rate_limit_is_waited_out_then_delivered(client: Client, tg: FakeTelegram) -> None:
    tg.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    assert await post_update(client, load("text_message")) == 200
    await wait_until(lambda: tg.to("sendMessage"), what="delivery after the wait")
    first, second = tg.attempts("sendMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.9
    await wait_until(lambda: settled(client), what="delivery")
    [item] = await rows(client, OutboxItem)
    assert item.state == DeliveryState.SENT and item.attempts == 2
    [bot] = await rows(client, Message, Message.author == Author.BOT)
    assert bot.delivery == DeliveryState.SENT


async def test_blocked_bot_fails_for_good_on_the_timeline(client: Client, tg: FakeTelegram) -> None:
    tg.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    assert await post_update(client, load("text_message")) == 200

    async def failed() -> bool:
        return bool(await rows(client, TimelineEvent, TimelineEvent.kind == "delivery_failed"))

    await wait_until(failed, what="the failure on the timeline")
    [event] = await rows(client, TimelineEvent, TimelineEvent.kind == "delivery_failed")
    assert event.data["channel"] == "telegram" and event.data["attempts"] == 1
    assert "blocked by the user" in event.data["error"]
    [item] = await rows(client, OutboxItem)
    assert item.state == DeliveryState.FAILED
    [bot] = await rows(client, Message, Message.author == Author.BOT)
    assert bot.delivery == DeliveryState.FAILED
    assert len(tg.attempts("sendMessage")) == 1
