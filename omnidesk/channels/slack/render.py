"""``OutboundMessage`` to a ``chat.postMessage`` body: the text as escaped mrkdwn,
citations as Slack links, buttons as a Block Kit actions block, and a ``text`` fallback
that carries everything for notifications and for clients that show no blocks."""

from __future__ import annotations

from typing import Any

from omnidesk.channels.base import OutboundMessage
from omnidesk.channels.slack.convert import ACTION_PREFIX

# Block Kit limits (https://api.slack.com/reference/block-kit).
SECTION_MAX = 3000
CONTEXT_MAX = 3000
BUTTON_LABEL_MAX = 75
BUTTON_VALUE_MAX = 2000
MAX_BUTTONS = 25
MAX_BLOCKS = 50
ACTIONS_BLOCK_ID = "omnidesk_actions"

METADATA_EVENT = "omnidesk_reply"


def escape(text: str) -> str:
    """Text safe in mrkdwn: Slack reads ``<``, ``>`` and ``&`` as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, title: str) -> str:
    """A mrkdwn link; a ``|`` in the URL would end it early, so it is percent-encoded."""
    return f"<{escape(url).replace('|', '%7C')}|{escape(title)}>"


def chunks(escaped: str, limit: int = SECTION_MAX) -> list[str]:
    """Escaped text in pieces of at most ``limit`` characters, cut at a line break or a
    space where one is near, and never inside an ``&amp;``-style entity."""
    pieces: list[str] = []
    rest = escaped
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
            # Every "&" in escaped text starts an entity of at most five characters.
            amp = rest.rfind("&", cut - 4, cut)
            if amp != -1 and ";" not in rest[amp:cut]:
                cut = amp
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def fallback_text(message: OutboundMessage) -> str:
    """The whole message as mrkdwn text, buttons listed by their labels."""
    parts = [escape(message.text)]
    if message.author == "agent" and message.author_name:
        parts[0] = f"*{escape(message.author_name)}*\n{parts[0]}"
    if message.citations:
        parts.append("\n".join(f"Source: {link(c.url, c.title)}" for c in message.citations))
    if message.buttons:
        parts.append("\n".join(f"\u2022 {escape(b.label)}" for b in message.buttons))
    return "\n\n".join(p for p in parts if p)


def blocks(message: OutboundMessage) -> list[dict[str, Any]] | None:
    """The message as Block Kit blocks, or None when it does not fit in them (the
    caller then sends the fallback text alone)."""
    result: list[dict[str, Any]] = []
    if message.author == "agent" and message.author_name:
        result.append(_context(f"*{escape(message.author_name)}*"))
    for piece in chunks(escape(message.text)):
        result.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    if message.citations:
        sources = " \u00b7 ".join(link(c.url, c.title) for c in message.citations)
        result.append(_context(f"Source: {sources}"[:CONTEXT_MAX]))
    buttons = [b for b in message.buttons if b.label and b.payload]
    if buttons:
        result.append(
            {
                "type": "actions",
                "block_id": ACTIONS_BLOCK_ID,
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{ACTION_PREFIX}{n}",
                        "text": {
                            "type": "plain_text",
                            "text": _shorten(b.label, BUTTON_LABEL_MAX),
                            "emoji": True,
                        },
                        "value": b.payload[:BUTTON_VALUE_MAX],
                    }
                    for n, b in enumerate(buttons[:MAX_BUTTONS])
                ],
            }
        )
    if not result or len(result) > MAX_BLOCKS or len(buttons) > MAX_BUTTONS:
        return None
    return result


def post_arguments(message: OutboundMessage) -> dict[str, Any]:
    """``chat.postMessage`` arguments for ``message``, except channel and thread."""
    arguments: dict[str, Any] = {
        "text": fallback_text(message),
        # Article links would unfurl into large previews under every answer.
        "unfurl_links": False,
        "unfurl_media": False,
    }
    rendered = blocks(message)
    if rendered is not None:
        arguments["blocks"] = rendered
    # Our id rides along, so after a lost answer we can see whether Slack posted it.
    arguments["metadata"] = {
        "event_type": METADATA_EVENT,
        "event_payload": {"omnidesk_message_id": message.message_id},
    }
    return arguments


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
