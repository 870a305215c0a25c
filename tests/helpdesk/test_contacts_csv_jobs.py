"""Contact imports as jobs, on SQLite and PostgreSQL: rows written in batches with
progress, matched to existing contacts by email then phone, row errors kept with their
reason, one audit entry per import, a second run of the same file changing nothing, an
import whose process died taken over and finished, and export then import giving the
same contacts."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select, update

from omnidesk.helpdesk import Actor, actions, unit_of_work
from omnidesk.helpdesk.contacts_csv import (
    STALE_AFTER,
    ImportRunner,
    attribute_definitions,
    csv_chunks,
    import_errors,
    parse,
    run_import,
)
from omnidesk.helpdesk.contacts_csv.jobs import BATCH
from omnidesk.helpdesk.events import EventBus
from omnidesk.helpdesk.models import (
    AgentRole,
    AttributeDefinition,
    AuditEntry,
    Contact,
    ContactAddress,
    ContactImport,
    TimelineEvent,
    WebhookDelivery,
)
from tests.accounts import add_agent
from tests.conftest import Database

FILE = (
    "name,email,phone,company,tags,plan\n"
    "Ada Lovelace,ada@example.com,,Analytical,vip,pro\n"  # matches by email
    "Bob,bob.new@example.com,+442079460958,,,\n"  # matches Bob by phone
    'Cleo,cleo@example.com; cleo@home.test,,Nile,"new, beta",free\n'  # new
    "Broken,not-an-address,,,,\n"
    "Dan,dan@example.com,,,,enterprise\n"
    ",CLEO@home.test,,,,\n"  # the same person as two lines up: nothing new
)


async def admin(db: Database) -> Actor:
    agent_id = await add_agent(db.sessionmaker, "root@example.test", role="admin", name="Root")
    return Actor("Root", agent_id, AgentRole.ADMIN, ip="127.0.0.1")


async def seed(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        session.add(
            AttributeDefinition(key="plan", label="Plan", type="list", options=["free", "pro"])
        )
        session.add(Contact(name="Ada", email="ada@example.com", notes="kept", tags=["old"]))
        session.add(Contact(name="Bob", phone="+442079460958"))
        await actions.create_webhook(
            session,
            {"url": "http://127.0.0.1:9/hook", "events": ["contact.created"], "active": True},
            Actor("Root", None, AgentRole.ADMIN),
        )


async def start(db: Database, text: str, by: Actor, *, running: bool = False) -> int:
    async with db.sessionmaker() as session:
        sheet = parse(text.encode(), await attribute_definitions(session))
    async with unit_of_work(db.sessionmaker) as session:
        job = await actions.queue_contact_import(
            session,
            filename="people.csv",
            content=text,
            total=len(sheet.rows),
            by=by,
            running=running,
        )
        return job.id


async def contacts(db: Database) -> list[Contact]:
    async with db.sessionmaker() as session:
        return list(await session.scalars(select(Contact).order_by(Contact.id)))


async def test_an_import_matches_updates_creates_and_records_row_errors(db: Database) -> None:
    await seed(db)
    by = await admin(db)
    import_id = await start(db, FILE, by)
    seen: list[dict[str, Any]] = []
    result = await run_import(db.sessionmaker, None, import_id, progress=seen.append)
    assert result is not None
    assert result["status"] == "done"
    assert (result["total"], result["processed"]) == (6, 6)
    assert (result["created"], result["updated"], result["unchanged"], result["failed"]) == (
        1,
        2,
        1,
        2,
    )
    assert seen[-1]["processed"] == 6
    ada, bob, cleo = await contacts(db)  # Dan's row failed: no contact for him
    assert (ada.name, ada.company, ada.notes, ada.tags) == (
        "Ada Lovelace",
        "Analytical",
        "kept",
        ["old", "vip"],
    )
    assert ada.attributes == {"plan": "pro"}
    assert (bob.email, bob.phone) == ("bob.new@example.com", "+442079460958")
    assert (cleo.name, cleo.email, cleo.tags) == ("Cleo", "cleo@example.com", ["new", "beta"])
    async with db.sessionmaker() as session:
        errors = await import_errors(session, import_id)
        assert [(e["row"], e["reason"][:40]) for e in errors] == [
            (5, "'email' must be an email address (An ema"),
            (6, "'plan' must be a list value"),
        ]
        assert errors[0]["raw"] == "Broken,not-an-address,,,,"
        addresses = (
            await session.execute(
                select(ContactAddress.kind, ContactAddress.value).where(
                    ContactAddress.contact_id == cleo.id
                )
            )
        ).all()
        assert sorted(addresses) == [("email", "cleo@example.com"), ("email", "cleo@home.test")]
        audit = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("contact_import%"))
            )
        )
        assert [(a.action, a.target, a.actor_id) for a in audit] == [
            ("contact_import.queued", f"contact_import:{import_id}", by.agent_id)
        ]
        events = await session.scalar(
            select(func.count())
            .select_from(TimelineEvent)
            .where(TimelineEvent.kind.in_(["contact_created", "contact_imported"]))
        )
        assert events == 3  # Cleo created; Ada and Bob updated
        hooks = list(await session.scalars(select(WebhookDelivery)))
        assert sorted(h.payload["data"]["contact"]["id"] for h in hooks) == [cleo.id]
        job = await session.get_one(ContactImport, import_id)
        assert job.content is None and job.finished_at is not None


async def test_the_same_file_again_changes_nothing(db: Database) -> None:
    await seed(db)
    by = await admin(db)
    first = await run_import(db.sessionmaker, None, await start(db, FILE, by))
    before = [(c.id, c.name, c.email, c.phone, c.tags, c.attributes) for c in await contacts(db)]
    again = await run_import(db.sessionmaker, None, await start(db, FILE, by))
    assert first is not None and again is not None
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (0, 0, 4, 2)
    after = [(c.id, c.name, c.email, c.phone, c.tags, c.attributes) for c in await contacts(db)]
    assert after == before


async def test_a_dead_workers_import_is_taken_over_and_finished(db: Database) -> None:
    by = await admin(db)
    total = BATCH * 2 + 17
    text = "email,name\n" + "".join(f"p{i}@example.com,Person {i}\n" for i in range(total))
    import_id = await start(db, text, by, running=True)

    def die(state: dict[str, Any]) -> None:
        raise asyncio.CancelledError  # the process stops after its first batch

    with pytest.raises(asyncio.CancelledError):
        await run_import(db.sessionmaker, None, import_id, claim=False, progress=die)
    runner = ImportRunner(db.sessionmaker, EventBus())
    assert await runner.run_ready() == 0  # its heartbeat is fresh: someone may hold it
    async with unit_of_work(db.sessionmaker) as session:
        job = await session.get_one(ContactImport, import_id)
        assert (job.status, job.processed) == ("running", BATCH)
        await session.execute(
            update(ContactImport).values(
                heartbeat_at=job.heartbeat_at - STALE_AFTER - dt.timedelta(seconds=1)
            )
        )
    assert await runner.run_ready() == 1
    async with db.sessionmaker() as session:
        job = await session.get_one(ContactImport, import_id)
        assert (job.status, job.processed, job.created, job.failed) == ("done", total, total, 0)
        assert await session.scalar(select(func.count()).select_from(Contact)) == total


async def test_the_runner_runs_what_the_api_queues(db: Database) -> None:
    by = await admin(db)
    bus = EventBus()
    runner = ImportRunner(db.sessionmaker, bus)
    bus.subscribe(runner.on_event)
    await runner.start()
    try:
        async with unit_of_work(db.sessionmaker, bus) as session:
            job = await actions.queue_contact_import(
                session, filename="x.csv", content="email\nq@example.com\n", total=1, by=by
            )
            import_id = job.id
        for _ in range(200):
            async with db.sessionmaker() as session:
                if (await session.get_one(ContactImport, import_id)).status == "done":
                    break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the runner never finished the import")
    finally:
        await runner.stop()


async def test_export_then_import_gives_the_same_contacts(db: Database, tmp_path: Any) -> None:
    from omnidesk.bot.migrate import upgrade
    from omnidesk.db import create_engine, sessionmaker

    await seed(db)
    by = await admin(db)
    tricky = (
        "name,email,phone,company,tags,notes,plan\n"
        '"=cmd|\' /C calc\'!A0",eve@example.com,+14155550123,"-Minus, Inc.",x;y,"two\nlines",free\n'
        "Zoë Ünïcode,zoe@example.com; z@alt.test,+33 1 42 68 53 00; +442079460958,@home,,,\n"
    )
    await run_import(db.sessionmaker, None, await start(db, tricky, by))
    exported = b"".join([chunk async for chunk in csv_chunks(db.sessionmaker)])
    text = exported.decode("utf-8-sig")
    assert "'=cmd" in text and "'-Minus" in text and "'@home" in text and "'+14155550123" in text
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    await upgrade(engine)
    empty = Database(str(engine.url), engine, sessionmaker(engine))
    try:
        async with unit_of_work(empty.sessionmaker) as session:
            session.add(
                AttributeDefinition(key="plan", label="Plan", type="list", options=["free", "pro"])
            )
        other = await admin(empty)
        result = await run_import(empty.sessionmaker, None, await start(empty, text, other))
        assert result is not None and result["failed"] == 0

        def shape(rows: list[Contact]) -> list[tuple[Any, ...]]:
            return sorted(
                (c.name, c.email, c.phone, c.company, c.tags, c.notes, json.dumps(c.attributes))
                for c in rows
            )

        assert shape(await contacts(empty)) == shape(await contacts(db))
        again = b"".join([chunk async for chunk in csv_chunks(empty.sessionmaker)])
        assert without_ids_and_times(again) == without_ids_and_times(exported)
    finally:
        await engine.dispose()


def without_ids_and_times(exported: bytes) -> list[str]:
    """The exported lines less their first (id) and last (created_at) cells."""
    lines = exported.decode("utf-8-sig").splitlines()
    return [line.split(",", 1)[-1].rsplit(",", 1)[0] for line in lines]


async def test_export_filters_by_tag_and_text(db: Database) -> None:
    await seed(db)
    by = await admin(db)
    await run_import(db.sessionmaker, None, await start(db, FILE, by))

    async def emails(**filters: str) -> list[str]:
        text = b"".join([c async for c in csv_chunks(db.sessionmaker, **filters)]).decode(
            "utf-8-sig"
        )
        return [line.split(",")[2] for line in text.splitlines()[1:]]

    assert await emails(tag="VIP") == ["ada@example.com"]
    assert await emails(q="NILE") == ["cleo@example.com"]
    assert await emails(q="100%_") == []
