"""Slack payloads to ``InboundMessage``: which events are addressed to the bot, what the
customer actually wrote, and which thread it belongs to. Pure functions, no I/O.

Thread keys are ``"{channel id}:{thread ts}"``: a Slack ``ts`` is unique only within
its channel, and the reply must know the channel to post to, so both travel together.
A top-level message starts its own thread (the key uses its own ``ts``), so the answer
goes under the question and the customer continues there.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from omnidesk.channels.base import Attachment, InboundMessage
from omnidesk.channels.slack.text import message_text

NAME = "slack"
# Our buttons' action ids start with this, so clicks on anything else are not ours.
ACTION_PREFIX = "omnidesk_"
# Message subtypes a person produces; every other subtype (joins, bot posts, topic
# changes) is not a new question. Edits and deletions (``REVISION_SUBTYPES``) change a
# message already taken, see ``revisions.py``.
PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})
DM_PREFIX = "D"


@dataclass(frozen=True, slots=True)
class SlackUser:
    """What ``users.info`` tells us about a person."""

    id: str
    name: str | None = None
    email: str | None = None
    is_bot: bool = False


class Addressed(enum.Enum):
    """Whether an event is for the bot."""

    NO = "no"
    YES = "yes"
    # A reply in a channel thread without a mention: for us only if the bot is part of
    # that thread, which the caller has to find out.
    IF_BOT_IN_THREAD = "if_bot_in_thread"


def thread_key(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def parse_thread_key(key: str) -> tuple[str, str] | None:
    """``(channel, thread ts)`` of a thread key, or None for one that is not ours."""
    channel, sep, ts = key.partition(":")
    if not sep or not channel or not ts:
        return None
    return channel, ts


def is_dm(event: Mapping[str, Any]) -> bool:
    channel = str(event.get("channel") or "")
    return event.get("channel_type") == "im" or channel.startswith(DM_PREFIX)


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and (f"<@{user_id}>" in text or f"<@{user_id}|" in text)


def classify_message(event: Mapping[str, Any], bot_user_id: str | None) -> Addressed:
    """Whether a ``message`` event is a person writing to the bot.

    Direct messages always are. In channels only thread replies can be, and only
    without a mention of the bot: a mention also arrives as ``app_mention``, which is
    the one that counts, so the same words are never taken twice.
    """
    if not _from_a_person(event, bot_user_id):
        return Addressed.NO
    if is_dm(event):
        return Addressed.YES
    text = str(event.get("text") or "")
    thread_ts = event.get("thread_ts")
    if mentions(text, bot_user_id) or not thread_ts or thread_ts == event.get("ts"):
        return Addressed.NO
    return Addressed.IF_BOT_IN_THREAD


def classify_mention(event: Mapping[str, Any], bot_user_id: str | None) -> Addressed:
    """Whether an ``app_mention`` event is a question for the bot; a mention in a
    direct message also arrives as ``message.im`` and is taken there."""
    if not _from_a_person(event, bot_user_id) or is_dm(event):
        return Addressed.NO
    return Addressed.YES


def _from_a_person(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    if event.get("subtype") not in PERSON_SUBTYPES:
        return False
    user = event.get("user")
    return bool(user) and user != bot_user_id and bool(event.get("channel") and event.get("ts"))


def message_key(channel: str, ts: str) -> str:
    """The dedupe key, and stored id, of a person's message: Slack names a message by its
    channel and ``ts``, and so do its retries, its edits and its deletion."""
    return f"{channel}:{ts}"


def inbound_from_event(
    body: Mapping[str, Any],
    event: Mapping[str, Any],
    user: SlackUser | None,
    bot_user_id: str | None,
    names: Mapping[str, str] = MappingProxyType({}),
) -> InboundMessage:
    """The ``InboundMessage`` of a message or mention already known to be for the bot;
    ``names`` are the mentioned people's names by user id."""
    channel = str(event["channel"])
    ts = str(event["ts"])
    thread_ts = str(event.get("thread_ts") or ts)
    return InboundMessage(
        channel=NAME,
        sender_id=str(event["user"]),
        dedupe_key=message_key(channel, ts),
        text=message_text(event, bot_user_id, names),
        sender_name=user.name if user else None,
        sender_email=user.email if user else None,
        thread_key=thread_key(channel, thread_ts),
        attachments=attachments_of(event),
        received_at=time_of(ts),
        raw=raw_of(body, event, ts=ts, thread_ts=thread_ts),
    )


