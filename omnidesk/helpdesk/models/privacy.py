"""What the data-rights work keeps: one row per retention run (when, how, how much).

Erased contacts and redacted conversations and messages are marked on their own rows
(``Contact.erased_at``, ``Conversation.redacted_at``, ``Message.redacted``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, utcnow


class RetentionRun(Base):
    """One pass of the retention task over conversations closed too long ago."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    mode: Mapped[str] = mapped_column(String(8))  # "redact" or "delete"
    days: Mapped[int] = mapped_column()
    conversations: Mapped[int] = mapped_column(default=0)
    messages: Mapped[int] = mapped_column(default=0)
    attachments: Mapped[int] = mapped_column(default=0)
