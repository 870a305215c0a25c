"""Contact imports: queueing a CSV file (its one audit entry), claiming it for a worker,
writing one batch of its rows, and ending it.

A row is matched to an existing contact by its email addresses first, then by its phone
numbers (the contact's own, then the addresses it is known by), and updates that contact
instead of making a second one: a non-empty cell sets its field, tags and addresses are
added, nothing is removed. So importing the same file again changes nothing, and an
import never wipes what agents wrote. A new contact gets its ``contact_created``
timeline event and the ``contact.created`` webhook, as one made by a channel does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, audit_log
from omnidesk.helpdesk.actions.fields import clean_tags
from omnidesk.helpdesk.actions.webhooks import contact_data, queue_webhook_event
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    Contact,
    ContactAddress,
    ContactImport,
    ContactImportError,
    Webhook,
)

MAX_ERROR = 2000
MAX_REASON = 500
MAX_RAW = 200


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One cleaned row of an import: ``row`` is its line in the file."""

    row: int
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    name: str | None = None
    company: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RowFailure:
    """A row the importer refused, with the reason and the start of the line."""

    row: int
    reason: str
    raw: str = ""


async def queue_contact_import(
    session: AsyncSession,
    *,
    filename: str,
    content: str,
    total: int,
    by: Actor,
    running: bool = False,
) -> ContactImport:
    """A new import of ``content`` (``total`` data rows), queued for a worker, or already
    ``running`` for a caller that runs it itself (the command line)."""
    now = utcnow()
    job = ContactImport(
        filename=filename[:255],
        content=content,
        total=total,
        created_by=by.agent_id,
        status="running" if running else "queued",
        heartbeat_at=now if running else None,
        created_at=now,
    )
    session.add(job)
    await session.flush()
    audit_log(session, by, "contact_import.queued", f"contact_import:{job.id}", rows=total)
    emit(session, "contact_import", import_id=job.id)
    return job


