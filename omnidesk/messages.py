"""The message types every part of omnidesk speaks: what a customer sent
(``InboundMessage``), what goes back (``OutboundMessage``), button payloads, delivery
receipts and the escalation posted for agents in a chat room (``RoomPost``).

They live here, in a leaf module that imports nothing of ours, because two rooms need
them and may not import each other: ``channels/`` converts platform traffic to and from
them, and ``helpdesk/`` builds the ``OutboundMessage`` it stores in the outbox (helpdesk
may import only ``config`` and ``db``). ``omnidesk.channels`` re-exports every name.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType
from typing import Any

from omnidesk.untrusted import clean_text, clean_tree


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Action(enum.StrEnum):
    """Button payloads every channel understands."""

    HUMAN = "human"
    HELPFUL = "feedback:helpful"
    NOT_HELPFUL = "feedback:not_helpful"
    ARTICLE_PREFIX = "article:"
    # A satisfaction rating, "csat:1" (poor) to "csat:5" (great).
    CSAT_PREFIX = "csat:"


@dataclass(frozen=True, slots=True)
class Button:
    """A quick reply; ``payload`` comes back as ``InboundMessage.action`` when pressed."""

    label: str
    payload: str
    # Where a channel without buttons (email) can send the reader instead.
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    """The article an answer was taken from."""

    slug: str
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    url: str | None = None
    path: str | None = None


_TEXT_FIELDS = (
    "channel",
    "sender_id",
    "dedupe_key",
    "text",
    "action",
    "sender_name",
    "sender_email",
    "thread_key",
    "subject",
    "replaces",
    "reply_to",
    "unreadable",
)


def _cleaned(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


def _clean_attachment(attachment: Attachment) -> bool:
    return all(_cleaned(v) == v for v in asdict(attachment).values())


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a customer, whatever the channel.

    ``dedupe_key`` is the platform's own id for this delivery (Slack ``event_id``,
    Telegram ``update_id``, email ``Message-ID``, web chat client message id), so a
    platform's retry is recognised. ``action`` is set when a button was pressed.
    """

    channel: str
    sender_id: str
    dedupe_key: str
    text: str = ""
    action: str | None = None
    sender_name: str | None = None
    sender_email: str | None = None
    thread_key: str = ""
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    received_at: dt.datetime = field(default_factory=_utcnow)
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # The dedupe key of an earlier message this one edits (Telegram edited_message, Slack
    # message_changed), or deletes when ``deleted`` is set (Slack message_deleted).
    replaces: str | None = None
    deleted: bool = False
    # The platform id of the message this one answers (email In-Reply-To, a Telegram
    # reply): joins that message's conversation when the thread key alone does not.
    reply_to: str | None = None
    # A ticket number the customer quoted (an email subject's "[#123]"), used when the
    # platform gives no thread.
    ticket_ref: int | None = None
    # Sent by a machine (auto-reply, bounce): stored, never answered, so bots cannot loop.
    automated: bool = False
    # Why the channel could not read this delivery (a payload its platform library
    # rejects). It is kept, never handed to the router: the inbox parks it with this
    # reason, with whatever the channel could still make out (sender, text) alongside.
    unreadable: str | None = None
    # The text is the channel's description of something that is not words (a sticker,
    # a place, a voice message): shown to agents as it is, never searched as a question.
    described: bool = False

    def __post_init__(self) -> None:
        # Whatever the channel, the message is made storable before it is acknowledged:
        # a NUL or a lone surrogate must not fail it later, after the platform was told
        # it arrived.
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str) and (cleaned := clean_text(value)) != value:
                object.__setattr__(self, name, cleaned)
        if self.raw:
            object.__setattr__(self, "raw", MappingProxyType(clean_tree(dict(self.raw))))
        if any(not _clean_attachment(a) for a in self.attachments):
            object.__setattr__(
                self,
                "attachments",
                tuple(
                    Attachment(**{k: _cleaned(v) for k, v in asdict(a).items()})
                    for a in self.attachments
                ),
            )

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["attachments"] = [asdict(a) for a in self.attachments]
        data["received_at"] = self.received_at.isoformat()
        data["raw"] = dict(self.raw)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InboundMessage:
        values = dict(data)
        values["received_at"] = dt.datetime.fromisoformat(values["received_at"])
        values["attachments"] = tuple(Attachment(**a) for a in values.get("attachments", ()))
        values["raw"] = MappingProxyType(dict(values.get("raw") or {}))
        return cls(**values)


# Bumped when OutboundMessage's stored form changes; from_dict refuses other versions.
OUTBOUND_VERSION = 1


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A reply for one recipient on one channel; rich parts degrade to text where the
    channel lacks them (see ``as_plain_text``)."""

    channel: str
    recipient_id: str
    conversation_id: int
    message_id: int
    text: str
    author: str = "bot"
    author_name: str | None = None
    thread_key: str = ""
    buttons: tuple[Button, ...] = ()
    citations: tuple[Citation, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    confidence: float | None = None
    created_at: str | None = None  # ISO 8601, when the message was written
    # The platform id of the customer's latest message, for threading (email
    # In-Reply-To, Telegram reply_to_message_id).
    reply_to_external_id: str | None = None
    subject: str | None = None  # the conversation's subject, for channels that have one
    ticket_ref: int | None = None  # the open ticket's number, e.g. for an email subject tag

    def as_plain_text(self) -> str:
        """The message for a channel that renders nothing but text."""
        parts = [self.text]
        if self.citations:
            parts.append("\n".join(f"Source: {c.title} <{c.url}>" for c in self.citations))
        if self.buttons:
            lines = (f"- {b.label} <{b.url}>" if b.url else f"- {b.label}" for b in self.buttons)
            parts.append("\n".join(lines))
        return "\n\n".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the outbox stores), tagged with ``OUTBOUND_VERSION``."""
        data = asdict(self)
        for key in ("buttons", "citations", "attachments"):
            data[key] = list(data[key])
        data["version"] = OUTBOUND_VERSION
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutboundMessage:
        """Rebuild a message from ``to_dict``'s output. A dict without ``version`` is the
        untagged form outbox rows had before versioning, with the same fields."""
        values = dict(data)
        version = values.pop("version", OUTBOUND_VERSION)
        if version != OUTBOUND_VERSION:
            raise ValueError(f"unknown outbound message version {version!r}")
        values["buttons"] = tuple(Button(**b) for b in values.get("buttons", ()))
        values["citations"] = tuple(Citation(**c) for c in values.get("citations", ()))
        values["attachments"] = tuple(Attachment(**a) for a in values.get("attachments", ()))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """What happened to one send. A failure is ``permanent`` or retried after
    ``retry_after`` seconds (or the dispatcher's back-off when that is None)."""

    ok: bool
    external_id: str | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class RoomPost:
    """An escalation as agents read it in a chat room (the Slack agent channel):
    ``escalation`` decides what it says, a channel posts it."""

    conversation_id: int
    customer: str
    channel: str
    reason: str
    priority: str
    ticket_id: int | None
    last_messages: tuple[tuple[str, str], ...]  # (who, text), oldest first
    console_url: str


class InboundResult(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
