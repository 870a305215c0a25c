"""Reading a contacts CSV that came from outside: bounded in bytes, rows, columns and
cell size; UTF-8 (with or without a BOM) or UTF-16 with its BOM; comma, semicolon or
tab separated. The header row says which column is what (``HEADER_ALIASES``, and the
keys or labels of admin-defined attributes); each data row is cleaned through
``actions.fields`` into a ``ContactRow`` or refused with a reason.

A whole-file problem (not text, no header, no rows, too large) is a ``CsvError``; a bad
row is a ``RowError`` and the rest of the file still imports. csv's own field limit
(``csv.field_size_limit``, 128 KiB by default and process-wide, so we leave it alone)
is far above ``MAX_CELL_CHARS``: a cell between the two fails its row, a cell beyond it
fails the file with its line number."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from omnidesk import untrusted
from omnidesk.helpdesk.actions.base import ActionError
from omnidesk.helpdesk.actions.contact_imports import ContactRow
from omnidesk.helpdesk.actions.fields import (
    clean_attribute,
    clean_email,
    clean_phone,
    clean_tags,
)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000
MAX_NAME = 200
MAX_COMPANY = 200
MAX_RAW = 200
# A spreadsheet-safe export quotes these with a leading apostrophe; reading drops it.
FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")

HEADER_ALIASES = {
    "name": "name",
    "full_name": "name",
    "contact_name": "name",
    "first_name": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "last_name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "email": "email",
    "emails": "email",
    "e_mail": "email",
    "email_address": "email",
    "email_addresses": "email",
    "phone": "phone",
    "phones": "phone",
    "phone_number": "phone",
    "mobile": "phone",
    "telephone": "phone",
    "company": "company",
    "company_name": "company",
    "organization": "company",
    "organisation": "company",
    "tags": "tags",
    "tag": "tags",
    "labels": "tags",
    "notes": "notes",
    "note": "notes",
}
# Several columns may carry addresses ("email", "emails"); any other field only one.
MULTI = {"email", "phone"}
_SPLIT = re.compile(r"[;,]")
_SPLIT_EMAILS = re.compile(r"[;,\s]+")


class CsvError(Exception):
    """The file as a whole cannot be imported; ``reason`` says why, for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RowError(Exception):
    """One row cannot be imported; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Attribute:
    """An admin-defined attribute as the importer needs it."""

    key: str
    type: str
    options: list[Any] = field(default_factory=list)
    label: str = ""


@dataclass(frozen=True, slots=True)
class Sheet:
    """A parsed file: what each column is (``None``: ignored), and the non-blank data
    rows as (line, cells); the header is line 1."""

    header: list[str]
    fields: list[str | None]
    rows: list[tuple[int, list[str]]]
    delimiter: str

    @property
    def used(self) -> list[str]:
        return [h for h, f in zip(self.header, self.fields, strict=True) if f is not None]

    @property
    def ignored(self) -> list[str]:
        return [h for h, f in zip(self.header, self.fields, strict=True) if f is None]


def decode(data: bytes) -> str:
    """The file's text, or a ``CsvError`` saying why it is not a text file we read."""
    if len(data) > MAX_FILE_BYTES:
        raise CsvError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise CsvError("the file says UTF-16 but is not valid UTF-16 text") from None
    elif b"\x00" in data:
        raise CsvError("the file is not text (it holds NUL bytes): upload a CSV file")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CsvError(
                f"the file is not UTF-8 text (byte {exc.start} is not): "
                "save it as 'CSV UTF-8' and try again"
            ) from None
    return untrusted.clean_text(text)


def normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def map_header(header: Sequence[str], attributes: Mapping[str, Attribute]) -> list[str | None]:
    """What each column holds: a field name, ``attr:<key>``, or None (ignored)."""
    by_label = {normalise(a.label): a.key for a in attributes.values() if a.label}
    fields: list[str | None] = []
    for raw in header:
        name = normalise(raw)
        if name in HEADER_ALIASES:
            fields.append(HEADER_ALIASES[name])
        elif name in attributes:
            fields.append(f"attr:{name}")
        elif name in by_label:
            fields.append(f"attr:{by_label[name]}")
        else:
            fields.append(None)
    seen: set[str] = set()
    for raw, mapped in zip(header, fields, strict=True):
        if mapped is None or mapped in MULTI:
            continue
        if mapped in seen:
            raise CsvError(f"two columns say the same thing ({mapped}); keep one ({raw[:64]!r})")
        seen.add(mapped)
    if not {"email", "phone"} & set(fields):
        raise CsvError(
            "the first row must be a header with an 'email' or 'phone' column (and any of "
            "name, company, tags, notes and your attribute keys); found: "
            + ", ".join(repr(h[:40]) for h in header[:10])
        )
    return fields


