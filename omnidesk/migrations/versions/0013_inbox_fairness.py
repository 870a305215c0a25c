"""fair turns in the inbox: a sender key, whether the item waits behind its sender's
others, and its turn

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 03:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omnidesk.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fair_key", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("backlogged", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("fair_at", omnidesk.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Rows already waiting keep their arrival order.
    op.execute("UPDATE inbox SET fair_at = received_at")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.alter_column(
            "fair_at", existing_type=omnidesk.db.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_index(
            "ix_inbox_state_fair", ["state", "backlogged", "fair_at"], unique=False
        )
        batch_op.create_index("ix_inbox_fair_key_state", ["fair_key", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_fair_key_state")
        batch_op.drop_index("ix_inbox_state_fair")
        batch_op.drop_column("fair_at")
        batch_op.drop_column("backlogged")
        batch_op.drop_column("fair_key")
