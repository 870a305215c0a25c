"""The event bus across processes on PostgreSQL: ``LISTEN/NOTIFY`` on one dedicated
asyncpg connection per process, reconnected with capped back-off and jitter.

A process delivers its own events to its subscribers directly and sends them to the others
as a small JSON payload tagged with its process id; the copy that comes back to it is
skipped, so every subscriber gets each event once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

import asyncpg
from sqlalchemy.engine import make_url

from omnidesk.helpdesk.events import Event, EventBus, parse_wire, wire_payload

log = logging.getLogger(__name__)

CHANNEL = "omnidesk_events"
APPLICATION_NAME = "omnidesk-bus"  # how the connection shows in pg_stat_activity
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
HEALTH_INTERVAL_S = 30.0
SEND_TIMEOUT_S = 5.0
QUEUE_MAX = 10_000
FIRST_CONNECT_WAIT_S = 10.0


def asyncpg_dsn(database_url: str) -> str:
    """The plain ``postgresql://`` DSN asyncpg takes, from a SQLAlchemy URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def backoff(attempt: int) -> float:
    """Capped exponential back-off with full jitter, in seconds."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_MIN_S * 2 ** max(0, attempt - 1))
    return random.uniform(BACKOFF_MIN_S / 2, ceiling)


class PgEventBus(EventBus):
    """``EventBus`` whose events also reach every other process on the same database."""

    def __init__(self, database_url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self._dsn = asyncpg_dsn(database_url)
        self._channel = channel
        self._conn: asyncpg.Connection | None = None
        self._send_lock = asyncio.Lock()
        self._inbound: asyncio.Queue[Event] = asyncio.Queue(QUEUE_MAX)
        self._connected = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.connects = 0

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def start(self) -> None:
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._supervise(), name="pgbus-listen"),
            asyncio.create_task(self._dispatch(), name="pgbus-dispatch"),
        ]
        # Events published before the first connection would reach no other process.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FIRST_CONNECT_WAIT_S):
                await self._connected.wait()

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._close()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def _transmit(self, event: Event) -> None:
        try:
            payload = wire_payload(event, self.process_id)
        except ValueError:
            log.error("event %s is too large for NOTIFY; not sent", event.kind)
            return
        conn = self._conn
        if conn is None:
            log.warning("event bus disconnected; %s reached this process only", event.kind)
            return
        try:
            async with self._send_lock, asyncio.timeout(SEND_TIMEOUT_S):
                await conn.execute("SELECT pg_notify($1, $2)", self._channel, payload)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("event %s not sent to other processes: %s", event.kind, exc)

    # -- the listening side ----------------------------------------------------------------

    async def _supervise(self) -> None:
        """Keep one listening connection; after a reconnect, subscribers get ``resync``
        because whatever was sent in between is lost."""
        attempt = 0
        while not self._stopping:
            try:
                lost = await self._connect()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                attempt += 1
                delay = backoff(attempt)
                log.warning("event bus connect failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                continue
            attempt = 0
            self.connects += 1
            if self.connects > 1:
                await self.deliver(Event("resync"))
            await self._watch(lost)
            await self._close()
            log.warning("event bus connection lost; reconnecting")

    async def _connect(self) -> asyncio.Event:
        conn = await asyncpg.connect(
            self._dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME}
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            await conn.add_listener(self._channel, self._on_notify)
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)
            raise
        self._conn = conn
        self._connected.set()
        return lost

    async def _watch(self, lost: asyncio.Event) -> None:
        """Return once the connection is gone: closed, or silent to a health probe."""
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HEALTH_INTERVAL_S):
                    await lost.wait()
            conn = self._conn
            if lost.is_set() or conn is None or conn.is_closed():
                return
            try:
                async with self._send_lock, asyncio.timeout(SEND_TIMEOUT_S):
                    await conn.execute("SELECT 1")
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                return

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        self._connected.clear()
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    def _on_notify(self, _conn: asyncpg.Connection, _pid: int, _channel: str, payload: str) -> None:
        parsed = parse_wire(payload)
        if parsed is None:
            log.warning("ignored a malformed event payload")
            return
        origin, event = parsed
        if origin == self.process_id:
            return  # delivered locally when it was published
        try:
            self._inbound.put_nowait(event)
        except asyncio.QueueFull:
            log.error("event bus queue full; dropped %s", event.kind)

    async def _dispatch(self) -> None:
        # Subscribers run here, one event at a time, never inside asyncpg's callback.
        while True:
            event = await self._inbound.get()
            await self.deliver(event)