def parse(data: bytes | str, attributes: Mapping[str, Attribute]) -> Sheet:
    """The file's header mapped and its data rows read; a ``CsvError`` for the file."""
    text = decode(data) if isinstance(data, bytes) else data
    if not text.strip():
        raise CsvError("the file is empty")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for line, cells in enumerate(reader, start=1):
            if header is None:
                header = [c.strip() for c in cells]
                if len(header) > MAX_COLUMNS:
                    raise CsvError(f"the header has more than {MAX_COLUMNS} columns")
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvError(f"the file has more than {MAX_ROWS} rows; split it")
            rows.append((line, cells))
    except csv.Error as exc:
        raise CsvError(f"line {reader.line_num}: {exc}") from None
    assert header is not None
    fields = map_header(header, attributes)
    if not rows:
        raise CsvError("the file has a header but no rows under it")
    return Sheet(header, fields, rows, delimiter)


def _cell(value: str) -> str:
    value = value.strip()
    if len(value) > MAX_CELL_CHARS:
        raise RowError(f"a cell is longer than {MAX_CELL_CHARS} characters")
    if value[:1] == "'" and value[1:2] in FORMULA_SIGNS and value[1:2]:
        return value[1:]
    return value


def excerpt(sheet: Sheet, cells: Sequence[str]) -> str:
    """The start of a row as the admin would recognise it in the file."""
    return sheet.delimiter.join(cells)[:MAX_RAW]


def clean_row(
    sheet: Sheet, line: int, cells: Sequence[str], attributes: Mapping[str, Attribute]
) -> ContactRow:
    """One data row as a ``ContactRow``, or a ``RowError`` with the reason."""
    if len(cells) > len(sheet.fields) and any(c.strip() for c in cells[len(sheet.fields) :]):
        raise RowError(f"{len(cells)} cells, but the header names {len(sheet.fields)} columns")
    given: dict[str, list[str]] = {}
    for mapped, raw in zip(sheet.fields, cells, strict=False):
        if mapped is not None and (value := _cell(raw)):
            given.setdefault(mapped, []).append(value)
    try:
        return _contact_row(line, given, attributes)
    except ActionError as exc:
        raise RowError(exc.message) from None


def _one(given: Mapping[str, list[str]], name: str, most: int) -> str | None:
    value = given.get(name, [None])[0]
    if value is not None and len(value) > most:
        raise RowError(f"'{name}' is longer than {most} characters")
    return value


def _contact_row(
    line: int, given: Mapping[str, list[str]], attributes: Mapping[str, Attribute]
) -> ContactRow:
    emails: list[str] = []
    for cell in given.get("email", []):
        for part in _SPLIT_EMAILS.split(cell):
            if part and (email := clean_email(part)) not in emails:
                emails.append(email)
    phones: list[str] = []
    for cell in given.get("phone", []):
        for part in _SPLIT.split(cell):
            if part.strip() and (phone := clean_phone(part)) not in phones:
                phones.append(phone)
    if not emails and not phones:
        raise RowError("no email address or phone number to know the contact by")
    name = _one(given, "name", MAX_NAME)
    if name is None and ("first_name" in given or "last_name" in given):
        parts = [_one(given, "first_name", MAX_NAME), _one(given, "last_name", MAX_NAME)]
        name = " ".join(p for p in parts if p)[:MAX_NAME]
    tags = clean_tags(_SPLIT.split(given["tags"][0])) if "tags" in given else []
    values: dict[str, Any] = {}
    for mapped, cells in given.items():
        if mapped.startswith("attr:"):
            attribute = attributes[mapped[5:]]
            values[attribute.key] = clean_attribute(
                attribute.type, attribute.options, cells[0], attribute.key
            )
    return ContactRow(
        row=line,
        emails=tuple(emails),
        phones=tuple(phones),
        name=name,
        company=_one(given, "company", MAX_COMPANY),
        tags=tuple(tags),
        notes=given.get("notes", [None])[0],
        attributes=values,
    )
