"""The outbox dispatcher: delivers replies through their channel with retries and
capped back-off; a permanent failure is marked on the timeline, never dropped."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Mapping

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from omnidesk.channels import Channel, DeliveryReceipt, OutboundMessage
from omnidesk.db import utcnow
from omnidesk.helpdesk import Conversation, DeliveryState, Message, OutboxItem, actions

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SEND_LEASE = dt.timedelta(seconds=60)
BATCH = 50
IDLE_POLL_SECONDS = 1.0


def backoff(attempts: int) -> float:
    """Capped exponential back-off with jitter, in seconds."""
    base: float = min(300.0, 2.0 ** max(0, attempts - 1))
    return base * random.uniform(0.5, 1.0)


class OutboxDispatcher:
    """Sends what the router and agents wrote to the outbox."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
    ) -> None:
        self._sessionmaker = sessionmaker
        self._channels = channels
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self, grace: float = 10.0) -> None:
        """Finish the batch in hand (a send cut off mid-way is retried after its lease
        anyway), then cancel."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait([self._task], timeout=grace)
        if not done:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                sent = await self.dispatch_ready()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox dispatcher error")
                sent = 0
            if not sent:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                # cancellation that lands as the event fires.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_POLL_SECONDS):
                        await self._wake.wait()

    async def dispatch_ready(self) -> int:
        """Send every item that is due; returns how many were attempted."""
        items = await self._claim()
        for item in items:
            await self._deliver(item)
        return len(items)

    async def _claim(self) -> list[OutboxItem]:
        """Lease due items, oldest first, skipping a conversation with an earlier one
        still pending so replies keep their order."""
        now = utcnow()
        earlier = aliased(OutboxItem)
        async with self._sessionmaker() as session, session.begin():
            blocked = exists().where(
                and_(
                    earlier.conversation_id == OutboxItem.conversation_id,
                    earlier.id < OutboxItem.id,
                    earlier.state == DeliveryState.PENDING,
                )
            )
            items = list(
                (
                    await session.scalars(
                        select(OutboxItem)
                        .where(
                            OutboxItem.state == DeliveryState.PENDING,
                            OutboxItem.next_attempt_at <= now,
                            ~blocked,
                        )
                        .order_by(OutboxItem.id)
                        .limit(BATCH)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
            )
            for item in items:
                item.attempts += 1
                # Leased: a crash mid-send means a retry after the lease, not a loss.
                item.next_attempt_at = now + SEND_LEASE
        return items

    async def _deliver(self, item: OutboxItem) -> None:
        channel = self._channels.get(item.channel)
        if channel is None:
            receipt = DeliveryReceipt(ok=False, error=f"channel {item.channel} is off")
        else:
            try:
                receipt = await channel.send(OutboundMessage.from_dict(item.payload))
            except Exception as exc:
                log.exception("send failed on %s", item.channel)
                receipt = DeliveryReceipt(ok=False, error=f"{type(exc).__name__}: {exc}")
        await self._record(item, receipt)

    async def _record(self, item: OutboxItem, receipt: DeliveryReceipt) -> None:
        now = utcnow()
        async with self._sessionmaker() as session, session.begin():
            if receipt.ok:
                await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id == item.id)
                    .values(state=DeliveryState.SENT, sent_at=now, last_error=None)
                )
                await session.execute(
                    update(Message)
                    .where(Message.id == item.message_id)
                    .values(delivery=DeliveryState.SENT, external_id=receipt.external_id)
                )
                return
            give_up = receipt.permanent or item.attempts >= MAX_ATTEMPTS
            delay = (
                receipt.retry_after if receipt.retry_after is not None else backoff(item.attempts)
            )
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item.id)
                .values(
                    state=DeliveryState.FAILED if give_up else DeliveryState.PENDING,
                    last_error=(receipt.error or "unknown error")[:2000],
                    next_attempt_at=now + dt.timedelta(seconds=delay),
                )
            )
            if give_up:
                await session.execute(
                    update(Message)
                    .where(Message.id == item.message_id)
                    .values(delivery=DeliveryState.FAILED)
                )
                conversation = await session.get_one(Conversation, item.conversation_id)
                actions.add_timeline(
                    session,
                    conversation.contact_id,
                    "delivery_failed",
                    conversation.id,
                    message_id=item.message_id,
                    channel=item.channel,
                    error=(receipt.error or "")[:500],
                    attempts=item.attempts,
                )
                log.warning(
                    "delivery of message %s on %s failed for good: %s",
                    item.message_id,
                    item.channel,
                    receipt.error,
                )
