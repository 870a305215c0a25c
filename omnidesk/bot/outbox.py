"""The outbox dispatcher: delivers replies through their channel, and webhook deliveries
to their endpoints (``bot/webhooks.py``), with retries and capped back-off; a permanent
failure is marked (on the timeline for a reply, on the delivery row for a webhook),
never dropped.

It orchestrates: claiming and marking rows are helpdesk actions (``actions.delivery``,
``actions.webhooks``), and the typed ``OutboundMessage`` is rebuilt from the row with
``from_dict``. Replies and webhooks run as two lanes of the same loop, so an endpoint
that hangs never holds up a customer's reply."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.bot.webhooks import Outcome, WebhookSender
from omnidesk.channels import Channel, DeliveryReceipt, OutboundMessage
from omnidesk.helpdesk import EventBus, OutboxItem, actions, unit_of_work
from omnidesk.helpdesk.models import Webhook, WebhookDelivery

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
    """Sends what the router and agents wrote to the outbox, and the webhook deliveries
    the actions queued."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        bus: EventBus | None = None,
        webhooks: WebhookSender | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._channels = channels
        self._bus = bus
        self._webhooks = webhooks or WebhookSender()
        self._lanes: dict[str, Callable[[], Awaitable[int]]] = {
            "outbox-dispatcher": self.dispatch_replies,
            "webhook-dispatcher": self.dispatch_webhooks,
        }
        self._wakes = {name: asyncio.Event() for name in self._lanes}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def wake(self) -> None:
        for event in self._wakes.values():
            event.set()

    async def start(self) -> None:
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._run(name, dispatch), name=name)
            for name, dispatch in self._lanes.items()
        ]

    async def stop(self, grace: float = 10.0) -> None:
        """Finish the batch in hand (a send cut off mid-way is retried after its lease
        anyway), then cancel."""
        if self._tasks:
            self._stopping = True
            self.wake()
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._tasks = []
        await self._webhooks.close()

    async def _run(self, name: str, dispatch: Callable[[], Awaitable[int]]) -> None:
        wake = self._wakes[name]
        while not self._stopping:
            wake.clear()
            try:
                sent = await dispatch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s error", name)
                sent = 0
            if not sent:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                # cancellation that lands as the event fires.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_POLL_SECONDS):
                        await wake.wait()

    async def dispatch_ready(self) -> int:
        """Send every reply and webhook delivery that is due; returns how many were
        attempted."""
        return await self.dispatch_replies() + await self.dispatch_webhooks()

    async def dispatch_replies(self) -> int:
        items = await self._claim()
        for item in items:
            await self._deliver(item)
        return len(items)

    async def dispatch_webhooks(self) -> int:
        """Send the due webhook deliveries of one batch, all at once (each endpoint
        answers at its own pace, within the sender's timeout)."""
        async with self._sessionmaker() as session, session.begin():
            claimed = await actions.claim_webhook_deliveries(session, limit=BATCH, lease=SEND_LEASE)
        await asyncio.gather(*(self._post(delivery, hook) for delivery, hook in claimed))
        return len(claimed)

    async def _post(self, delivery: WebhookDelivery, hook: Webhook) -> None:
        try:
            outcome = await self._webhooks.send(hook.url, hook.secret, delivery.payload)
        except Exception as exc:
            log.exception("webhook delivery %s could not be sent", delivery.id)
            outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}")
        retry_in = None
        if not outcome.ok and not outcome.permanent and delivery.attempts < MAX_ATTEMPTS:
            wait = outcome.retry_after
            retry_in = dt.timedelta(seconds=backoff(delivery.attempts) if wait is None else wait)
        if not outcome.ok and retry_in is None:
            log.warning(
                "webhook %s delivery %s (%s) failed for good: %s",
                hook.id,
                delivery.id,
                delivery.event,
                outcome.error,
            )
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            await actions.webhook_delivered(
                session,
                delivery.id,
                status=outcome.status,
                error=None if outcome.ok else outcome.error or "unknown error",
                retry_in=retry_in,
            )

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
