"""A person's edit (``message_changed``) or deletion (``message_deleted``) of a message the
bot took, as an ``InboundMessage`` that ``replaces`` it: the helpdesk updates the stored
message instead of taking a new question. Pure functions, no I/O.

Slack sends ``message_changed`` for much that is not an edit: a link unfurled, a thread's
reply count, an assistant thread's title. Only a change of what the person wrote (the text
or the files) counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from omnidesk.channels.base import InboundMessage
from omnidesk.channels.slack.convert import (
    NAME,
    PERSON_SUBTYPES,
    Addressed,
    SlackUser,
    attachments_of,
    is_dm,
    mentions,
    message_key,
    raw_of,
    thread_key,
    time_of,
)
from omnidesk.channels.slack.text import message_text

EDITED = "message_changed"
DELETED = "message_deleted"
REVISION_SUBTYPES = frozenset({EDITED, DELETED})
TOMBSTONE = "tombstone"


def is_deletion(event: Mapping[str, Any]) -> bool:
    """A deletion: ``message_deleted``, or the ``message_changed`` that turns a thread's
    first message into a tombstone (deleting a message with replies keeps its place)."""
    if event.get("subtype") == DELETED:
        return True
    return (event.get("message") or {}).get("subtype") == TOMBSTONE


def author_message(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The message as the person wrote it: the new version of an edit, the deleted one
    of a deletion."""
    if event.get("subtype") == EDITED and not is_deletion(event):
        return event.get("message") or {}
    return event.get("previous_message") or {}


def classify_revision(event: Mapping[str, Any], bot_user_id: str | None) -> Addressed:
    """Whether an edit or deletion concerns a message the bot would have taken: any in a
    direct message; in channels one that mentions the bot, or a reply in a thread the bot
    is part of (the caller checks which)."""
    message = author_message(event)
    user = message.get("user")
    if (
        event.get("subtype") not in REVISION_SUBTYPES
        or not user
        or user == bot_user_id
        or message.get("bot_id")
        or message.get("bot_profile")
        or message.get("subtype") not in PERSON_SUBTYPES
        or not event.get("channel")
        or not _ts_of(event)
    ):
        return Addressed.NO
    if (
        event.get("subtype") == EDITED
        and not is_deletion(event)
        and not _changed(event, bot_user_id)
    ):
        return Addressed.NO
    if is_dm(event):
        return Addressed.YES
    texts = (str(m.get("text") or "") for m in (message, event.get("previous_message") or {}))
    if any(mentions(text, bot_user_id) for text in texts):
        return Addressed.YES
    thread_ts = message.get("thread_ts")
    if thread_ts and thread_ts != message.get("ts"):
        return Addressed.IF_BOT_IN_THREAD
    return Addressed.NO


def inbound_from_revision(
    body: Mapping[str, Any],
    event: Mapping[str, Any],
    user: SlackUser | None,
    bot_user_id: str | None,
    names: Mapping[str, str] = MappingProxyType({}),
) -> InboundMessage:
    """The edit or deletion, already known to be for the bot, as an ``InboundMessage``
    whose ``replaces`` is the changed message's key."""
    channel = str(event["channel"])
    message = author_message(event)
    ts = _ts_of(event)
    original = message_key(channel, ts)
    deleted = is_deletion(event)
    edited_ts = None if deleted else (message.get("edited") or {}).get("ts")
    when = str(edited_ts or event.get("event_ts") or event.get("ts") or ts)
    return InboundMessage(
        channel=NAME,
        sender_id=str(message["user"]),
        dedupe_key=f"{original}:deleted" if deleted else f"{original}:edit:{when}",
        text="" if deleted else message_text(message, bot_user_id, names),
        sender_name=user.name if user else None,
        sender_email=user.email if user else None,
        thread_key=thread_key(channel, str(message.get("thread_ts") or ts)),
        attachments=() if deleted else attachments_of(message),
        received_at=time_of(when),
        raw=raw_of(body, event, ts=ts, revised_ts=when),
        replaces=original,
        deleted=deleted,
    )


def _ts_of(event: Mapping[str, Any]) -> str:
    if event.get("subtype") == DELETED:
        return str(event.get("deleted_ts") or author_message(event).get("ts") or "")
    return str((event.get("message") or {}).get("ts") or author_message(event).get("ts") or "")


def _changed(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """Whether the person changed what they wrote (not an unfurl or a reply count)."""
    previous = event.get("previous_message")
    if not previous:
        return True  # nothing to compare with: take Slack's word that it changed
    current = event.get("message") or {}
    return message_text(current, bot_user_id) != message_text(previous, bot_user_id) or (
        _file_ids(current) != _file_ids(previous)
    )


def _file_ids(message: Mapping[str, Any]) -> list[str]:
    return [str(f.get("id")) for f in message.get("files") or () if isinstance(f, dict)]
