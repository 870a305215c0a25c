"""The inbox: committed before acknowledgement, deduplicated, ordered per conversation,
and a crashed worker's claim expires instead of losing the message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from omnidesk.bot.services import Services
from omnidesk.channels import InboundMessage, InboundResult
from omnidesk.db import utcnow
from omnidesk.helpdesk import InboxItem, InboxState


def inbound(sender: str, key: str, text: str = "hello") -> InboundMessage:
    return InboundMessage(channel="test", sender_id=sender, dedupe_key=key, text=text)


async def test_order_per_conversation_parallel_across(services: Services) -> None:
    inbox = services.inbox
    for msg in (inbound("a", "a1"), inbound("a", "a2"), inbound("b", "b1")):
        assert await inbox.accept(msg) == InboundResult.ACCEPTED
    first = await inbox._claim()
    second = await inbox._claim()
    assert first is not None and second is not None
    # a2 waits while a1 is in flight; b1 goes ahead in parallel.
    assert (first.dedupe_key, second.dedupe_key) == ("test:a1", "test:b1")
    assert await inbox._claim() is None


async def test_expired_claim_is_taken_again(services: Services) -> None:
    inbox = services.inbox
    await inbox.accept(inbound("a", "a1"))
    claimed = await inbox._claim()
    assert claimed is not None and claimed.attempts == 1
    assert await inbox._claim() is None
    async with services.sessionmaker() as session, session.begin():
        await session.execute(
            update(InboxItem).values(lease_until=utcnow() - dt.timedelta(seconds=1))
        )
    again = await inbox._claim()
    assert again is not None and again.id == claimed.id and again.attempts == 2


async def test_failure_is_retried_then_parked(services: Services, monkeypatch: object) -> None:
    inbox = services.inbox

    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("router bug")

    services.router.handle = explode  # type: ignore[method-assign]
    await inbox.accept(inbound("a", "a1", "how do I reset my password?"))
    for _ in range(5):
        async with services.sessionmaker() as session, session.begin():
            await session.execute(update(InboxItem).values(lease_until=None))
        assert await inbox.process_one()
    async with services.sessionmaker() as session:
        item = await session.scalar(select(InboxItem))
    assert item is not None and item.state == InboxState.FAILED
    assert item.error == "RuntimeError: router bug" and item.attempts == 5
    assert not await inbox.process_one()
