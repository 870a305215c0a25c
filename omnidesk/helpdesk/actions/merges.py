"""Merging two contacts that are one person, and undoing it. A merge moves the other
contact's identities, conversations (with every message), tickets and timeline to the
kept contact and records exactly what moved in its ``contacts_merged`` timeline event, so
an un-merge can bring the other contact back with the same id and everything it had."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, iso
from omnidesk.helpdesk.actions.webhooks import contact_data, queue_webhook_event
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import ChannelIdentity, Contact, Conversation, Ticket, TimelineEvent

MERGED = "contacts_merged"
UNMERGED = "contacts_unmerged"


async def _ids_of(session: AsyncSession, model: Any, contact_id: int) -> list[int]:
    rows = await session.scalars(select(model.id).where(model.contact_id == contact_id))
    return sorted(rows.all())


async def merge_contacts(
    session: AsyncSession, keep: Contact, other: Contact, by: Actor | str
) -> TimelineEvent:
    """Make two contacts one: ``other``'s identities, conversations, tickets and timeline
    move to ``keep``; ``other`` is removed. Returns the ``contacts_merged`` event."""
    actor = Actor(by) if isinstance(by, str) else by
    if keep.id == other.id:
        raise ActionError("same_contact", "a contact cannot be merged with itself")
    if keep.erased_at is not None or other.erased_at is not None:
        raise ActionError("erased", "an erased contact cannot be merged")
    moved = {
        "identities": await _ids_of(session, ChannelIdentity, other.id),
        "conversations": await _ids_of(session, Conversation, other.id),
        "tickets": await _ids_of(session, Ticket, other.id),
        "timeline": await _ids_of(session, TimelineEvent, other.id),
    }
    for model in (ChannelIdentity, Conversation, Ticket, TimelineEvent):
        await session.execute(
            update(model).where(model.contact_id == other.id).values(contact_id=keep.id)
        )
    before = {"name": keep.name, "email": keep.email, "attributes": dict(keep.attributes or {})}
    merged = {
        "id": other.id,
        "name": other.name,
        "email": other.email,
        "attributes": dict(other.attributes or {}),
        "created_at": iso(other.created_at),
    }
    keep.name = keep.name or other.name
    keep.email = keep.email or other.email
    keep.attributes = {**(other.attributes or {}), **(keep.attributes or {})}
    event = add_timeline(
        session,
        keep.id,
        MERGED,
        None,
        merged_contact_id=other.id,
        merged_contact=merged,
        keep_before=before,
        moved=moved,
        by=actor,
    )
    other_id = other.id
    session.expunge(other)
    await session.execute(delete(Contact).where(Contact.id == other_id))
    await session.flush()
    emit(session, "contact", contact_id=keep.id, merged_contact_id=other_id)
    await queue_webhook_event(
        session,
        "contact.merged",
        {
            "contact": contact_data(keep),
            "merged_contact_id": other_id,
            "moved_conversation_ids": moved["conversations"],
            "by_id": actor.agent_id,
        },
    )
    return event


async def unmerge_contacts(
    session: AsyncSession, keep: Contact, merge_event: TimelineEvent, by: Actor
) -> Contact:
    """Undo a merge: the merged contact comes back with its id, fields, identities, and
    the conversations (with every message), tickets and timeline entries that belong to
    them, including what those identities started since the merge."""
    data = dict(merge_event.data or {})
    if merge_event.kind != MERGED or merge_event.contact_id != keep.id:
        raise ActionError("not_found", "no such merge of this contact")
    if keep.erased_at is not None:
        raise ActionError("erased", "an erased contact's merges cannot be undone")
    if data.get("unmerged_at"):
        raise ActionError("already_unmerged", "this merge was already undone")
    snapshot = data.get("merged_contact") or {}
    moved = data.get("moved") or {}
    if not snapshot.get("id"):
        raise ActionError("not_undoable", "this merge was recorded without what moved")
    if await session.get(Contact, snapshot["id"]) is not None:
        raise ActionError("conflict", "the merged contact's id is in use again")
    restored = Contact(
        id=snapshot["id"],
        name=snapshot.get("name"),
        email=snapshot.get("email"),
        attributes=dict(snapshot.get("attributes") or {}),
        created_at=_parse(snapshot.get("created_at")) or utcnow(),
    )
    session.add(restored)
    await session.flush()
    await _move_back(session, keep.id, restored.id, moved)
    _restore_fields(keep, data.get("keep_before") or {}, snapshot)
    now = utcnow()
    merge_event.data = {**data, "unmerged_at": iso(now), "unmerged_by": by.name}
    for contact_id in (keep.id, restored.id):
        add_timeline(
            session,
            contact_id,
            UNMERGED,
            None,
            kept_contact_id=keep.id,
            restored_contact_id=restored.id,
            merge_event_id=merge_event.id,
            by=by,
        )
    await session.flush()
    emit(session, "contact", contact_id=keep.id, restored_contact_id=restored.id)
    return restored


async def _move_back(
    session: AsyncSession, keep_id: int, other_id: int, moved: dict[str, list[int]]
) -> None:
    identities = list(moved.get("identities") or [])
    await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.contact_id == keep_id, ChannelIdentity.id.in_(identities))
        .values(contact_id=other_id)
    )
    # Conversations that moved, and those the other's identities started since.
    conversation_ids = (
        await session.scalars(
            select(Conversation.id).where(
                Conversation.contact_id == keep_id,
                or_(
                    Conversation.id.in_(list(moved.get("conversations") or [])),
                    Conversation.identity_id.in_(identities),
                ),
            )
        )
    ).all()
    conversations = list(conversation_ids)
    await session.execute(
        update(Conversation).where(Conversation.id.in_(conversations)).values(contact_id=other_id)
    )
    for model, recorded in ((Ticket, "tickets"), (TimelineEvent, "timeline")):
        await session.execute(
            update(model)
            .where(
                model.contact_id == keep_id,
                or_(
                    model.id.in_(list(moved.get(recorded) or [])),
                    model.conversation_id.in_(conversations),
                ),
            )
            .values(contact_id=other_id)
        )


def _restore_fields(keep: Contact, before: dict[str, Any], snapshot: dict[str, Any]) -> None:
    """Take back from ``keep`` what it only had from the merged contact."""
    if before.get("name") is None and keep.name == snapshot.get("name"):
        keep.name = None
    if before.get("email") is None and keep.email == snapshot.get("email"):
        keep.email = None
    kept = dict(before.get("attributes") or {})
    theirs = snapshot.get("attributes") or {}
    attributes = dict(keep.attributes or {})
    for key, value in theirs.items():
        if key not in kept and attributes.get(key) == value:
            attributes.pop(key, None)
    keep.attributes = attributes


def _parse(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None