async def claim_contact_import(
    session: AsyncSession, import_id: int, stale_before: dt.datetime
) -> bool:
    """Take the import for this worker: queued, or running with a heartbeat older than
    ``stale_before`` (its process died). One conditional UPDATE, so two workers never
    both win."""
    result = await session.execute(
        update(ContactImport)
        .where(
            ContactImport.id == import_id,
            or_(
                ContactImport.status == "queued",
                (ContactImport.status == "running")
                & or_(
                    ContactImport.heartbeat_at.is_(None),
                    ContactImport.heartbeat_at < stale_before,
                ),
            ),
        )
        .values(status="running", heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


async def finish_contact_import(
    session: AsyncSession, job: ContactImport, error: str | None = None
) -> None:
    """End the import: ``done``, or ``failed`` with ``error``; the file's text goes."""
    job.status = "failed" if error else "done"
    job.error = error[:MAX_ERROR] if error else None
    job.content = None
    job.finished_at = job.heartbeat_at = utcnow()
    emit(session, "contact_import", import_id=job.id)


class _Known:
    """The contacts a batch may touch, found once per batch by address."""

    def __init__(self) -> None:
        self.by_address: dict[tuple[str, str], Contact] = {}
        # Keyed by the contact itself: a new one has no id until the batch is flushed.
        self.addresses: dict[Contact, set[tuple[str, str]]] = {}

    def match(self, row: ContactRow) -> Contact | None:
        for key in [("email", e) for e in row.emails] + [("phone", p) for p in row.phones]:
            if key in self.by_address:
                return self.by_address[key]
        return None

    def add(self, contact: Contact, kind: str, value: str) -> None:
        self.by_address.setdefault((kind, value), contact)
        self.addresses.setdefault(contact, set()).add((kind, value))


async def _known(session: AsyncSession, rows: Sequence[ContactRow]) -> _Known:
    emails = sorted({e for r in rows for e in r.emails})
    phones = sorted({p for r in rows for p in r.phones})
    known = _Known()
    found = await session.scalars(
        select(Contact)
        .where(or_(Contact.email.in_(emails), Contact.phone.in_(phones)))
        .order_by(Contact.id)
    )
    contacts = {c.id: c for c in found}
    listed = (
        await session.execute(
            select(ContactAddress.contact_id, ContactAddress.kind, ContactAddress.value)
            .where(
                or_(
                    (ContactAddress.kind == "email") & ContactAddress.value.in_(emails),
                    (ContactAddress.kind == "phone") & ContactAddress.value.in_(phones),
                )
            )
            .order_by(ContactAddress.contact_id)
        )
    ).all()
    missing = {cid for cid, _, _ in listed} - contacts.keys()
    if missing:
        more = await session.scalars(select(Contact).where(Contact.id.in_(missing)))
        contacts.update({c.id: c for c in more})
    # Each contact's own email and phone match before an extra address of another one.
    for contact in contacts.values():
        if contact.email:
            known.by_address.setdefault(("email", contact.email), contact)
        if contact.phone:
            known.by_address.setdefault(("phone", contact.phone), contact)
    for contact_id, kind, value in listed:
        known.by_address.setdefault((kind, value), contacts[contact_id])
    if contacts:
        held = await session.execute(
            select(ContactAddress.contact_id, ContactAddress.kind, ContactAddress.value).where(
                ContactAddress.contact_id.in_(list(contacts))
            )
        )
        for contact_id, kind, value in held:
            known.addresses.setdefault(contacts[contact_id], set()).add((kind, value))
    return known


def _apply(contact: Contact, row: ContactRow) -> bool:
    """Set what the row gives on ``contact``; True when anything changed."""
    have = list(contact.tags or [])
    # Checked first: a refusal (too many tags) must leave the contact untouched.
    tags = clean_tags(have + list(row.tags)) if any(t not in have for t in row.tags) else None
    changed = False
    for name in ("name", "company", "notes"):
        value = getattr(row, name)
        if value and getattr(contact, name) != value:
            setattr(contact, name, value)
            changed = True
    if row.emails and not contact.email:
        contact.email, changed = row.emails[0], True
    if row.phones and not contact.phone:
        contact.phone, changed = row.phones[0], True
    if tags is not None:
        contact.tags, changed = tags, True
    attributes = {**(contact.attributes or {}), **row.attributes}
    if row.attributes and attributes != (contact.attributes or {}):
        contact.attributes = attributes
        changed = True
    return changed


def _add_addresses(session: AsyncSession, known: _Known, contact: Contact, row: ContactRow) -> bool:
    """Note the row's addresses on ``contact``; a new contact's rows are written once it
    has its id (``_announce``)."""
    held = known.addresses.setdefault(contact, set())
    added = False
    for kind, values in (("email", row.emails), ("phone", row.phones)):
        for value in values:
            if (kind, value) not in held and contact.id is not None:
                session.add(_address(contact, kind, value))
                added = True
            known.add(contact, kind, value)
    return added


def _address(contact: Contact, kind: str, value: str) -> ContactAddress:
    return ContactAddress(contact_id=contact.id, kind=kind, value=value, source="import")


async def _announce(
    session: AsyncSession, job: ContactImport, known: _Known, created: Sequence[Contact]
) -> None:
    """The batch's new contacts, flushed together: their addresses, their
    ``contact_created`` timeline events and ``contact.created`` webhooks."""
    if not created:
        return
    await session.flush()
    for contact in created:
        session.add_all(_address(contact, k, v) for k, v in sorted(known.addresses[contact]))
        add_timeline(session, contact.id, "contact_created", source="import", import_id=job.id)
    # One look for subscribers per batch, not one per contact.
    if await session.scalar(select(Webhook.id).where(Webhook.active).limit(1)) is None:
        return
    for contact in created:
        await queue_webhook_event(
            session, "contact.created", {"contact": contact_data(contact), "source": "import"}
        )


async def import_contact_rows(
    session: AsyncSession, job: ContactImport, rows: Sequence[ContactRow | RowFailure]
) -> None:
    """Write one batch of the import's rows and move its progress, in the caller's
    transaction: a batch and its count commit together, so a resumed import neither
    skips nor repeats a row's count."""
    good = [r for r in rows if isinstance(r, ContactRow)]
    known = await _known(session, good)
    created: list[Contact] = []
    for item in rows:
        if isinstance(item, ContactRow):
            try:
                _import_row(session, job, known, item, created)
                continue
            except ActionError as exc:
                item = RowFailure(item.row, exc.message)
        job.failed += 1
        session.add(
            ContactImportError(
                import_id=job.id,
                row=item.row,
                reason=item.reason[:MAX_REASON],
                raw=item.raw[:MAX_RAW],
            )
        )
    await _announce(session, job, known, created)
    job.processed += len(rows)
    job.heartbeat_at = utcnow()
    await session.flush()
    emit(session, "contact_import", import_id=job.id, processed=job.processed)


def _import_row(
    session: AsyncSession,
    job: ContactImport,
    known: _Known,
    row: ContactRow,
    created: list[Contact],
) -> None:
    contact = known.match(row)
    if contact is None:
        contact = Contact(tags=[], attributes={})
        _apply(contact, row)
        session.add(contact)
        _add_addresses(session, known, contact, row)
        created.append(contact)
        job.created += 1
        return
    changed = _apply(contact, row)
    changed = _add_addresses(session, known, contact, row) or changed
    if not changed:
        job.unchanged += 1
        return
    if contact.id is None:
        return  # made earlier in this batch: its creation says it all
    contact.updated_at = utcnow()
    add_timeline(session, contact.id, "contact_imported", import_id=job.id)
    job.updated += 1
