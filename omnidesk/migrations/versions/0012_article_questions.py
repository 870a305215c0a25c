"""example questions: chunks get a kind (passage or question), articles and their
revisions keep the questions given with them

Revision ID: 0012
Revises: 0005
Create Date: 2026-12-01 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omnidesk.db  # noqa: F401  (column types of ours)

revision = "0012"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing chunks are all passages; the server default fills them.
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="passage", nullable=False)
        )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions", sa.JSON(), nullable=True))
    with op.batch_alter_table("article_revisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM chunks WHERE kind = 'question'")
    # Plain DROP COLUMN (SQLite 3.35+), not a batch copy: on SQLite a batch recreates the
    # table, and dropping ``articles`` would cascade to its chunks and revisions.
    for table, column in (
        ("article_revisions", "questions"),
        ("articles", "questions"),
        ("chunks", "kind"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
