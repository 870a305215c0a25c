"""Contacts as CSV: reading an uploaded file safely (``parse``), importing it as a
background job with progress and per-row errors (``jobs``; the writes are
``actions.contact_imports``), streaming contacts out (``export``) and the admins'
routes (``api``)."""

from omnidesk.helpdesk.contacts_csv.api import ContactsCsvAPI
from omnidesk.helpdesk.contacts_csv.export import csv_chunks
from omnidesk.helpdesk.contacts_csv.jobs import (
    STALE_AFTER,
    ImportRunner,
    attribute_definitions,
    import_errors,
    run_import,
    summary,
)
from omnidesk.helpdesk.contacts_csv.parse import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    Attribute,
    CsvError,
    RowError,
    Sheet,
    clean_row,
    decode,
    parse,
)

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "STALE_AFTER",
    "Attribute",
    "ContactsCsvAPI",
    "CsvError",
    "ImportRunner",
    "RowError",
    "Sheet",
    "attribute_definitions",
    "clean_row",
    "csv_chunks",
    "decode",
    "import_errors",
    "parse",
    "run_import",
    "summary",
]
