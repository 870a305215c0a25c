"""Helpdesk tables of the customer's side: contacts and their channel identities,
conversations, messages, tickets and the unified timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from omnidesk.db import Base, utcnow
from omnidesk.helpdesk.models.enums import ConversationState, Priority, TicketState


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    # The main phone number, normalised like ``ContactAddress.value``.
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    company: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    # Free text agents keep about the customer (not a conversation's private note).
    notes: Mapped[str] = mapped_column(Text, default="")
    # Custom attribute values, keyed by ``AttributeDefinition.key``.
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column()
    # Set when the contact was erased: the row stays as a tombstone, its fields blank.
    erased_at: Mapped[dt.datetime | None] = mapped_column()

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
    # True when the site vouched for this identity (web chat identity verification).
    verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="identities")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_state_updated", "state", "updated_at"),
        Index("ix_conversations_created_at", "created_at"),
    )

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
    # The assignee's display name (an agent account, or a person answering from Slack).
    assignee: Mapped[str | None] = mapped_column(String(200))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL)
    # Only agents with this skill get the conversation by automatic assignment.
    required_skill: Mapped[str | None] = mapped_column(String(64))
    snoozed_until: Mapped[dt.datetime | None] = mapped_column()
    assigned_at: Mapped[dt.datetime | None] = mapped_column()
    # When the customer's oldest message still waiting for a person was written; None
    # once a person has answered it.
    waiting_since: Mapped[dt.datetime | None] = mapped_column()
    low_confidence_streak: Mapped[int] = mapped_column(default=0)
    last_question: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Facts kept as messages are recorded, so reports over a year read conversations, not
    # every message: how many each side wrote (notes are no messages), when the bot last
    # answered citing an article, and when the customer first wrote after that answer.
    contact_messages: Mapped[int] = mapped_column(default=0, server_default="0")
    bot_messages: Mapped[int] = mapped_column(default=0, server_default="0")
    agent_messages: Mapped[int] = mapped_column(default=0, server_default="0")
    last_answer_at: Mapped[dt.datetime | None] = mapped_column()
    answer_followed_at: Mapped[dt.datetime | None] = mapped_column()
    # When its words were removed (an erasure or the retention task).
    redacted_at: Mapped[dt.datetime | None] = mapped_column()

    contact: Mapped[Contact] = relationship()
    identity: Mapped[ChannelIdentity] = relationship()


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        Index("ix_messages_author_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str | None] = mapped_column(String(200))
    # The agent account that wrote it; None for customers, the bot and the system.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    # An internal note: shown to agents, never sent to the customer.
    private: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    # Buttons, citations, confidence and attachments: what the channel renders.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    delivery: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Its text and files were removed (erasure or retention); the row stays for counts.
    redacted: Mapped[bool] = mapped_column(default=False, server_default=false())


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
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[dt.datetime | None] = mapped_column()
    resolved_at: Mapped[dt.datetime | None] = mapped_column()
    # SLA targets, in wall-clock time computed from business hours when the clock starts.
    first_response_due_at: Mapped[dt.datetime | None] = mapped_column()
    resolution_due_at: Mapped[dt.datetime | None] = mapped_column()
    first_response_breached_at: Mapped[dt.datetime | None] = mapped_column()
    resolution_breached_at: Mapped[dt.datetime | None] = mapped_column()
    reopened_at: Mapped[dt.datetime | None] = mapped_column()
    reopen_count: Mapped[int] = mapped_column(default=0)
    csat_score: Mapped[int | None] = mapped_column()
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_at: Mapped[dt.datetime | None] = mapped_column()


class TimelineEvent(Base):
    """One entry of a contact's unified timeline, across every channel."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        Index("ix_timeline_contact_created", "contact_id", "created_at"),
        Index("ix_timeline_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
