"""Old quick-reply groups are marked answered in the history the welcome frame carries."""

from __future__ import annotations

from typing import Any

from omnidesk.channels.webchat.history import mark_answered

FEEDBACK = [
    {"label": "Helpful", "payload": "helpful"},
    {"label": "Not helpful", "payload": "not_helpful"},
]


def bot(ident: int, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"id": ident, "author": "bot", "text": f"answer {ident}", "buttons": buttons or []}


def contact(ident: int, text: str, client_id: str | None = None) -> dict[str, Any]:
    return {"id": ident, "author": "contact", "text": text, "buttons": [], "client_id": client_id}


def answered(history: list[dict[str, Any]]) -> dict[int, str]:
    return {m["id"]: m["answered"] for m in mark_answered(history) if "answered" in m}


def test_a_press_names_its_message() -> None:
    history = [
        bot(1, FEEDBACK),
        contact(2, "next question", "c-2"),
        bot(3, FEEDBACK),
        # The older answer's Helpful, pressed after the newer one arrived.
        contact(4, "Helpful", "m1-7c0e"),
    ]
    assert answered(history) == {1: "Helpful"}


def test_a_press_without_a_name_is_matched_by_label_to_the_latest_group() -> None:
    history = [bot(1, FEEDBACK), bot(2, FEEDBACK), contact(3, "Not helpful", "c-3")]
    assert answered(history) == {2: "Not helpful"}


def test_unanswered_groups_and_other_text_stay_open() -> None:
    history = [bot(1, FEEDBACK), contact(2, "something else", "c-2"), bot(3)]
    assert answered(history) == {}


def test_a_group_is_answered_once_and_unknown_ids_are_ignored() -> None:
    history = [
        bot(1, FEEDBACK),
        contact(2, "Helpful", "m1-a"),
        contact(3, "Not helpful", "m1-b"),
        contact(4, "Helpful", "m99-c"),
    ]
    assert answered(history) == {1: "Helpful"}


def test_presses_before_their_message_do_not_count() -> None:
    assert answered([contact(1, "Helpful", "m2-a"), bot(2, FEEDBACK)]) == {}
