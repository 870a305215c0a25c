"""Every captured update in ``tests/fixtures/telegram`` through the conversion both the
webhook and long polling use (``convert``), down to the ``InboundMessage``: the text the
customer wrote (or a readable line for what they sent), the files, the thread, whether a
machine sent it; or that it is ignored, or parked, with the reason (see ``tests/corpus.py``).

Telegram cases carry ``attachments`` (file names in order), ``thread_key`` and
``automated``; optionally ``sender``, ``action``, ``replaces``, ``reply_to`` and ``raw``
(keys the message's raw data must hold). ``ignored = "words of the reason"`` marks an
update that is not a customer's message (its ``text`` is then ""); ``parked = "words of
the reason"`` one python-telegram-bot cannot read, kept for the inbox to park with what
could still be read of it. ``wrap = "message"`` (or another update field) marks a file
that holds the object an update carries rather than the whole update."""

from __future__ import annotations

import json
from typing import Any

import pytest

from omnidesk.channels.telegram import CallbackCodec, Ignored, Incoming, convert
from omnidesk.config import TelegramSettings
from tests.corpus import Case, corpus_params

REQUIRED = ("attachments", "thread_key", "automated")
OPTIONAL = ("action", "replaces", "reply_to")
WRAPPED_UPDATE_ID = 900_000_001
MAX_FILE_BYTES = TelegramSettings().max_file_bytes


def update_of(case: Case) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(case.path.read_text(encoding="utf-8"))
    wrap = case.expect.get("wrap")
    return {"update_id": WRAPPED_UPDATE_ID, wrap: data} if wrap else data


@pytest.mark.parametrize("case", corpus_params("telegram"))
def test_update_arrives_whole(case: Case) -> None:
    result = convert(update_of(case), CallbackCodec(), MAX_FILE_BYTES)
    if "ignored" in case.expect:
        assert isinstance(result, Ignored), f"{case.id}: not ignored: {result}"
        assert case.expect["ignored"] in result.reason, f"{case.id}: {result.reason}"
        case.text_ok("")
        return
    assert isinstance(result, Incoming), f"{case.id}: ignored: {result}"
    message = result.message
    if "parked" in case.expect:
        assert message.unreadable and case.expect["parked"] in message.unreadable, case.id
    else:
        assert message.unreadable is None, f"{case.id}: {message.unreadable}"
    missing = [key for key in REQUIRED if key not in case.expect]
    assert not missing, f"{case.id}: manifest lacks {missing}"
    case.text_ok(message.text)
    assert [ref.filename for ref in result.files] == case.expect["attachments"], case.id
    assert message.thread_key == case.expect["thread_key"], case.id
    assert message.automated is case.expect["automated"], case.id
    if "sender" in case.expect:
        assert message.sender_id == case.expect["sender"], case.id
    for key in OPTIONAL:
        if key in case.expect:
            assert getattr(message, key) == case.expect[key], f"{case.id}: {key}"
    for key, value in case.expect.get("raw", {}).items():
        assert message.raw.get(key) == value, f"{case.id}: raw[{key!r}] = {message.raw.get(key)!r}"
