"""full-text search over messages and contacts: SQLite FTS5 external-content tables kept
by triggers; PostgreSQL generated tsvector columns with GIN indexes

On SQLite ``messages_fts`` / ``contacts_fts`` hold only the index (the text stays in
``messages`` / ``contacts``, rowid = the row's id); triggers keep them in step with every
insert, update and delete, and the upgrade builds them from the rows already there.
On PostgreSQL a stored generated column ``search_vector`` (punctuation turned to spaces,
then the ``simple`` configuration: no stemming, no stop words) carries a GIN index; adding
it fills it for existing rows.

Neither is in the models (``omnidesk.migrations.objects.include_object`` hides them from
autogenerate): they are the search module's business. A later SQLite batch migration that
recreates ``messages`` or ``contacts`` drops their triggers and must re-create them
(``SQLITE_UPGRADE`` below).

Revision ID: 0005
Revises: 0007
Create Date: 2026-11-30 23:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
# Reserved id 0005; chained after main's head (0007) so there is one head.
down_revision = "0007"
branch_labels = None
depends_on = None

# The FTS5 tokenizer folds case and diacritics; "prefix" keeps 3-letter prefixes in the
# index so a short prefix query is one term lookup rather than a merge of many.
SQLITE_UPGRADE = [
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content='messages', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='3')""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
    END""",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    """CREATE VIRTUAL TABLE contacts_fts USING fts5(
        name, email, content='contacts', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='3')""",
    """CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
        INSERT INTO contacts_fts(rowid, name, email) VALUES (new.id, new.name, new.email);
    END""",
    """CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
        INSERT INTO contacts_fts(contacts_fts, rowid, name, email)
        VALUES ('delete', old.id, old.name, old.email);
    END""",
    """CREATE TRIGGER contacts_fts_update AFTER UPDATE OF name, email ON contacts BEGIN
        INSERT INTO contacts_fts(contacts_fts, rowid, name, email)
        VALUES ('delete', old.id, old.name, old.email);
        INSERT INTO contacts_fts(rowid, name, email) VALUES (new.id, new.name, new.email);
    END""",
    "INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')",
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TABLE IF EXISTS messages_fts",
    "DROP TRIGGER IF EXISTS contacts_fts_insert",
    "DROP TRIGGER IF EXISTS contacts_fts_delete",
    "DROP TRIGGER IF EXISTS contacts_fts_update",
    "DROP TABLE IF EXISTS contacts_fts",
]

# Punctuation becomes a space so that "alice@example.com" or "v2.3-beta" index as their
# words, as FTS5 does (the default parser would keep an e-mail address as one token).
# The same expression must stay in omnidesk/helpdesk/search.py's idea of a word.
PG_UPGRADE = [
    """ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, regexp_replace(text, '[[:punct:]]+', ' ', 'g'))
    ) STORED""",
    "CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)",
    """ALTER TABLE contacts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, regexp_replace(
            coalesce(name, '') || ' ' || coalesce(email, ''), '[[:punct:]]+', ' ', 'g'))
    ) STORED""",
    "CREATE INDEX ix_contacts_search_vector ON contacts USING gin (search_vector)",
]

PG_DOWNGRADE = [
    "DROP INDEX IF EXISTS ix_messages_search_vector",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
    "DROP INDEX IF EXISTS ix_contacts_search_vector",
    "ALTER TABLE contacts DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_UPGRADE if sqlite else PG_UPGRADE)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_DOWNGRADE if sqlite else PG_DOWNGRADE)
