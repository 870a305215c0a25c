"""``OutboundMessage`` to ``chat.postMessage`` arguments: escaping, links, buttons, long
text, and the text fallback."""

from __future__ import annotations

import pytest

from omnidesk.channels import Button, Citation, OutboundMessage
from omnidesk.channels.slack.render import (
    MAX_BUTTONS,
    SECTION_MAX,
    chunks,
    escape,
    link,
    post_arguments,
)


def message(**fields: object) -> OutboundMessage:
    values: dict[str, object] = {
        "channel": "slack",
        "recipient_id": "U0ALICE01",
        "conversation_id": 1,
        "message_id": 1,
        "text": "Open <Settings> & choose *Reset password*.",
    }
    values.update(fields)
    return OutboundMessage(**values)  # type: ignore[arg-type]


def test_text_citation_and_buttons() -> None:
    arguments = post_arguments(
        message(
            buttons=(Button("Helpful", "feedback:helpful"), Button("Not helpful", "x")),
            citations=(Citation("reset", "Reset <your> password", "https://kb.example/a?b=1&c|d"),),
        )
    )
    section, context, actions = arguments["blocks"]
    assert section["text"] == {
        "type": "mrkdwn",
        "text": "Open &lt;Settings&gt; &amp; choose *Reset password*.",
    }
    assert context["elements"][0]["text"] == (
        "Source: <https://kb.example/a?b=1&amp;c%7Cd|Reset &lt;your&gt; password>"
    )
    assert [(e["action_id"], e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("omnidesk_0", "Helpful", "feedback:helpful"),
        ("omnidesk_1", "Not helpful", "x"),
    ]
    assert arguments["text"] == (
        "Open &lt;Settings&gt; &amp; choose *Reset password*.\n\n"
        "Source: <https://kb.example/a?b=1&amp;c%7Cd|Reset &lt;your&gt; password>\n\n"
        "\u2022 Helpful\n\u2022 Not helpful"
    )
    assert arguments["unfurl_links"] is False


def test_long_labels_are_shortened() -> None:
    [actions] = post_arguments(message(text="", buttons=(Button("x" * 200, "article:a"),)))[
        "blocks"
    ]
    label = actions["elements"][0]["text"]["text"]
    assert len(label) == 75 and label.endswith("\u2026")


def test_long_text_is_split_into_sections() -> None:
    text = ("word & " * 1500).strip()
    blocks = post_arguments(message(text=text))["blocks"]
    sections = [b["text"]["text"] for b in blocks]
    assert len(sections) > 1
    assert all(len(s) <= SECTION_MAX for s in sections)
    assert " ".join(sections) == escape(text)


@pytest.mark.parametrize("limit", [7, 8, 9, 10, 11])
def test_chunks_never_cut_an_entity(limit: int) -> None:
    escaped = escape("&&&&&&&&&&")
    pieces = chunks(escaped, limit)
    assert "".join(pieces) == escaped
    assert all(p.count("&") == p.count(";") for p in pieces)


def test_too_many_buttons_fall_back_to_text() -> None:
    many = tuple(Button(f"Article {n}", f"article:{n}") for n in range(MAX_BUTTONS + 1))
    arguments = post_arguments(message(buttons=many))
    assert "blocks" not in arguments
    assert "\u2022 Article 25" in arguments["text"]


def test_agent_name_heads_the_message() -> None:
    arguments = post_arguments(message(author="agent", author_name="Dana <3"))
    assert arguments["blocks"][0] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "*Dana &lt;3*"}],
    }
    assert arguments["text"].startswith("*Dana &lt;3*\nOpen")


def test_link() -> None:
    assert link("https://a.example/x", "A & B") == "<https://a.example/x|A &amp; B>"
