"""The event bus every process listens on, and the unit of work that publishes events
only after commit.

An event says what changed, by kind and ids (``message`` with ``message_id``,
``conversation`` with ``conversation_id``...); a subscriber reads the rows it needs. Ids
and short scalars only: the same event crosses processes through PostgreSQL
``LISTEN/NOTIFY`` (``omnidesk.helpdesk.pgbus``), whose payloads are small. On SQLite
there is one process, and the bus is in-process.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

PENDING_KEY = "omnidesk.pending_events"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; keep well below it.
MAX_WIRE_BYTES = 7000
MAX_WIRE_STR = 300


@dataclass(frozen=True, slots=True)
class Event:
    """Something that changed, for sockets and workers: ``message``, ``outbox``,
    ``conversation``, ``processed``, ``notification``, and the ephemeral ``typing`` and
    ``presence`` (no rows behind them). ``remote`` is true when another process
    published it."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    remote: bool = False


Subscriber = Callable[[Event], Awaitable[None]]


class EventBus:
    """Fan-out of committed changes to subscribers in this process. Subclasses carry
    events to the other processes too; each subscriber gets every event exactly once."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        # Tags what this process sends, so it can skip its own events coming back.
        self.process_id = uuid.uuid4().hex[:12]

    def subscribe(self, callback: Subscriber) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    async def start(self) -> None:
        """Connect to the other processes (nothing to do in-process)."""

    async def stop(self) -> None:
        """Disconnect from the other processes."""

    async def publish(self, event: Event) -> None:
        """Deliver to this process's subscribers, then to the other processes."""
        await self.deliver(event)
        await self._transmit(event)

    async def deliver(self, event: Event) -> None:
        """Hand ``event`` to this process's subscribers, in order of subscription."""
        for callback in list(self._subscribers):
            try:
                await callback(event)
            except Exception:
                # A broken subscriber (a closed socket, say) must not undo a commit.
                log.exception("event subscriber failed for %s", event.kind)

    async def _transmit(self, event: Event) -> None:
        """Send ``event`` to the other processes; in-process there are none."""


def wire_payload(event: Event, origin: str) -> str:
    """The event as a small JSON text for other processes: scalar fields only (longer
    strings and nested values dropped), ids alone if it is still too large."""
    data = {k: v for k, v in event.data.items() if _small(v)}
    text = _dumps(origin, event.kind, data)
    if len(text.encode()) > MAX_WIRE_BYTES:
        ids = {k: v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)}
        text = _dumps(origin, event.kind, ids)
    if len(text.encode()) > MAX_WIRE_BYTES:
        raise ValueError(f"event {event.kind[:50]!r} is too large to send")
    return text


def parse_wire(text: str) -> tuple[str, Event] | None:
    """``(origin, event)`` from ``wire_payload``'s text; None for anything else."""
    try:
        raw = json.loads(text)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    origin, kind, data = raw.get("o"), raw.get("k"), raw.get("d")
    if not isinstance(origin, str) or not isinstance(kind, str) or not isinstance(data, dict):
        return None
    return origin, Event(kind, data, remote=True)


def _small(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and len(value) <= MAX_WIRE_STR


def _dumps(origin: str, kind: str, data: dict[str, Any]) -> str:
    return json.dumps({"o": origin, "k": kind, "d": data}, separators=(",", ":"))


def create_bus(database_url: str) -> EventBus:
    """The bus for this database: LISTEN/NOTIFY on PostgreSQL, in-process otherwise."""
    if database_url.startswith("postgresql"):
        from omnidesk.helpdesk.pgbus import PgEventBus

        return PgEventBus(database_url)
    return EventBus()


def emit(session: AsyncSession, kind: str, **data: Any) -> None:
    """Queue an event on the session; ``unit_of_work`` publishes it after commit."""
    session.info.setdefault(PENDING_KEY, []).append(Event(kind, data))


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus | None = None
) -> AsyncIterator[AsyncSession]:
    """One transaction: commit on success, roll back on error, then publish its events."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        events: list[Event] = session.info.pop(PENDING_KEY, [])
    if bus is not None:
        for event in events:
            await bus.publish(event)
