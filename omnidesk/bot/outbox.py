"""The outbox dispatcher: delivers replies through their channel with retries and
capped back-off; a permanent failure is marked on the timeline, never dropped.

It orchestrates: claiming and marking rows are helpdesk actions (``actions.delivery``),
and the typed ``OutboundMessage`` is rebuilt from the row with ``from_dict``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.channels import Channel, DeliveryReceipt, OutboundMessage
from omnidesk.helpdesk import EventBus, OutboxItem, actions, unit_of_work

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
        bus: EventBus | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._channels = channels
        self._bus = bus
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
        async with self._sessionmaker() as session, session.begin():
            return await actions.claim_deliveries(session, limit=BATCH, lease=SEND_LEASE)

    async def _deliver(self, item: OutboxItem) -> None:
        channel = self._channels.get(item.channel)
        if channel is None:
            receipt = DeliveryReceipt(ok=False, error=f"channel {item.channel} is off")
        else:
            try:
                message = OutboundMessage.from_dict(item.payload)
            except Exception as exc:
                # A row we cannot read will never send: fail it for good, visibly.
                log.exception("outbox item %s cannot be decoded", item.id)
                receipt = DeliveryReceipt(
                    ok=False, error=f"undecodable payload: {type(exc).__name__}", permanent=True
                )
            else:
                receipt = await self._send(channel, message)
        await self._record(item, receipt)

    async def _send(self, channel: Channel, message: OutboundMessage) -> DeliveryReceipt:
        try:
            return await channel.send(message)
        except Exception as exc:
            log.exception("send failed on %s", channel.name)
            return DeliveryReceipt(ok=False, error=f"{type(exc).__name__}: {exc}")

    async def _record(self, item: OutboxItem, receipt: DeliveryReceipt) -> None:
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            if receipt.ok:
                await actions.mark_sent(session, item.id, receipt.external_id)
                return
            error = receipt.error or "unknown error"
            if receipt.permanent or item.attempts >= MAX_ATTEMPTS:
                await actions.mark_failed(session, item.id, error)
                log.warning(
                    "delivery of message %s on %s failed for good: %s",
                    item.message_id,
                    item.channel,
                    error,
                )
                return
            delay = (
                receipt.retry_after if receipt.retry_after is not None else backoff(item.attempts)
            )
            await actions.retry_delivery(session, item.id, error, dt.timedelta(seconds=delay))
