"""In-process event bus and the unit of work that publishes events only after commit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

PENDING_KEY = "omnidesk.pending_events"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that changed, for sockets and workers: ``message``, ``outbox``,
    ``conversation``, ``processed``."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[Event], Awaitable[None]]


class EventBus:
    """Fan-out of committed changes to subscribers in this process."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> None:
        self._subscribers.append(callback)

    async def publish(self, event: Event) -> None:
        for callback in list(self._subscribers):
            try:
                await callback(event)
            except Exception:
                # A broken subscriber (a closed socket, say) must not undo a commit.
                log.exception("event subscriber failed for %s", event.kind)


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
