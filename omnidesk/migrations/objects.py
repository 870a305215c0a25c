"""Which database objects autogenerate compares with the models: the full-text search
structures of migration 0005 (SQLite FTS5 tables and their shadow tables, PostgreSQL
``search_vector`` columns and their GIN indexes) belong to the search module, not to the
models, so they are left out."""

from __future__ import annotations

from typing import Any

SEARCH_TABLE_PREFIXES = ("messages_fts", "contacts_fts")
SEARCH_COLUMN = "search_vector"
SEARCH_INDEXES = frozenset({"ix_messages_search_vector", "ix_contacts_search_vector"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic ``include_object`` hook: False for the search structures."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_TABLE_PREFIXES)
    if type_ == "column":
        return name != SEARCH_COLUMN
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True
