"""A contact as the console's panel shows it (names, emails, channels, attributes,
earlier conversations, merges that can be undone) and their whole timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actions import iso
from omnidesk.helpdesk.models import ChannelIdentity, Contact, Conversation, TimelineEvent
from omnidesk.helpdesk.queries.conversations import summaries

MAX_EARLIER = 50


async def contact_timeline(
    session: AsyncSession, contact_id: int, limit: int | None = None
) -> list[dict[str, Any]]:
    """The contact's timeline, oldest first (the newest ``limit`` when given)."""
    query = select(TimelineEvent).where(TimelineEvent.contact_id == contact_id)
    if limit is not None:
        query = query.order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc())
        rows = list(reversed((await session.scalars(query.limit(limit))).all()))
    else:
        query = query.order_by(TimelineEvent.created_at, TimelineEvent.id)
        rows = list((await session.scalars(query)).all())
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "conversation_id": e.conversation_id,
            "data": e.data,
            "created_at": iso(e.created_at),
        }
        for e in rows
    ]


async def contact_panel(
    session: AsyncSession, contact: Contact, agent_id: int | None = None
) -> dict[str, Any]:
    """Everything the console shows beside a conversation about who wrote it."""
    identities = (
        await session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.contact_id == contact.id)
            .order_by(ChannelIdentity.id)
        )
    ).all()
    conversations = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.contact_id == contact.id)
            .order_by(Conversation.id.desc())
            .limit(MAX_EARLIER)
        )
    ).all()
    attributes = dict(contact.attributes or {})
    tags = attributes.get("tags")
    emails = sorted({e for e in [contact.email, *(_email_of(i) for i in identities)] if e})
    names = sorted({n for n in [contact.name, *(i.display_name for i in identities)] if n})
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "names": names,
        "emails": emails,
        "attributes": attributes,
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
        "created_at": iso(contact.created_at),
        "erased_at": iso(contact.erased_at),
        "identities": [
            {
                "id": i.id,
                "channel": i.channel,
                "external_id": i.external_id,
                "display_name": i.display_name,
                "created_at": iso(i.created_at),
            }
            for i in identities
        ],
        "conversations": await summaries(session, conversations, agent_id),
        "merges": await undoable_merges(session, contact.id),
    }


def _email_of(identity: ChannelIdentity) -> str | None:
    return identity.external_id.lower() if identity.channel == "email" else None


async def undoable_merges(session: AsyncSession, contact_id: int) -> list[dict[str, Any]]:
    """The merges into this contact that an un-merge can still undo, newest first."""
    rows = (
        await session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.contact_id == contact_id, TimelineEvent.kind == "contacts_merged")
            .order_by(TimelineEvent.id.desc())
        )
    ).all()
    found = []
    for event in rows:
        data = event.data or {}
        snapshot = data.get("merged_contact") or {}
        if data.get("unmerged_at") or not snapshot.get("id"):
            continue
        found.append(
            {
                "event_id": event.id,
                "contact_id": snapshot["id"],
                "name": snapshot.get("name"),
                "email": snapshot.get("email"),
                "merged_at": iso(event.created_at),
                "by": data.get("by"),
            }
        )
    return found
