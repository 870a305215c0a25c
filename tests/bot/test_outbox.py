"""Delivery through the outbox: retries with back-off, Retry-After, order per
conversation, and a permanent failure that stays visible on the timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from aiohttp import web
from sqlalchemy import select, update

from omnidesk.bot.outbox import OutboxDispatcher
from omnidesk.channels import DeliveryReceipt, OutboundMessage
from omnidesk.db import utcnow
from omnidesk.helpdesk import (
    Author,
    DeliveryState,
    Message,
    OutboxItem,
    TimelineEvent,
    actions,
    unit_of_work,
)
from tests.conftest import Database


class FlakyChannel:
    name = "flaky"

    def __init__(self, receipts: list[DeliveryReceipt]) -> None:
        self.receipts = receipts
        self.sent: list[OutboundMessage] = []

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: OutboundMessage) -> DeliveryReceipt:
        self.sent.append(message)
        return self.receipts.pop(0) if self.receipts else DeliveryReceipt(ok=True, external_id="x")


async def _queue(db: Database, *texts: str) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        identity = await actions.resolve_identity(session, "flaky", "u1")
        conversation = await actions.current_conversation(session, identity)
        for text in texts:
            await actions.reply(session, conversation, Author.BOT, text)


async def _make_due(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxItem).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1))
        )


async def test_retry_after_then_success_keeps_order(db: Database) -> None:
    channel = FlakyChannel([DeliveryReceipt(ok=False, error="429", retry_after=30)])
    dispatcher = OutboxDispatcher(db.sessionmaker, {"flaky": channel})
    await _queue(db, "first", "second")
    assert await dispatcher.dispatch_ready() == 1  # "second" waits behind "first"
    async with db.sessionmaker() as session:
        first = await session.scalar(select(OutboxItem).order_by(OutboxItem.id))
        assert first is not None and first.state == DeliveryState.PENDING
        assert first.last_error == "429"
        wait = (first.next_attempt_at - utcnow()).total_seconds()
        assert 25 < wait <= 30
    assert await dispatcher.dispatch_ready() == 0  # not due yet
    await _make_due(db)
    await dispatcher.dispatch_ready()
    await dispatcher.dispatch_ready()
    assert [m.text for m in channel.sent] == ["first", "first", "second"]
    async with db.sessionmaker() as session:
        states = (await session.scalars(select(OutboxItem.state))).all()
        assert states == [DeliveryState.SENT, DeliveryState.SENT]
        deliveries = (await session.scalars(select(Message.delivery))).all()
        assert deliveries == [DeliveryState.SENT, DeliveryState.SENT]


async def test_permanent_failure_is_marked_on_the_timeline(db: Database) -> None:
    channel = FlakyChannel([DeliveryReceipt(ok=False, error="chat not found", permanent=True)])
    dispatcher = OutboxDispatcher(db.sessionmaker, {"flaky": channel})
    await _queue(db, "hello")
    await dispatcher.dispatch_ready()
    async with db.sessionmaker() as session:
        item = await session.scalar(select(OutboxItem))
        assert item is not None and item.state == DeliveryState.FAILED
        message = await session.scalar(select(Message))
        assert message is not None and message.delivery == DeliveryState.FAILED
        event = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "delivery_failed")
        )
        assert event is not None and event.data["error"] == "chat not found"


async def test_channel_exception_and_missing_channel_are_retried(db: Database) -> None:
    class Broken(FlakyChannel):
        async def send(self, message: OutboundMessage) -> DeliveryReceipt:
            raise ConnectionError("peer went away")

    dispatcher = OutboxDispatcher(db.sessionmaker, {"flaky": Broken([])})
    await _queue(db, "hello")
    await dispatcher.dispatch_ready()
    async with db.sessionmaker() as session:
        item = await session.scalar(select(OutboxItem))
        assert item is not None and item.state == DeliveryState.PENDING
        assert item.attempts == 1 and "peer went away" in (item.last_error or "")
    off = OutboxDispatcher(db.sessionmaker, {})
    await _make_due(db)
    await off.dispatch_ready()
    async with db.sessionmaker() as session:
        item = await session.scalar(select(OutboxItem))
        assert item is not None and item.state == DeliveryState.PENDING
        assert "is off" in (item.last_error or "")
