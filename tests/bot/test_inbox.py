"""The inbox: committed before acknowledgement, deduplicated, ordered per conversation,
a crashed worker's claim expires instead of losing the message, and a message that
cannot be handled is parked and handed to a person instead of blocking its
conversation."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from omnidesk.bot.inbox import MAX_ATTEMPTS, inbox_key
from omnidesk.bot.services import Services
from omnidesk.channels import InboundMessage, InboundResult
from omnidesk.db import utcnow
from omnidesk.helpdesk import (
    Author,
    ChannelIdentity,
    Conversation,
    ConversationState,
    InboxItem,
    InboxState,
    Message,
    Ticket,
    TimelineEvent,
    actions,
)


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
    expected = (inbox_key(inbound("a", "a1")), inbox_key(inbound("b", "b1")))
    assert (first.dedupe_key, second.dedupe_key) == expected
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


async def _item(services: Services, key: str) -> InboxItem:
    async with services.sessionmaker() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.dedupe_key == key))
    assert item is not None
    return item


async def _handed_to_a_person(services: Services, sender: str) -> list[TimelineEvent]:
    """The sender's conversation is queued for a person with reason "error", and its
    timeline events."""
    async with services.sessionmaker() as session:
        conversation = await session.scalar(
            select(Conversation)
            .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
            .where(ChannelIdentity.external_id == sender)
        )
        assert conversation is not None and conversation.state == ConversationState.QUEUED
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.reason == "error"
        system = await session.scalar(select(Message).where(Message.author == Author.SYSTEM))
        assert system is not None and system.payload["handoff_reason"] == "error"
        events = (
            await session.scalars(
                select(TimelineEvent).where(TimelineEvent.conversation_id == conversation.id)
            )
        ).all()
    escalated = [e for e in events if e.kind == "escalated"]
    assert len(escalated) == 1 and escalated[0].data["reason"] == "error"
    return list(events)


async def test_router_error_parks_at_once_and_hands_over(services: Services) -> None:
    inbox = services.inbox

    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("router bug")

    services.router.handle = explode  # type: ignore[method-assign]
    await inbox.accept(inbound("a", "a1", "how do I reset my password?"))
    await inbox.accept(inbound("a", "a2", "anyone there?"))
    assert await inbox.process_one()
    item = await _item(services, inbox_key(inbound("a", "a1")))
    assert item.state == InboxState.FAILED and item.attempts == 1
    assert item.error == "router error: RuntimeError: router bug"
    events = await _handed_to_a_person(services, "a")
    [failed] = [e for e in events if e.kind == "inbound_failed"]
    assert failed.data["text"] == "how do I reset my password?"
    assert failed.data["inbox_id"] == item.id
    # The parked row blocks nothing: the next message of the conversation goes through,
    # and the bot stays silent because a person owns the conversation now.
    del services.router.handle
    assert await inbox.process_one()
    assert (await _item(services, inbox_key(inbound("a", "a2")))).state == InboxState.DONE
    assert not await inbox.process_one()


async def test_undecodable_payload_parks_at_once(services: Services) -> None:
    async with services.sessionmaker() as session, session.begin():
        session.add_all(
            [
                InboxItem(
                    channel="test",
                    dedupe_key="test:bad",
                    order_key="test:b:",
                    payload={"channel": "test", "sender_id": "b", "text": "help", "bogus": 1},
                ),
                # Not even a sender to tell: parked, nobody to hand over.
                InboxItem(channel="test", dedupe_key="test:worse", order_key="?", payload={}),
            ]
        )
    assert await services.inbox.drain() == 2
    item = await _item(services, "test:bad")
    assert item.state == InboxState.FAILED and item.attempts == 1
    assert (item.error or "").startswith("undecodable payload: ")
    events = await _handed_to_a_person(services, "b")
    assert [e.data["text"] for e in events if e.kind == "inbound_failed"] == ["help"]
    worse = await _item(services, "test:worse")
    assert worse.state == InboxState.FAILED


async def test_transient_database_error_is_retried_then_parked(services: Services) -> None:
    inbox = services.inbox

    async def lost(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))

    services.router.handle = lost  # type: ignore[method-assign]
    await inbox.accept(inbound("a", "a1", "how do I reset my password?"))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        async with services.sessionmaker() as session, session.begin():
            await session.execute(update(InboxItem).values(lease_until=None))
        assert await inbox.process_one()
        item = await _item(services, inbox_key(inbound("a", "a1")))
        assert item.attempts == attempt
        expected = InboxState.FAILED if attempt == MAX_ATTEMPTS else InboxState.PENDING
        assert item.state == expected
    assert (item.error or "").startswith("router error: OperationalError")
    await _handed_to_a_person(services, "a")
    assert not await inbox.process_one()


async def test_a_key_is_the_senders_own(services: Services) -> None:
    # Another sender who knows (or guesses) a message's id cannot suppress it by sending
    # first with the same id; the same sender's redelivery is still a duplicate.
    inbox = services.inbox
    assert await inbox.accept(inbound("mallory", "<id@mail>", "first")) == InboundResult.ACCEPTED
    assert await inbox.accept(inbound("alice", "<id@mail>", "mine")) == InboundResult.ACCEPTED
    assert await inbox.accept(inbound("alice", "<id@mail>", "mine")) == InboundResult.DUPLICATE
    await inbox.drain()
    async with services.sessionmaker() as session:
        texts = (
            await session.scalars(select(Message.text).where(Message.external_id == "<id@mail>"))
        ).all()
    assert sorted(texts) == ["first", "mine"]
    long_sender = "x" * 400
    assert await inbox.accept(inbound(long_sender, "k" * 400)) == InboundResult.ACCEPTED
    assert await inbox.accept(inbound(long_sender, "k" * 400 + "2")) == InboundResult.ACCEPTED


async def test_a_flood_waits_behind_itself_not_a_new_customer(services: Services) -> None:
    # One sender's twenty waiting messages take turns spaced apart; someone new who
    # writes after them is taken second, not twenty-first. Order within a
    # conversation holds.
    inbox = services.inbox
    for i in range(20):
        await inbox.accept(inbound("flood", f"f{i}", f"spam {i}"))
    await inbox.accept(inbound("newcomer", "n1", "hello, my order is late"))
    taken = []
    for _ in range(4):
        item = await inbox._claim()
        assert item is not None
        taken.append(item.payload["sender_id"] + ":" + item.payload["text"])
        async with services.sessionmaker() as session, session.begin():
            await actions.inbound_done(session, item.id)
    assert taken == [
        "flood:spam 0",
        "newcomer:hello, my order is late",
        "flood:spam 1",
        "flood:spam 2",
    ]
    async with services.sessionmaker() as session:
        turns = (
            await session.scalars(
                select(InboxItem.fair_at)
                .where(InboxItem.fair_key == "test:flood")
                .order_by(InboxItem.id)
            )
        ).all()
    assert all(later > earlier for earlier, later in itertools.pairwise(turns))
