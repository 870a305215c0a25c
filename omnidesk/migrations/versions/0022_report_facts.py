"""report facts on conversations (message counts, the bot's last answer and the
customer's next message) and the indexes reports read by

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omnidesk.db

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

COUNTS = ("contact_messages", "bot_messages", "agent_messages")
TIMES = ("last_answer_at", "answer_followed_at")

# The facts of conversations that already have messages, as record_message keeps them.
BACKFILL_COUNTS = """
UPDATE conversations SET
  contact_messages = (SELECT count(*) FROM messages m WHERE m.conversation_id = conversations.id
                      AND m.author = 'contact' AND NOT m.private),
  bot_messages = (SELECT count(*) FROM messages m WHERE m.conversation_id = conversations.id
                  AND m.author = 'bot' AND NOT m.private),
  agent_messages = (SELECT count(*) FROM messages m WHERE m.conversation_id = conversations.id
                    AND m.author = 'agent' AND NOT m.private)
"""
BACKFILL_ANSWER = """
UPDATE conversations SET last_answer_at = (
  SELECT max(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id
  AND m.author = 'bot' AND {cited})
"""
BACKFILL_FOLLOWED = """
UPDATE conversations SET answer_followed_at = (
  SELECT min(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id
  AND m.author = 'contact' AND m.created_at > conversations.last_answer_at)
WHERE last_answer_at IS NOT NULL
"""


def upgrade() -> None:
    for name in COUNTS:
        op.add_column(
            "conversations",
            sa.Column(name, sa.Integer(), server_default="0", nullable=False),
        )
    for name in TIMES:
        op.add_column(
            "conversations",
            sa.Column(name, omnidesk.db.UTCDateTime(timezone=True), nullable=True),
        )
    postgres = op.get_bind().dialect.name == "postgresql"
    # A payload whose "citations" is no array is no answer (PostgreSQL's
    # json_array_length refuses one, so the CASE asks first).
    cited = (
        "CASE WHEN json_typeof(m.payload -> 'citations') = 'array' "
        "THEN json_array_length(m.payload -> 'citations') ELSE 0 END > 0"
        if postgres
        else "coalesce(json_array_length(m.payload, '$.citations'), 0) > 0"
    )
    op.execute(BACKFILL_COUNTS)
    op.execute(BACKFILL_ANSWER.format(cited=cited))
    op.execute(BACKFILL_FOLLOWED)
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    op.create_index("ix_messages_author_id", "messages", ["author_id"])
    op.create_index("ix_timeline_kind_created", "timeline_events", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_timeline_kind_created", table_name="timeline_events")
    op.drop_index("ix_messages_author_id", table_name="messages")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    # Plain columns: SQLite (3.35 and later) drops them in place, no table copy.
    for name in (*TIMES, *COUNTS):
        op.drop_column("conversations", name)
