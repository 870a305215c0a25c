"""the customer record: phone, company, tags and notes on contacts, verified identities,
the addresses a contact is known by, admin-defined attributes and survey sends

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omnidesk.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TS = omnidesk.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("contacts", sa.Column("phone", sa.String(length=32), nullable=True))
    op.add_column("contacts", sa.Column("company", sa.String(length=200), nullable=True))
    op.add_column("contacts", sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("contacts", sa.Column("notes", sa.Text(), nullable=False, server_default=""))
    op.add_column("contacts", sa.Column("updated_at", TS, nullable=True))
    op.create_index(op.f("ix_contacts_phone"), "contacts", ["phone"], unique=False)
    op.add_column(
        "channel_identities",
        sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "contact_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_addresses_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_addresses")),
        sa.UniqueConstraint(
            "contact_id",
            "kind",
            "value",
            name=op.f("uq_contact_addresses_contact_id_kind_value"),
        ),
    )
    op.create_index(
        "ix_contact_addresses_kind_value", "contact_addresses", ["kind", "value"], unique=False
    )
    op.create_table(
        "attribute_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attribute_definitions")),
        sa.UniqueConstraint("key", name=op.f("uq_attribute_definitions_key")),
    )
    op.create_table(
        "survey_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("answered_at", TS, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_survey_sends_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_survey_sends_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_survey_sends_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_sends")),
    )
    op.create_index(
        "ix_survey_sends_contact_kind_sent",
        "survey_sends",
        ["contact_id", "kind", "sent_at"],
        unique=False,
    )
    op.create_index(op.f("ix_survey_sends_ticket_id"), "survey_sends", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_sends_ticket_id"), table_name="survey_sends")
    op.drop_index("ix_survey_sends_contact_kind_sent", table_name="survey_sends")
    op.drop_table("survey_sends")
    op.drop_table("attribute_definitions")
    op.drop_index("ix_contact_addresses_kind_value", table_name="contact_addresses")
    op.drop_table("contact_addresses")
    op.drop_column("channel_identities", "verified")
    op.drop_index(op.f("ix_contacts_phone"), table_name="contacts")
    for name in ("updated_at", "notes", "tags", "company", "phone"):
        op.drop_column("contacts", name)
