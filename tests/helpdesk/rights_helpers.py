"""A customer with something in every place the helpdesk keeps a customer's data, each
piece carrying one unique marker, so a test can look for the marker anywhere; and the
look across every table and the search index."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.db import Base
from omnidesk.helpdesk import SYSTEM, Actor, actions, search, unit_of_work
from omnidesk.helpdesk.models import (
    AgentRole,
    Author,
    Contact,
    ContactAddress,
    SurveySend,
)
from omnidesk.helpdesk.uploads import URL_PREFIX

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass
class Customer:
    contact_id: int
    conversation_id: int
    marker: str
    file_name: str
    file_bytes: bytes


async def rich_customer(
    maker: async_sessionmaker[AsyncSession], uploads: Path, marker: str, visitor: str = ""
) -> Customer:
    """A customer who wrote, sent a file, was handed over, answered, noted, rated and
    surveyed; ``marker`` is in every word that is theirs."""
    uploads.mkdir(parents=True, exist_ok=True)
    file_name = f"f{marker}.png"
    file_bytes = PNG + marker.encode()
    (uploads / file_name).write_bytes(file_bytes)
    agent = Actor("Dana", role=AgentRole.AGENT)
    async with unit_of_work(maker) as session:
        identity = await actions.resolve_identity(
            session,
            "webchat",
            visitor or f"v{marker}",
            name=f"Zed {marker}",
            email=f"zed{marker}@example.test",
        )
        contact = await session.get_one(Contact, identity.contact_id)
        contact.phone = "+31612" + str(zlib.crc32(marker.encode()) % 10**6).zfill(6)
        contact.company = f"Acme {marker}"
        contact.tags = [f"tag{marker}"]
        contact.notes = f"prefers mornings {marker}"
        contact.attributes = {"plan": f"gold{marker}"}
        session.add(ContactAddress(contact_id=contact.id, kind="email", value=f"b{marker}@x.test"))
        conversation = await actions.current_conversation(session, identity)
        attachment = {
            "filename": f"scan {marker}.png",
            "content_type": "image/png",
            "size": len(file_bytes),
            "url": URL_PREFIX + file_name,
        }
        await actions.record_message(
            session,
            conversation,
            Author.CONTACT,
            f"my order quux{marker} never came",
            author_name=f"Zed {marker}",
            payload={"attachments": [attachment]},
            external_id=f"ext{marker}",
        )
        actions.note_unsure(
            session, conversation, f"where is quux{marker}", question=None, confidence=0.1
        )
        await actions.reply(session, conversation, Author.BOT, f"Sorry Zed {marker}, let me look")
        ticket = await actions.escalate(
            session, conversation, reason="customer_request", subject=f"order quux{marker}"
        )
        await actions.add_note(session, conversation, agent, f"called Zed {marker} back")
        await actions.rate(session, ticket, 4, via="web")
        await actions.comment_on_rating(session, ticket, f"fine but slow {marker}")
        session.add(
            SurveySend(
                contact_id=contact.id,
                conversation_id=conversation.id,
                kind="nps",
                score=9,
                comment=f"nps quux{marker}",
            )
        )
        await actions.accept_inbound(
            session,
            channel="webchat",
            dedupe_key=f"d{marker}",
            order_key=f"webchat:{identity.external_id}",
            fair_key=f"webchat:{identity.external_id}",
            payload={"text": f"still there quux{marker}?"},
        )
        return Customer(contact.id, conversation.id, marker, file_name, file_bytes)


async def rows_mentioning(session: AsyncSession, marker: str) -> list[str]:
    """Every row of every table (and of SQLite's search index) whose text holds
    ``marker``, as ``table: row``."""
    found = []
    for table in Base.metadata.sorted_tables:
        for row in (await session.execute(select(table))).all():
            if marker.lower() in str(tuple(row)).lower():
                found.append(f"{table.name}: {row}")
    if session.get_bind().dialect.name == "sqlite":
        for index in ("messages_fts", "contacts_fts"):
            vocabulary = f"temp.{index}_v USING fts5vocab(main, {index}, row)"
            await session.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocabulary}"))
            terms = await session.scalars(text(f"SELECT term FROM temp.{index}_v"))
            found.extend(f"{index}: {t}" for t in terms if marker.lower() in t)
            # The index's own pages: a deletion that was only marked would still be there.
            blobs = await session.scalars(text(f"SELECT block FROM {index}_data"))
            found.extend(f"{index}_data" for b in blobs if marker.lower().encode() in bytes(b))
    return found


async def found_by_search(session: AsyncSession, marker: str) -> list[object]:
    return [
        *await search.search_messages(session, f"quux{marker}"),
        *await search.search_contacts(session, f"zed{marker}"),
        *await search.search_contacts(session, marker),
    ]


async def customer_erased(maker: async_sessionmaker[AsyncSession], contact_id: int) -> None:
    async with unit_of_work(maker) as session:
        contact = await session.get_one(Contact, contact_id)
        await actions.erase_contact(session, contact, SYSTEM)


def old(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
