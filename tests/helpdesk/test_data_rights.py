"""Data rights: a contact's export holds everything the helpdesk keeps about them, the
files' bytes included; erasing them leaves none of their words, addresses or files in any
table or the search index, only the tombstone and the audit entry; the admin routes
refuse agents, a wrong confirmation and unknown ids."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from omnidesk.bot.app import create_app
from omnidesk.config import Settings
from omnidesk.helpdesk import ActionError, Actor, actions, queries, unit_of_work
from omnidesk.helpdesk.models import (
    AgentRole,
    AuditEntry,
    ChannelIdentity,
    Contact,
    Conversation,
    Message,
)
from omnidesk.helpdesk.uploads import remove_uploads
from tests.accounts import bearer
from tests.conftest import Database
from tests.helpdesk.rights_helpers import (
    Customer,
    found_by_search,
    rich_customer,
    rows_mentioning,
)

ADMIN = Actor("Root", 1, AgentRole.ADMIN, ip="127.0.0.9")
Client = TestClient[Any, Any]


def read_zip(body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("data.json")), files


def check_export(data: dict[str, Any], files: dict[str, bytes], customer: Customer) -> None:
    m = customer.marker
    assert data["contact"]["name"] == f"Zed {m}"
    assert data["contact"]["email"] == f"zed{m}@example.test"
    assert data["contact"]["company"] == f"Acme {m}"
    assert data["contact"]["attributes"] == {"plan": f"gold{m}"}
    assert [i["external_id"] for i in data["identities"]] == [f"v{m}"]
    assert [a["value"] for a in data["addresses"]] == [f"b{m}@x.test"]
    [conversation] = data["conversations"]
    texts = [message["text"] for message in conversation["messages"]]
    assert f"my order quux{m} never came" in texts
    assert f"called Zed {m} back" in texts  # the internal note too
    assert f"Sorry Zed {m}, let me look" in texts
    assert data["tickets"][0]["csat_comment"] == f"fine but slow {m}"
    assert data["surveys"][0]["comment"] == f"nps quux{m}"
    unanswered = [e for e in data["timeline"] if e["kind"] == "unanswered"]
    assert unanswered[0]["data"]["question"] == f"where is quux{m}"
    assert data["attachments"] == {
        "included": [f"attachments/{customer.file_name}"],
        "missing": [],
    }
    assert files == {f"attachments/{customer.file_name}": customer.file_bytes}


async def test_export_holds_everything_with_the_files(db: Database, tmp_path: Path) -> None:
    customer = await rich_customer(db.sessionmaker, tmp_path, "a1b2c3d4e5")
    async with db.sessionmaker() as session:
        contact = await session.get_one(Contact, customer.contact_id)
        export = await queries.contact_export(session, contact, tmp_path)
    target = io.BytesIO()
    queries.write_zip(export, target)
    check_export(*read_zip(target.getvalue()), customer)


async def erase(db: Database, contact_id: int, uploads: Path) -> actions.Redaction:
    async with unit_of_work(db.sessionmaker) as session:
        contact = await session.get_one(Contact, contact_id)
        done = await actions.erase_contact(session, contact, ADMIN)
    remove_uploads(uploads, done.files)
    return done


async def test_erase_leaves_nothing_but_the_tombstone_and_the_audit_entry(
    db: Database, tmp_path: Path
) -> None:
    customer = await rich_customer(db.sessionmaker, tmp_path, "f0e1d2c3b4")
    other = await rich_customer(db.sessionmaker, tmp_path, "9a8b7c6d5e")
    async with db.sessionmaker() as session:
        assert await rows_mentioning(session, customer.marker)
        assert await found_by_search(session, customer.marker)
        messages_before = await session.scalar(select(func.count()).select_from(Message))

    done = await erase(db, customer.contact_id, tmp_path)
    assert done.counts() == {"conversations": 1, "messages": 3, "attachments": 1}

    async with db.sessionmaker() as session:
        assert await rows_mentioning(session, customer.marker) == []
        assert await found_by_search(session, customer.marker) == []
        # The other customer is untouched, in the tables and the index.
        assert await rows_mentioning(session, other.marker)
        assert await found_by_search(session, other.marker)
        contact = await session.get_one(Contact, customer.contact_id)
        assert contact.erased_at is not None and contact.name is None and contact.tags == []
        conversation = await session.get_one(Conversation, customer.conversation_id)
        assert conversation.redacted_at is not None
        # The messages stay as empty rows, so the reports still count them.
        assert await session.scalar(select(func.count()).select_from(Message)) == messages_before
        redacted = (
            await session.scalars(
                select(Message.redacted).where(Message.conversation_id == conversation.id)
            )
        ).all()
        assert redacted and all(redacted)
        identity = await session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.contact_id == contact.id)
        )
        assert identity is not None and identity.external_id == f"erased-{identity.id}"
        [entry] = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "contact.erased"))
        ).all()
    assert entry.target == f"contact:{customer.contact_id}" and entry.ip == "127.0.0.9"
    assert entry.data == done.counts()
    assert not (tmp_path / customer.file_name).exists()
    assert (tmp_path / other.file_name).exists()

    # The same visitor writing again is a new contact, not the erased one.
    async with unit_of_work(db.sessionmaker) as session:
        identity = await actions.resolve_identity(session, "webchat", f"v{customer.marker}")
        assert identity.contact_id != customer.contact_id

    with pytest.raises(ActionError) as refused:
        await erase(db, customer.contact_id, tmp_path)
    assert refused.value.code == "already_erased"


# -- the routes ----------------------------------------------------------------------------


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, db: Database) -> AsyncIterator[Client]:
    settings.knowledge.seed_sample = False
    yield await aiohttp_client(create_app(settings))


async def test_admin_exports_and_erases_over_the_api(
    client: Client, db: Database, settings: Settings
) -> None:
    customer = await rich_customer(db.sessionmaker, settings.uploads_dir, "c0ffee1234")
    admin = await bearer(db.sessionmaker, "admin", "root@example.test", "Root")
    one = f"/api/v1/contacts/{customer.contact_id}"

    response = await client.get(one + "/export", headers=admin)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="contact-{customer.contact_id}.zip"'
    )
    check_export(*read_zip(await response.read()), customer)

    response = await client.post(
        one + "/erase", json={"confirm": customer.contact_id}, headers=admin
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["contact_id"] == customer.contact_id and body["messages"] == 3
    assert body["files_removed"] == 1
    async with db.sessionmaker() as session:
        assert await rows_mentioning(session, customer.marker) == []
        actions_logged = (
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.target == f"contact:{customer.contact_id}"
                )
            )
        ).all()
    assert sorted(actions_logged) == ["contact.erased", "contact.exported"]

    again = await client.post(one + "/erase", json={"confirm": customer.contact_id}, headers=admin)
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "already_erased"


async def test_the_routes_refuse_agents_bad_confirmations_and_unknown_ids(
    client: Client, db: Database, settings: Settings
) -> None:
    customer = await rich_customer(db.sessionmaker, settings.uploads_dir, "beef000042")
    admin = await bearer(db.sessionmaker, "admin", "root@example.test", "Root")
    agent = await bearer(db.sessionmaker, "agent", "dana@example.test", "Dana")
    one = f"/api/v1/contacts/{customer.contact_id}"

    assert (await client.get(one + "/export", headers=agent)).status == 403
    erase_as_agent = await client.post(
        one + "/erase", json={"confirm": customer.contact_id}, headers=agent
    )
    assert erase_as_agent.status == 403
    for body in ({}, {"confirm": customer.contact_id + 1}, {"confirm": str(customer.contact_id)},
                 {"confirm": True}, {"confirm": None}, [customer.contact_id]):  # fmt: skip
        response = await client.post(one + "/erase", json=body, headers=admin)
        assert response.status == 400, body
    bad_json = await client.post(one + "/erase", data=b"{", headers=admin)
    assert bad_json.status == 400
    for path in ("/api/v1/contacts/999999", "/api/v1/contacts/99999999999999999999"):
        assert (await client.get(path + "/export", headers=admin)).status == 404
        missing = await client.post(path + "/erase", json={"confirm": 999999}, headers=admin)
        assert missing.status == 404
    async with db.sessionmaker() as session:
        assert (await session.get_one(Contact, customer.contact_id)).erased_at is None
        assert await rows_mentioning(session, customer.marker)


async def test_erasure_reaches_a_merge_snapshot_and_erased_contacts_do_not_merge(
    db: Database, tmp_path: Path
) -> None:
    kept = await rich_customer(db.sessionmaker, tmp_path, "d00d00d00d")
    merged = await rich_customer(db.sessionmaker, tmp_path, "e11e11e11e")
    async with unit_of_work(db.sessionmaker) as session:
        keep = await session.get_one(Contact, kept.contact_id)
        other = await session.get_one(Contact, merged.contact_id)
        event = await actions.merge_contacts(session, keep, other, ADMIN)
        await session.flush()
        await actions.unmerge_contacts(session, keep, event, ADMIN)
    # The kept contact's merge event still holds a snapshot of the one merged in.
    async with db.sessionmaker() as session:
        assert any(
            r.startswith("timeline_events") and "contacts_merged" in r
            for r in await rows_mentioning(session, merged.marker)
        )
    await erase(db, merged.contact_id, tmp_path)
    async with db.sessionmaker() as session:
        assert await rows_mentioning(session, merged.marker) == []
        assert await rows_mentioning(session, kept.marker)

    async with unit_of_work(db.sessionmaker) as session:
        keep = await session.get_one(Contact, kept.contact_id)
        erased = await session.get_one(Contact, merged.contact_id)
        with pytest.raises(ActionError) as refused:
            await actions.merge_contacts(session, keep, erased, ADMIN)
    assert refused.value.code == "erased"
