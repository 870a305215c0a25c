"""Outbound webhooks: the endpoints admins register (a URL, a signing secret, the event
names it wants) and one row per delivery of one event to one endpoint, sent by the
outbox dispatcher with the same retries and back-off as replies.

A delivery's payload names records by id and state, never a customer's words, so
erasing a contact never has to chase them here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, utcnow
from omnidesk.helpdesk.models.enums import DeliveryState


class Webhook(Base):
    """An endpoint that gets a signed POST for each event it subscribes to."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Kept as is: signing needs the secret itself. Admins see it once, then masked.
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[Any]] = mapped_column(default=list)
    # Indexed: every action that raises an event asks for the active ones.
    active: Mapped[bool] = mapped_column(default=True, index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook: queued in the acting transaction, then claimed, sent,
    retried with back-off or failed for good, like an outbox row. ``next_attempt_at`` is
    the lease as well: a claim moves it past the send, so a crashed sender's claim
    expires and no two dispatchers hold the row at once."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    # What the receiver sees (body "id", X-Omnidesk-Delivery): the same on every retry,
    # so a receiver can drop a delivery it already has.
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_status: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
