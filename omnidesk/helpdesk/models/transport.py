"""The durable inbox and outbox that carry messages between channels and the router."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, utcnow
from omnidesk.helpdesk.models.enums import DeliveryState, InboxState


class InboxItem(Base):
    """An inbound message, committed before the platform is acknowledged."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_state_fair", "state", "backlogged", "fair_at"),
        Index("ix_inbox_fair_key_state", "fair_key", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    # Messages with the same key are handled strictly in arrival order.
    order_key: Mapped[str] = mapped_column(String(300), index=True)
    # Fair turns (actions.accept_inbound): a message from a sender with nothing else
    # waiting goes first; a sender's (``fair_key``) further messages are ``backlogged``
    # and take turns with the other backlogged senders, one each per round (``fair_at``).
    fair_key: Mapped[str] = mapped_column(String(300), default="")
    backlogged: Mapped[bool] = mapped_column(default=False)
    fair_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
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
