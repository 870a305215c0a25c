"""Erasing a contact at their request: everything they wrote and everything that says
who they are goes, in one transaction with its audit entry.

- every conversation of theirs is redacted (``redaction.redact_conversation``: messages,
  files, subjects, the questions the knowledge gaps read, queued deliveries);
- their channel identities are cut loose: the platform id becomes ``erased-<id>`` and the
  display name goes, so no later message can find this contact again (the rows stay
  because the conversations, kept for the reports' counts, point at them);
- their extra addresses are deleted, their survey comments and waiting inbound rows too;
- their timeline, and the snapshot another contact's merge event keeps of them, are
  scrubbed of words;
- the contact row stays as a tombstone: ``erased_at`` set, every personal field blank.

The search index follows by itself (triggers on SQLite, generated columns on
PostgreSQL); on SQLite the FTS5 index is then optimised in the same transaction, since a
deletion there only adds a marker and the old words would stay in the older segments
until a merge (PostgreSQL's GIN index drops dead entries at its next vacuum, and never
returns them to a query before). Erasing an erased contact is refused (``already_erased``,
409): the second call has nothing to do and must not look as if it did something.
"""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, audit_log
from omnidesk.helpdesk.actions.redaction import Redaction, redact_conversation, scrub_event
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    ChannelIdentity,
    Contact,
    ContactAddress,
    Conversation,
    InboxItem,
    SurveySend,
    TimelineEvent,
)

ERASED_PREFIX = "erased-"


async def erase_contact(session: AsyncSession, contact: Contact, by: Actor) -> Redaction:
    """Erase ``contact`` (see the module's docstring); returns what was redacted, with
    the stored files the caller removes after the commit."""
    if contact.erased_at is not None:
        raise ActionError("already_erased", "this contact was erased already")
    now = utcnow()
    result = Redaction()
    conversations = await session.scalars(
        select(Conversation).where(Conversation.contact_id == contact.id).order_by(Conversation.id)
    )
    for conversation in conversations:
        result.add(await redact_conversation(session, conversation, now, announce=True))
    await _forget_identities(session, contact.id)
    await session.execute(delete(ContactAddress).where(ContactAddress.contact_id == contact.id))
    surveys = await session.scalars(select(SurveySend).where(SurveySend.contact_id == contact.id))
    for send in surveys:
        send.comment = None
    await _scrub_timeline(session, contact.id)
    _blank(contact)
    contact.erased_at = now
    audit_log(session, by, "contact.erased", f"contact:{contact.id}", **result.counts())
    emit(session, "contact", contact_id=contact.id)
    await compact_search_index(session)
    return result


async def compact_search_index(session: AsyncSession) -> None:
    """Rewrite SQLite's FTS5 indexes without the entries deleted or replaced so far."""
    if session.get_bind().dialect.name != "sqlite":
        return
    await session.flush()
    for table in ("messages_fts", "contacts_fts"):
        await session.execute(text(f"INSERT INTO {table}({table}) VALUES ('optimize')"))


async def _forget_identities(session: AsyncSession, contact_id: int) -> None:
    identities = (
        await session.scalars(
            select(ChannelIdentity).where(ChannelIdentity.contact_id == contact_id)
        )
    ).all()
    keys = [f"{i.channel}:{i.external_id}"[:300] for i in identities]
    if keys:
        # Their messages still waiting in the inbox (or parked there) hold their words.
        await session.execute(delete(InboxItem).where(InboxItem.fair_key.in_(keys)))
    for identity in identities:
        identity.external_id = f"{ERASED_PREFIX}{identity.id}"
        identity.display_name = None
        identity.verified = False


async def _scrub_timeline(session: AsyncSession, contact_id: int) -> None:
    """The contact's own events, and merge events elsewhere that kept a snapshot of it."""
    for event in await session.scalars(
        select(TimelineEvent).where(TimelineEvent.contact_id == contact_id)
    ):
        scrub_event(event)
    merges = await session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.kind == "contacts_merged", TimelineEvent.contact_id != contact_id
        )
    )
    for event in merges:
        if (event.data or {}).get("merged_contact_id") == contact_id:
            scrub_event(event)


def _blank(contact: Contact) -> None:
    contact.name = None
    contact.email = None
    contact.phone = None
    contact.company = None
    contact.tags = []
    contact.notes = ""
    contact.attributes = {}
    contact.updated_at = utcnow()


def record_export(session: AsyncSession, contact: Contact, by: Actor) -> None:
    """An export of everything held about ``contact`` was handed to ``by``: a read, but
    one that takes a person's data out of the helpdesk, so it is in the audit log."""
    audit_log(session, by, "contact.exported", f"contact:{contact.id}")
