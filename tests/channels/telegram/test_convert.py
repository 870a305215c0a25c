"""Pure conversion both ways: captured-shape updates to ``InboundMessage``, button
payloads to 64-byte ``callback_data``, ``OutboundMessage`` to sendMessage arguments, and
Bot API errors to delivery receipts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from omnidesk.channels import Action, Button, Citation, OutboundMessage
from omnidesk.channels.telegram import CallbackCodec, Ignored, Incoming, convert
from omnidesk.channels.telegram.callbacks import MAX_CALLBACK_BYTES
from omnidesk.channels.telegram.inbound import safe_filename
from omnidesk.channels.telegram.outbound import receipt_for, render, split_text
from tests.channels.telegram.conftest import CHAT_ID, load

MAX_FILE = 20_000


def parse(data: dict[str, Any], codec: CallbackCodec | None = None) -> Incoming | Ignored:
    return convert(data, codec or CallbackCodec(), MAX_FILE)


def parsed(name: str, codec: CallbackCodec | None = None) -> Incoming:
    incoming = parse(load(name), codec)
    assert isinstance(incoming, Incoming)
    return incoming


def test_text_message() -> None:
    incoming = parsed("text_message")
    m = incoming.message
    assert (m.channel, m.sender_id, m.dedupe_key) == ("telegram", str(CHAT_ID), f"{CHAT_ID}:201")
    assert m.text == "how do I reset my password?"
    assert m.sender_name == "Mira Kovač"
    assert m.thread_key == "" and m.action is None and m.replaces is None and m.reply_to is None
    assert m.received_at == dt.datetime(2024, 6, 3, 16, 0, tzinfo=dt.UTC)
    assert m.raw["update_id"] == 845123001 and m.raw["username"] == "mira_k"
    assert incoming.files == () and incoming.callback_query_id is None


def test_start_is_a_greeting_for_the_router() -> None:
    m = parsed("command_start").message
    assert m.text == "hello" and m.action is None
    assert m.raw["command"] == "start" and m.raw["start_param"] == "ref_docs"


def test_human_command_asks_for_a_person() -> None:
    m = parsed("command_human").message
    assert m.action == Action.HUMAN
    assert m.raw["command"] == "human"


def test_edit_replaces_the_original_message() -> None:
    m = parsed("edited_message").message
    assert m.replaces == f"{CHAT_ID}:201"
    assert m.dedupe_key == f"{CHAT_ID}:201:edit:845123002"
    assert m.text == "how do I reset my password in the app?"
    assert m.received_at == dt.datetime(2024, 6, 3, 16, 1, tzinfo=dt.UTC)


def test_redelivered_update_has_the_same_key_and_an_edit_does_not() -> None:
    first, again = parsed("text_message").message, parsed("text_message").message
    assert first.dedupe_key == again.dedupe_key
    edit = parsed("edited_message").message
    second_edit_data = load("edited_message")
    second_edit_data["update_id"] += 10
    second_edit = parse(second_edit_data)
    assert isinstance(second_edit, Incoming)
    keys = {first.dedupe_key, edit.dedupe_key, second_edit.message.dedupe_key}
    assert len(keys) == 3


def test_button_press() -> None:
    incoming = parsed("callback_query")
    m = incoming.message
    assert incoming.callback_query_id == "2200654119817401234"
    assert m.dedupe_key == "cb:2200654119817401234"
    assert m.action == Action.NOT_HELPFUL and m.text == "Not helpful"
    assert m.sender_id == str(CHAT_ID)
    assert m.reply_to == f"{CHAT_ID}:1001"


def test_press_of_a_hash_this_process_does_not_know_arrives_as_its_label() -> None:
    data = load("callback_query")
    markup = data["callback_query"]["message"]["reply_markup"]
    markup["inline_keyboard"] = [[{"text": "A very long article title", "callback_data": "h:x"}]]
    data["callback_query"]["data"] = "h:x"
    incoming = parse(data)
    assert isinstance(incoming, Incoming)
    assert incoming.message.action is None
    assert incoming.message.text == "A very long article title"


def test_photo_takes_the_largest_size_that_fits() -> None:
    [ref] = parsed("photo_message").files
    assert ref.file_id == "AgACAgQAAxkBAAIBzGZfPhoto320AAQ" and ref.size == 14872
    assert ref.content_type == "image/jpeg" and ref.filename == "photo_204.jpg"
    assert parsed("photo_message").message.text == "my parcel arrived damaged"


def test_document() -> None:
    incoming = parsed("document_message")
    [ref] = incoming.files
    assert (ref.filename, ref.content_type, ref.size) == (
        "invoice-2024-06.pdf",
        "application/pdf",
        8342,
    )
    assert incoming.message.text == "here is my invoice"


def test_reply_names_the_answered_message() -> None:
    m = parsed("reply_message").message
    assert m.reply_to == f"{CHAT_ID}:1001"
    assert m.text == "the link has expired"


@pytest.mark.parametrize("name", ["group_message", "my_chat_member"])
def test_updates_that_are_not_a_private_conversation_are_ignored(name: str) -> None:
    ignored = parse(load(name))
    assert isinstance(ignored, Ignored) and ignored.reason


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\mira\\scan.png", "scan.png"),
        ("\x00evil\x1f.txt", "evil.txt"),
        (".hidden", "hidden"),
        ("", None),
        (None, None),
    ],
)
def test_safe_filename(given: str | None, expected: str | None) -> None:
    assert safe_filename(given) == expected


# -- callback data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        Action.HUMAN,
        Action.HELPFUL,
        Action.NOT_HELPFUL,
        "article:reset-password",
        "article:" + "a-very-long-article-slug-" * 4,
        "custom:" + "x" * 100,
        "a:looks-like-our-tag",
        "h:looks-like-our-hash",
        "article:" + "ü" * 40,
    ],
)
def test_callback_data_fits_and_comes_back(payload: str) -> None:
    codec = CallbackCodec()
    data = codec.encode(payload)
    assert 0 < len(data.encode()) <= MAX_CALLBACK_BYTES
    assert codec.decode(data) == payload


def test_article_choices_survive_a_restart() -> None:
    data = CallbackCodec().encode("article:reset-password")
    assert data == "a:reset-password"
    assert CallbackCodec().decode(data) == "article:reset-password"


def test_hash_map_is_bounded() -> None:
    codec = CallbackCodec(capacity=2)
    keys = [codec.encode(f"custom:{n}:" + "x" * 80) for n in range(3)]
    assert codec.decode(keys[0]) is None
    assert codec.decode(keys[2]) is not None


# -- outbound ------------------------------------------------------------------------------


def outbound(**changes: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "channel": "telegram",
        "recipient_id": str(CHAT_ID),
        "conversation_id": 1,
        "message_id": 2,
        "text": "Go to account.lumenlabs.com/reset.",
    }
    values.update(changes)
    return OutboundMessage(**values)


def test_render_answer_with_citation_and_feedback_buttons() -> None:
    out = render(
        outbound(
            citations=(Citation("reset-password", "How to reset your password", "http://x/kb/r"),),
            buttons=(Button("Helpful", Action.HELPFUL), Button("Not helpful", Action.NOT_HELPFUL)),
            reply_to_external_id=f"{CHAT_ID}:201",
        ),
        CallbackCodec(),
    )
    assert out.chat_id == CHAT_ID
    assert out.chunks == (
        "Go to account.lumenlabs.com/reset.\n\nSource: How to reset your password <http://x/kb/r>",
    )
    assert out.keyboard is not None
    rows = out.keyboard.to_dict()["inline_keyboard"]
    assert rows == [
        [
            {"text": "Helpful", "callback_data": "feedback:helpful"},
            {"text": "Not helpful", "callback_data": "feedback:not_helpful"},
        ]
    ]
    assert out.reply_parameters is None  # the bot answers at once: no quote


def test_render_long_buttons_one_per_row() -> None:
    out = render(
        outbound(
            buttons=(
                Button("Changing your username or display name", "article:change-username"),
                Button("Talk to a person", Action.HUMAN),
            )
        ),
        CallbackCodec(),
    )
    assert out.keyboard is not None
    assert [len(row) for row in out.keyboard.inline_keyboard] == [1, 1]


def test_render_rating_scale_on_one_row() -> None:
    scale = tuple(Button(str(n), f"{Action.CSAT_PREFIX}{n}") for n in range(1, 6))
    out = render(outbound(buttons=scale), CallbackCodec())
    assert out.keyboard is not None
    [row] = out.keyboard.to_dict()["inline_keyboard"]
    assert [key["callback_data"] for key in row] == [f"csat:{n}" for n in range(1, 6)]


def test_render_agent_reply_names_the_agent_and_quotes_the_question() -> None:
    out = render(
        outbound(
            author="agent",
            author_name="Dana",
            text="Hi!",
            reply_to_external_id=f"{CHAT_ID}:201",
        ),
        CallbackCodec(),
    )
    assert out.chunks == ("Dana: Hi!",)
    assert out.reply_parameters is not None
    assert out.reply_parameters.message_id == 201
    assert out.reply_parameters.allow_sending_without_reply is True
    # A key of another kind (a button press) is not quoted.
    pressed = render(outbound(author="agent", reply_to_external_id="cb:1"), CallbackCodec())
    assert pressed.reply_parameters is None


def test_render_refuses_a_recipient_that_is_not_a_chat() -> None:
    with pytest.raises(ValueError, match="chat id"):
        render(outbound(recipient_id="visitor-1"), CallbackCodec())


def test_split_text() -> None:
    text = ("word " * 1000).strip() + "\n\n" + "x" * 5000
    chunks = split_text(text)
    assert all(0 < len(c) <= 4096 for c in chunks)
    assert "".join(chunks).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    assert split_text("short") == ["short"]


@pytest.mark.parametrize(
    ("error", "permanent", "retry_after"),
    [
        (RetryAfter(7), False, 7.0),
        (Forbidden("Forbidden: bot was blocked by the user"), True, None),
        (BadRequest("Bad Request: chat not found"), True, None),
        (ChatMigrated(-100123), True, None),
        (NetworkError("Internal Server Error (500)"), False, None),
        (TimedOut(), False, None),
        (Conflict("Conflict"), False, None),
        (TelegramError("something else"), False, None),
    ],
)
def test_errors_to_receipts(
    error: TelegramError, permanent: bool, retry_after: float | None
) -> None:
    receipt = receipt_for(error)
    assert not receipt.ok
    assert receipt.permanent is permanent
    assert receipt.retry_after == retry_after
    assert receipt.error and type(error).__name__ in receipt.error
