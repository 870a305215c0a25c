"""The Slack agent channel: an escalation posted there as a thread (who, where from, why,
the last messages, a link to the console), and a person's reply in such a thread turned
into an ``AgentMessage`` for the service. Rendering and conversion only; what a reply
does is decided outside the channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omnidesk.channels.base import AgentMessage, RoomPost
from omnidesk.channels.slack.convert import NAME, SlackUser
from omnidesk.channels.slack.render import SECTION_MAX, escape, link
from omnidesk.channels.slack.text import message_text

# A thread reply that is part of the discussion (not an edit, a join or a bot post).
REPLY_SUBTYPES = frozenset({None, "thread_broadcast"})


def handoff_arguments(handoff: RoomPost) -> dict[str, Any]:
    """The ``chat.postMessage`` body (blocks and a text fallback) of an escalation."""
    ticket = f" #{handoff.ticket_id}" if handoff.ticket_id else ""
    title = (
        f"*{escape(handoff.customer)}* needs a person on {escape(handoff.channel)}"
        f" (ticket{ticket}, {escape(handoff.reason)}, priority {escape(handoff.priority)})"
    )
    quoted = "\n".join(
        f"> *{escape(who)}:* {escape(' '.join(text.split()))}"
        for who, text in handoff.last_messages
    )
    footer = (
        f"{link(handoff.console_url, 'Open in the console')} \u2022 Reply in this thread to "
        "answer the customer; start with `note:` for an internal note."
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": title[:SECTION_MAX]}},
    ]
    if quoted:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": quoted[:SECTION_MAX]}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return {
        "text": "\n".join(p for p in (title, quoted, footer) if p),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def is_thread_reply(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """Whether a ``message`` event in the agent channel is a person replying in a thread."""
    if (
        event.get("bot_id")
        or event.get("bot_profile")
        or event.get("subtype") not in REPLY_SUBTYPES
    ):
        return False
    user = event.get("user")
    thread_ts = event.get("thread_ts")
    return (
        bool(user)
        and user != bot_user_id
        and bool(thread_ts)
        and thread_ts != event.get("ts")
        and bool(event.get("channel"))
    )


def agent_message(
    body: Mapping[str, Any],
    event: Mapping[str, Any],
    user: SlackUser | None,
    bot_user_id: str | None,
    names: Mapping[str, str] | None = None,
) -> AgentMessage:
    """A thread reply known to be a person's, as the service's ``AgentMessage``;
    ``names`` are the mentioned people's names by user id."""
    channel, ts = str(event["channel"]), str(event["ts"])
    return AgentMessage(
        platform=NAME,
        room_id=channel,
        thread_id=str(event["thread_ts"]),
        user_id=str(event["user"]),
        text=message_text(event, bot_user_id, names or {}),
        dedupe_key=str(body.get("event_id") or f"{channel}:{ts}"),
        user_name=user.name if user else None,
        user_email=user.email if user else None,
    )


def resolved_line() -> str:
    return "Resolved; the customer was asked to rate it."


def rating_line(score: int, comment: str | None) -> str:
    rated = f"The customer rated it {score}/5"
    return f"{rated}: {comment}" if comment else f"{rated}."
