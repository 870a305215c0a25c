"""The customer record beyond name and email: the extra addresses a contact is known by
(with whether each was verified), the custom attributes admins define, and the survey
sends that keep a contact from being asked too often."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, utcnow


class ContactAddress(Base):
    """An email address or phone number a contact is known by.

    ``verified`` is true only when something vouched for it (a signed web chat identity,
    an agent who checked it); suggested merges look only at verified addresses, because
    anyone can type any address into a chat.
    """

    __tablename__ = "contact_addresses"
    __table_args__ = (
        UniqueConstraint("contact_id", "kind", "value"),
        Index("ix_contact_addresses_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "email" or "phone"
    # Normalised: emails lower-cased, phones as E.164-like digits with a leading "+".
    value: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(default=False)
    # Where it came from: "channel", "webchat_verified", "agent", "import", ...
    source: Mapped[str] = mapped_column(String(32), default="agent")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AttributeDefinition(Base):
    """A custom contact attribute an admin defined: its key, label and type.

    Values live in ``Contact.attributes`` under ``key``; the type says how the console
    edits them and how an import or the API checks them.
    """

    __tablename__ = "attribute_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    # "text", "number", "date", "boolean", "list" (one of ``options``) or "link".
    type: Mapped[str] = mapped_column(String(16), default="text")
    options: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SurveySend(Base):
    """One survey sent to a contact (CSAT or NPS): the throttle reads these."""

    __tablename__ = "survey_sends"
    __table_args__ = (Index("ix_survey_sends_contact_kind_sent", "contact_id", "kind", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "csat" or "nps"
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    score: Mapped[int | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(String(2000))
