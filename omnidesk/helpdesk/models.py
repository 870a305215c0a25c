"""Helpdesk tables: contacts and their channel identities, conversations, messages,
tickets, timeline events, and the durable inbox and outbox that carry messages."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from omnidesk.db import Base, utcnow


class ConversationState(enum.StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CLOSED = "closed"


HUMAN_OWNED = (ConversationState.QUEUED, ConversationState.ASSIGNED)


class Author(enum.StrEnum):
    CONTACT = "contact"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class TicketState(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class InboxState(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="contact")


class ChannelIdentity(Base):
    """Who a contact is on one channel (a web chat visitor id, a Slack user, ...)."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="identities")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_state_updated", "state", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    # Platform thread key (Slack thread, email thread root); empty where a channel has one
    # running conversation per identity, like web chat.
    thread_key: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), default=ConversationState.BOT)
    assignee: Mapped[str | None] = mapped_column(String(200))
    low_confidence_streak: Mapped[int] = mapped_column(default=0)
    last_question: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contact: Mapped[Contact] = relationship()
    identity: Mapped[ChannelIdentity] = relationship()


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    # Buttons, citations, confidence and attachments: what the channel renders.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    delivery: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), default=TicketState.OPEN, index=True)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL)
    assignee: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[dt.datetime | None] = mapped_column()
    resolved_at: Mapped[dt.datetime | None] = mapped_column()
    sla_due_at: Mapped[dt.datetime | None] = mapped_column()


class TimelineEvent(Base):
    """One entry of a contact's unified timeline, across every channel."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_contact_created", "contact_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InboxItem(Base):
    """An inbound message, committed before the platform is acknowledged."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    # Messages with the same key are handled strictly in arrival order.
    order_key: Mapped[str] = mapped_column(String(300), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default=InboxState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # A worker that claims an item leases it until then; a crashed worker's claim expires.
    lease_until: Mapped[dt.datetime | None] = mapped_column()
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column()


class OutboxItem(Base):
    """A reply waiting for delivery; written in the transaction that decided it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
