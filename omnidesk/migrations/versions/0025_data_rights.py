"""data rights: erased contacts, redacted conversations and messages, and the record of
each retention run

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-01 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omnidesk.db

revision = "0025"
down_revision = "0023"
branch_labels = None
depends_on = None

TS = omnidesk.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("contacts", sa.Column("erased_at", TS, nullable=True))
    op.add_column("conversations", sa.Column("redacted_at", TS, nullable=True))
    op.add_column(
        "messages",
        sa.Column("redacted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("attachments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    op.create_index(
        op.f("ix_retention_runs_started_at"), "retention_runs", ["started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_retention_runs_started_at"), table_name="retention_runs")
    op.drop_table("retention_runs")
    op.drop_column("messages", "redacted")
    op.drop_column("conversations", "redacted_at")
    op.drop_column("contacts", "erased_at")
