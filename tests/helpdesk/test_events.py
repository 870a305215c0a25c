"""The event bus: in-process on SQLite, LISTEN/NOTIFY between processes on PostgreSQL
(two buses on one database stand for two processes), each event delivered once."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from omnidesk.helpdesk import Event, EventBus, create_bus, emit, unit_of_work
from omnidesk.helpdesk.events import MAX_WIRE_BYTES, parse_wire, wire_payload
from omnidesk.helpdesk.pgbus import APPLICATION_NAME, PgEventBus, asyncpg_dsn, backoff
from tests.conftest import PG_ENV, Database


class Recorder:
    """A subscriber that keeps what it gets and lets a test wait for a kind."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._arrived = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        async with self._arrived:
            self.events.append(event)
            self._arrived.notify_all()

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 10.0) -> list[Event]:
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.of(kind)) >= count)
        return self.of(kind)

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]


async def test_in_process_bus_delivers_once_and_survives_a_broken_subscriber() -> None:
    bus = EventBus()
    seen = Recorder()

    async def broken(event: Event) -> None:
        raise RuntimeError("a closed socket")

    bus.subscribe(broken)
    bus.subscribe(seen)
    await bus.publish(Event("conversation", {"conversation_id": 1}))
    assert [(e.kind, e.data, e.remote) for e in seen.events] == [
        ("conversation", {"conversation_id": 1}, False)
    ]
    bus.unsubscribe(seen)
    await bus.publish(Event("conversation", {"conversation_id": 2}))
    assert len(seen.events) == 1


async def test_events_go_out_after_commit_and_never_after_rollback(db: Database) -> None:
    bus = create_bus(db.url)
    await bus.start()
    seen = Recorder()
    bus.subscribe(seen)
    try:
        async with unit_of_work(db.sessionmaker, bus) as session:
            emit(session, "outbox", outbox_id=7)
            assert seen.events == []  # not before the commit
        assert [e.data for e in seen.events] == [{"outbox_id": 7}]
        with pytest.raises(RuntimeError):
            async with unit_of_work(db.sessionmaker, bus) as session:
                emit(session, "outbox", outbox_id=8)
                raise RuntimeError("rolled back")
        assert len(seen.events) == 1
    finally:
        await bus.stop()


def test_the_wire_carries_ids_and_short_scalars_and_never_passes_the_notify_limit() -> None:
    event = Event(
        "message",
        {
            "message_id": 5,
            "conversation_id": 9,
            "private": True,
            "channel": "webchat",
            "message": {"text": "nested values stay home"},
            "text": "x" * 5000,
        },
    )
    origin, back = parse_wire(wire_payload(event, "proc-a")) or ("", Event(""))
    assert origin == "proc-a" and back.remote
    expected = {"message_id": 5, "conversation_id": 9, "private": True, "channel": "webchat"}
    assert back.data == expected

    wide = Event("conversation", {f"f{n}": "y" * 290 for n in range(60)} | {"conversation_id": 3})
    text = wire_payload(wide, "proc-a")
    assert len(text.encode()) <= MAX_WIRE_BYTES
    assert (parse_wire(text) or ("", Event("")))[1].data == {"conversation_id": 3}

    too_many_ids = Event("x", {f"id{n}": n for n in range(2000)})
    with pytest.raises(ValueError, match="too large"):
        wire_payload(too_many_ids, "proc-a")


@pytest.mark.parametrize("text", ["", "[]", "{", '{"o": 1, "k": "x", "d": {}}', '{"o": "a"}'])
def test_a_malformed_payload_is_no_event(text: str) -> None:
    assert parse_wire(text) is None


def test_backoff_is_capped_and_jittered() -> None:
    delays = [backoff(n) for n in range(1, 40)]
    assert all(0 < d <= 30.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 1


def test_asyncpg_dsn_from_the_sqlalchemy_url() -> None:
    dsn = asyncpg_dsn("postgresql+asyncpg://u:p%40ss@db.example:5433/omni?ssl=require")
    assert dsn == "postgresql://u:p%40ss@db.example:5433/omni?ssl=require"


# -- two processes on PostgreSQL -------------------------------------------------------------

pg_only = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")


@pytest.fixture
async def two_buses() -> AsyncIterator[tuple[PgEventBus, PgEventBus]]:
    url = os.environ[PG_ENV]
    first, second = PgEventBus(url), PgEventBus(url)
    await first.start()
    await second.start()
    assert first.connected and second.connected
    try:
        yield first, second
    finally:
        await first.stop()
        await second.stop()


@pg_only
async def test_two_processes_see_each_others_events_once(
    two_buses: tuple[PgEventBus, PgEventBus],
) -> None:
    first, second = two_buses
    assert isinstance(create_bus(os.environ[PG_ENV]), PgEventBus)
    on_first, on_second = Recorder(), Recorder()
    first.subscribe(on_first)
    second.subscribe(on_second)

    await first.publish(Event("message", {"message_id": 1, "conversation_id": 2}))
    await second.publish(Event("typing", {"conversation_id": 2, "typing": True}))
    got = await on_second.wait_for("message")
    assert got[0].data == {"message_id": 1, "conversation_id": 2} and got[0].remote
    got = await on_first.wait_for("typing")
    assert got[0].remote and got[0].data["typing"] is True

    # A marker sent last proves nothing else is still on its way.
    await first.publish(Event("marker"))
    await second.publish(Event("marker"))
    await on_first.wait_for("marker", 2)
    await on_second.wait_for("marker", 2)
    assert [e.remote for e in on_first.of("message")] == [False]
    assert [e.remote for e in on_second.of("message")] == [True]
    assert [e.remote for e in on_first.of("typing")] == [True]
    assert [e.remote for e in on_second.of("typing")] == [False]


@pg_only
async def test_a_lost_connection_comes_back_and_says_resync(
    two_buses: tuple[PgEventBus, PgEventBus],
) -> None:
    first, second = two_buses
    on_second = Recorder()
    second.subscribe(on_second)
    conn = await asyncpg.connect(asyncpg_dsn(os.environ[PG_ENV]))
    try:
        # Both buses of this database lose their connection.
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
    finally:
        await conn.close()
    await on_second.wait_for("resync", timeout=30)
    assert second.connects >= 2
    async with asyncio.timeout(30):
        while not first.connected or first.connects < 2:
            await asyncio.sleep(0.05)
    await first.publish(Event("outbox", {"outbox_id": 4}))
    got = await on_second.wait_for("outbox")
    assert got[0].data == {"outbox_id": 4}
