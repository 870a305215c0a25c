"""Contact imports from CSV: one row per uploaded file, with its progress, and one row
per line of the file that could not be imported, with the reason.

The file's text stays on the import while it runs, so a process that dies mid-way is
resumed from ``processed`` by the next one; it is dropped once the import ends, so
customers' details live in the contacts only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, utcnow


class ContactImport(Base):
    """One CSV file being imported: ``queued`` → ``running`` → ``done`` or ``failed``.

    ``heartbeat_at`` moves with every batch; a ``running`` import whose heartbeat is old
    belonged to a process that died, and another takes it over."""

    __tablename__ = "contact_imports"
    __table_args__ = (Index("ix_contact_imports_status_heartbeat", "status", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    # Why the whole import failed (a row's own reason is on its error row).
    error: Mapped[str | None] = mapped_column(String(2000))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    # The CSV as text while the import runs; None once it has ended.
    content: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()


class ContactImportError(Base):
    """A line of an import's file that was not imported, and why."""

    __tablename__ = "contact_import_errors"
    __table_args__ = (Index("ix_contact_import_errors_import_row", "import_id", "row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("contact_imports.id", ondelete="CASCADE"))
    # The line of the file (the header is line 1).
    row: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(500))
    # The start of the line as read, for the admin to find it.
    raw: Mapped[str] = mapped_column(String(200), default="")
