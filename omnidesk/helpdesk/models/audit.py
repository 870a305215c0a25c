"""The audit log: one row for each thing an admin, an agent or the system did to the
helpdesk's set-up or its work (who, what, to which record, when, from which address).

Rows are only ever added: the database refuses updates and deletes (triggers made by the
migration), so no code path, admin included, can rewrite history. Entries name records
by id and never copy a customer's words, so erasing a contact leaves them true."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Kept as plain values, not a foreign key: the entry outlives the account.
    actor_id: Mapped[int | None] = mapped_column()
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(16))
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64))  # "agent:7", "conversation:12"
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
