"""The durable inbox: inbound messages are committed under a unique dedupe key before
the platform is acknowledged, then worked off in arrival order per conversation.

This module orchestrates; the rows change through helpdesk actions. One error path: a
payload that cannot be decoded, one its channel marked unreadable, or a router error,
parks the row at once (a transient database error is retried a bounded number of times
first), the timeline says why, and the conversation goes to a person."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.bot.metrics import TURN_SECONDS
from omnidesk.bot.router import ERROR_HANDOFF_TEXT, Router, Turn
from omnidesk.channels import InboundMessage, InboundResult
from omnidesk.db import utcnow
from omnidesk.escalation import Decision, hand_off
from omnidesk.helpdesk import (
    HUMAN_OWNED,
    Author,
    EventBus,
    InboxItem,
    actions,
    emit,
    unit_of_work,
)

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=120)
MAX_ATTEMPTS = 5
IDLE_POLL_SECONDS = 1.0
STOP_GRACE_SECONDS = 10.0


def _observe_turn(received_at: dt.datetime) -> None:
    """How long the customer waited for this turn, for /metrics."""
    TURN_SECONDS.observe(max(0.0, (utcnow() - received_at).total_seconds()))


def order_key(inbound: InboundMessage) -> str:
    return f"{inbound.channel}:{inbound.sender_id}:{inbound.thread_key}"


def inbox_key(inbound: InboundMessage) -> str:
    """The key a redelivery of this message repeats: the platform's id for it, scoped to
    its sender. An id a stranger can choose (an email's Message-ID, a web chat client id)
    must not let one sender suppress another's message by sending first; hashed, so a
    long sender and id never overflow the column."""
    scoped = f"{inbound.sender_id}\x00{inbound.dedupe_key}".encode()
    return f"{inbound.channel}:{hashlib.sha256(scoped).hexdigest()}"


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
        try:
            async with self._sessionmaker() as session, session.begin():
                await actions.accept_inbound(
                    session,
                    channel=inbound.channel,
                    dedupe_key=inbox_key(inbound),
                    order_key=order_key(inbound),
                    fair_key=f"{inbound.channel}:{inbound.sender_id}",
                    payload=inbound.to_dict(),
                )
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
        """Handle the next ready item, if any; returns whether there was one."""
        item = await self._claim()
        if item is None:
            return False
        try:
            inbound = InboundMessage.from_dict(item.payload)
        except Exception as exc:
            # Retrying cannot fix a payload we cannot read: park it at once.
            log.exception("inbox item %s cannot be decoded", item.id)
            await self._park(item, f"undecodable payload: {_describe(exc)}")
            return True
        if inbound.unreadable:
            # The channel kept what it could not read so nothing is lost: park it.
            await self._park(item, f"unreadable {inbound.channel} payload: {inbound.unreadable}")
            return True
        try:
            prepared = await self._router.prepare(inbound)
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                turn = await self._router.handle(session, inbound, prepared)
                await actions.inbound_done(session, item.id)
                if turn is not None:
                    _emit_processed(session, inbound, turn)
        except Exception as exc:
            log.exception("inbox item %s failed", item.id)
            if _transient(exc) and item.attempts < MAX_ATTEMPTS:
                await self._retry(item, exc)
            else:
                await self._park(item, f"router error: {_describe(exc)}")
        else:
            _observe_turn(item.received_at)
        return True

    async def _claim(self) -> InboxItem | None:
        """Take the oldest ready item whose conversation has nothing earlier in flight."""
        async with self._sessionmaker() as session, session.begin():
            return await actions.claim_inbound(session, lease=LEASE)

    async def _retry(self, item: InboxItem, exc: Exception) -> None:
        delay = dt.timedelta(seconds=min(60, 2**item.attempts))
        async with self._sessionmaker() as session, session.begin():
            await actions.retry_inbound(session, item.id, _describe(exc), delay)

    async def _park(self, item: InboxItem, reason: str) -> None:
        """Fail the item for good so it blocks nothing, then, in a fresh transaction,
        tell the conversation why and give it to a person."""
        async with self._sessionmaker() as session, session.begin():
            await actions.park_inbound(session, item.id, reason)
        try:
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                conversation = await actions.note_failed_inbound(
                    session, item.id, item.payload, reason
                )
                if conversation is None or conversation.state in HUMAN_OWNED:
                    return
                await hand_off(
                    session,
                    conversation,
                    Decision(handoff=True, reason="error"),
                    subject=conversation.last_question or "Message we could not handle",
                )
                # The reply's delivery also clears the web chat's typing indicator.
                await actions.reply(
                    session,
                    conversation,
                    Author.SYSTEM,
                    ERROR_HANDOFF_TEXT,
                    payload={"handoff_reason": "error"},
                )
        except Exception:
            # The row is parked either way; a broken payload must not break the worker.
            log.exception("could not hand inbox item %s to a person", item.id)


def _transient(exc: Exception) -> bool:
    """A database hiccup that a retry may fix: a lost connection, a deadlock or lock
    timeout, or a unique-key race (two workers creating the same contact's identity
    for two threads at once). Anything else is a bug a retry would only repeat."""
    return isinstance(exc, OperationalError | InterfaceError | IntegrityError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


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
