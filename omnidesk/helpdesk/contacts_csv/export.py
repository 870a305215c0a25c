"""Contacts as CSV, streamed in batches so a large book never sits in memory whole:
every contact, or those with a tag or matching a search text. The columns read back
through the importer (``parse.HEADER_ALIASES``), so export then import gives the same
contacts; a cell a spreadsheet would run as a formula is quoted (``safe_cell``)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk.actions.base import iso
from omnidesk.helpdesk.audit_api import safe_cell
from omnidesk.helpdesk.contacts_csv.jobs import attribute_definitions
from omnidesk.helpdesk.models import Contact, ContactAddress

BATCH = 500
COLUMNS = ("id", "name", "email", "emails", "phone", "phones", "company", "tags", "notes")
TRAILING = ("created_at",)
MAX_QUERY = 200


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contacts_query(q: str | None = None) -> Select[Contact]:
    """Contacts by id, those whose name, email, phone or company holds ``q`` if given."""
    query = select(Contact).order_by(Contact.id)
    if q:
        pattern = f"%{_escape_like(q.strip().lower())}%"
        query = query.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (Contact.name, Contact.email, Contact.phone, Contact.company)
                )
            )
        )
    return query


def _row(contact: Contact, extra: dict[str, list[str]], keys: Sequence[str]) -> list[Any]:
    emails = [v for v in extra.get("email", []) if v != contact.email]
    phones = [v for v in extra.get("phone", []) if v != contact.phone]
    attributes = contact.attributes or {}
    values: list[Any] = [
        contact.id,
        contact.name or "",
        contact.email or "",
        "; ".join(emails),
        contact.phone or "",
        "; ".join(phones),
        contact.company or "",
        "; ".join(str(t) for t in contact.tags or []),
        contact.notes or "",
        *("" if attributes.get(k) is None else _attribute(attributes[k]) for k in keys),
        iso(contact.created_at) or "",
    ]
    return [safe_cell(v) for v in values]


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _addresses(session: AsyncSession, ids: list[int]) -> dict[int, dict[str, list[str]]]:
    rows = await session.execute(
        select(ContactAddress.contact_id, ContactAddress.kind, ContactAddress.value)
        .where(ContactAddress.contact_id.in_(ids))
        .order_by(ContactAddress.id)
    )
    out: dict[int, dict[str, list[str]]] = {}
    for contact_id, kind, value in rows:
        out.setdefault(contact_id, {}).setdefault(kind, []).append(value)
    return out


async def csv_chunks(
    maker: async_sessionmaker[AsyncSession], *, tag: str | None = None, q: str | None = None
) -> AsyncIterator[bytes]:
    """The CSV, a batch of contacts per chunk; the first chunk carries a UTF-8 BOM so
    spreadsheets read the accents right (the importer skips it)."""
    async with maker() as session:
        keys = sorted(await attribute_definitions(session))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*COLUMNS, *keys, *TRAILING])
    yield ("\ufeff" + buffer.getvalue()).encode()
    wanted = tag.strip().lower() if tag else None
    after = 0
    while True:
        buffer.seek(0)
        buffer.truncate()
        async with maker() as session:
            batch = list(
                await session.scalars(contacts_query(q).where(Contact.id > after).limit(BATCH))
            )
            extra = await _addresses(session, [c.id for c in batch]) if batch else {}
        for contact in batch:
            if wanted is None or wanted in (contact.tags or []):
                writer.writerow(_row(contact, extra.get(contact.id, {}), keys))
        if buffer.tell():
            yield buffer.getvalue().encode()
        if len(batch) < BATCH:
            return
        after = batch[-1].id
