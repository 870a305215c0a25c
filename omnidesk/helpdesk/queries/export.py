"""Everything the helpdesk holds about one contact, for their right of access: the
contact, identities, addresses, attributes, conversations with every message (internal
notes included) and ticket, survey sends, the timeline, and the files they sent.

``contact_export`` reads it all in one session; ``write_zip`` writes it as a zip with
``data.json`` and the stored files under ``attachments/`` (a file the payload names but
the uploads folder no longer holds is listed as missing, not an error).
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import Base, utcnow
from omnidesk.helpdesk.models import (
    ChannelIdentity,
    Contact,
    ContactAddress,
    Conversation,
    ConversationLabel,
    Message,
    SurveySend,
    Ticket,
    TimelineEvent,
)
from omnidesk.helpdesk.uploads import attachment_names, upload_path

FORMAT = 1
# Columns of no use to the person and internal to search (PostgreSQL's tsvector).
SKIPPED = frozenset({"search_vector"})


@dataclass
class ContactExport:
    """The ``data.json`` document and the stored files (name → path) to put beside it."""

    data: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


def row_dict(row: Base) -> dict[str, Any]:
    """Every mapped column of ``row``, times as ISO 8601."""
    out: dict[str, Any] = {}
    for attr in inspect(row).mapper.column_attrs:
        if attr.key in SKIPPED:
            continue
        value = getattr(row, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, dt.datetime) else value
    return out


async def _rows(session: AsyncSession, model: Any, *where: Any) -> list[Any]:
    return list((await session.scalars(select(model).where(*where).order_by(model.id))).all())


async def contact_export(
    session: AsyncSession, contact: Contact, uploads_dir: Path | None
) -> ContactExport:
    """What is held about ``contact`` (see the module's docstring)."""
    conversations = await _rows(session, Conversation, Conversation.contact_id == contact.id)
    ids = [c.id for c in conversations]
    messages = await _rows(session, Message, Message.conversation_id.in_(ids))
    labels = (
        await session.execute(
            select(ConversationLabel.conversation_id, ConversationLabel.label).where(
                ConversationLabel.conversation_id.in_(ids)
            )
        )
    ).tuples()
    labels_of: dict[int, list[str]] = {}
    for conversation_id, label in labels:
        labels_of.setdefault(conversation_id, []).append(label)
    by_conversation: dict[int, list[dict[str, Any]]] = {}
    export = ContactExport({})
    missing: list[str] = []
    for message in messages:
        by_conversation.setdefault(message.conversation_id, []).append(row_dict(message))
        for name in attachment_names(message.payload):
            path = upload_path(uploads_dir, name)
            if path is None:
                missing.append(name)
            else:
                export.files[name] = path
    export.data = {
        "format": FORMAT,
        "exported_at": utcnow().isoformat(),
        "contact": row_dict(contact),
        "identities": [
            row_dict(r)
            for r in await _rows(session, ChannelIdentity, ChannelIdentity.contact_id == contact.id)
        ],
        "addresses": [
            row_dict(r)
            for r in await _rows(session, ContactAddress, ContactAddress.contact_id == contact.id)
        ],
        "conversations": [
            {
                **row_dict(c),
                "labels": sorted(labels_of.get(c.id, [])),
                "messages": by_conversation.get(c.id, []),
            }
            for c in conversations
        ],
        "tickets": [
            row_dict(r) for r in await _rows(session, Ticket, Ticket.contact_id == contact.id)
        ],
        "surveys": [
            row_dict(r)
            for r in await _rows(session, SurveySend, SurveySend.contact_id == contact.id)
        ],
        "timeline": [
            row_dict(r)
            for r in await _rows(session, TimelineEvent, TimelineEvent.contact_id == contact.id)
        ],
        "attachments": {
            "included": sorted(f"attachments/{name}" for name in export.files),
            "missing": sorted(set(missing)),
        },
    }
    return export


def write_zip(export: ContactExport, target: IO[bytes]) -> None:
    """Write the export as a zip into ``target`` (blocking: run it in a thread)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        body = json.dumps(export.data, ensure_ascii=False, indent=2, default=str)
        archive.writestr("data.json", body)
        for name, path in sorted(export.files.items()):
            archive.write(path, f"attachments/{name}")
