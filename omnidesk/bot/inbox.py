"""The durable inbox: inbound messages are committed under a unique dedupe key before
the platform is acknowledged, then worked off in arrival order per conversation."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from omnidesk.bot.router import Router, Turn
from omnidesk.channels import InboundMessage, InboundResult
from omnidesk.db import utcnow
from omnidesk.helpdesk import EventBus, InboxItem, InboxState, emit, unit_of_work

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=120)
MAX_ATTEMPTS = 5
IDLE_POLL_SECONDS = 1.0
STOP_GRACE_SECONDS = 10.0


def order_key(inbound: InboundMessage) -> str:
    return f"{inbound.channel}:{inbound.sender_id}:{inbound.thread_key}"


class Inbox:
    """Accepts inbound messages and runs the workers that hand them to the router."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        router: Router,
        workers: int = 4,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._router = router
        self._workers = workers
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def accept(self, inbound: InboundMessage) -> InboundResult:
        """Commit the message to the inbox; a second delivery of the same key is a no-op."""
        item = InboxItem(
            channel=inbound.channel,
            dedupe_key=f"{inbound.channel}:{inbound.dedupe_key}"[:300],
            order_key=order_key(inbound)[:300],
            payload=inbound.to_dict(),
        )
        try:
            async with self._sessionmaker() as session, session.begin():
                session.add(item)
        except IntegrityError:
            return InboundResult.DUPLICATE
        self._wake.set()
        return InboundResult.ACCEPTED

    def wake(self) -> None:
        """Something may be ready (another process accepted it): look now."""
        self._wake.set()

    # -- workers ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._run(), name=f"inbox-worker-{n}") for n in range(self._workers)
        ]

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Let workers finish the item in hand, then cancel what is left: a worker
        cancelled mid-transaction would leave SQLite locked for its busy timeout."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks = []

    async def _run(self) -> None:
        while not self._stopping:
            try:
                worked = await self.process_one()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("inbox worker error")
                worked = False
            if not worked:
                self._wake.clear()
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                # cancellation that lands as the event fires.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_POLL_SECONDS):
                        await self._wake.wait()

    async def drain(self) -> int:
        """Process until nothing is ready (for the CLI and tests); returns how many."""
        count = 0
        while await self.process_one():
            count += 1
        return count

    async def process_one(self) -> bool:
        item = await self._claim()
        if item is None:
            return False
        inbound = InboundMessage.from_dict(item.payload)
        try:
            prepared = await self._router.prepare(inbound)
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                turn = await self._router.handle(session, inbound, prepared)
                await session.execute(
                    update(InboxItem)
                    .where(InboxItem.id == item.id)
                    .values(state=InboxState.DONE, processed_at=utcnow(), lease_until=None)
                )
                _emit_processed(session, inbound, turn)
        except Exception as exc:
            log.exception("inbox item %s failed", item.id)
            await self._failed(item, exc)
        return True

    async def _claim(self) -> InboxItem | None:
        """Take the oldest ready item whose conversation has nothing earlier in flight."""
        now = utcnow()
        earlier = aliased(InboxItem)
        async with self._sessionmaker() as session, session.begin():
            blocked = exists().where(
                earlier.order_key == InboxItem.order_key,
                earlier.id < InboxItem.id,
                earlier.state.in_([InboxState.PENDING, InboxState.PROCESSING]),
            )
            query = (
                select(InboxItem)
                .where(
                    or_(
                        and_(
                            InboxItem.state == InboxState.PENDING,
                            or_(InboxItem.lease_until.is_(None), InboxItem.lease_until <= now),
                        ),
                        and_(
                            InboxItem.state == InboxState.PROCESSING,
                            InboxItem.lease_until <= now,
                        ),
                    ),
                    ~blocked,
                )
                .order_by(InboxItem.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            item = await session.scalar(query)
            if item is None:
                return None
            item.state = InboxState.PROCESSING
            item.attempts += 1
            item.lease_until = now + LEASE
        return item

    async def _failed(self, item: InboxItem, exc: Exception) -> None:
        gave_up = item.attempts >= MAX_ATTEMPTS
        backoff = dt.timedelta(seconds=min(60, 2**item.attempts))
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                update(InboxItem)
                .where(InboxItem.id == item.id)
                .values(
                    state=InboxState.FAILED if gave_up else InboxState.PENDING,
                    error=f"{type(exc).__name__}: {exc}"[:2000],
                    lease_until=None if gave_up else utcnow() + backoff,
                )
            )


def _emit_processed(session: AsyncSession, inbound: InboundMessage, turn: Turn) -> None:
    emit(
        session,
        "processed",
        channel=inbound.channel,
        sender_id=inbound.sender_id,
        conversation_id=turn.conversation.id,
        message_id=turn.recorded.id,
        replied=bool(turn.replies),
    )