def raw_of(body: Mapping[str, Any], event: Mapping[str, Any], **extra: Any) -> Mapping[str, Any]:
    """What an inbound message keeps of its Slack event: where it came from, to find it
    again in Slack."""
    raw = {
        "event_id": body.get("event_id"),
        "event_type": event.get("type"),
        "subtype": event.get("subtype"),
        "team_id": body.get("team_id"),
        "channel": event.get("channel"),
        "channel_type": event.get("channel_type"),
        **extra,
    }
    return MappingProxyType({k: v for k, v in raw.items() if v is not None})


def inbound_from_action(
    body: Mapping[str, Any], action: Mapping[str, Any], user: SlackUser | None
) -> InboundMessage | None:
    """A pressed button of ours as ``InboundMessage(action=value, text=label)``, in the
    thread of the message that carried the button; None for anything else."""
    if action.get("type") != "button" or not str(action.get("action_id", "")).startswith(
        ACTION_PREFIX
    ):
        return None
    value = action.get("value")
    person = body.get("user") or {}
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = container.get("message_ts") or message.get("ts")
    if not value or not person.get("id") or not channel or not message_ts:
        return None
    thread_ts = message.get("thread_ts") or container.get("thread_ts") or message_ts
    action_ts = str(action.get("action_ts") or body.get("trigger_id") or "")
    label = str((action.get("text") or {}).get("text") or value)
    return InboundMessage(
        channel=NAME,
        sender_id=str(person["id"]),
        # A click has no event id; the message it was on and the click's own time
        # identify it.
        dedupe_key=f"{message_ts}:{action_ts}",
        text=label,
        action=str(value),
        sender_name=user.name if user else None,
        sender_email=user.email if user else None,
        thread_key=thread_key(str(channel), str(thread_ts)),
        received_at=time_of(action_ts),
        raw=MappingProxyType(
            {
                "team_id": (body.get("team") or {}).get("id"),
                "channel": str(channel),
                "message_ts": str(message_ts),
                "thread_ts": str(thread_ts),
                "action_ts": action_ts,
            }
        ),
    )


def attachments_of(event: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """Shared files as links: their bytes stay in Slack, behind its own access rules. A
    file Slack hides (plan limits, a deleted file) is still listed, so a message made of
    it alone does not arrive empty."""
    found = []
    for file in event.get("files") or ():
        if not isinstance(file, dict):
            continue
        name = file.get("name") or file.get("title")
        if not name:
            mode = str(file.get("mode") or "hidden").replace("_", " ")
            name = f"{file.get('id') or 'file'} ({mode})"
        found.append(
            Attachment(
                filename=str(name),
                content_type=str(file.get("mimetype") or "application/octet-stream"),
                size=int(file.get("size") or 0),
                url=file.get("permalink") or file.get("url_private"),
            )
        )
    return tuple(found)


def user_of(info: Mapping[str, Any]) -> SlackUser:
    """A ``users.info`` ``user`` object as the little we keep of it."""
    profile = info.get("profile") or {}
    name = (
        profile.get("real_name")
        or info.get("real_name")
        or profile.get("display_name")
        or info.get("name")
    )
    return SlackUser(
        id=str(info.get("id")),
        name=str(name) if name else None,
        email=str(profile["email"]) if profile.get("email") else None,
        is_bot=bool(info.get("is_bot")),
    )


def time_of(ts: str) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(float(ts), dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return dt.datetime.now(dt.UTC)
