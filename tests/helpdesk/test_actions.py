"""Helpdesk actions change rows and their timeline together."""

from __future__ import annotations

from sqlalchemy import select

from omnidesk.helpdesk import (
    Actor,
    Author,
    Contact,
    ConversationState,
    EventBus,
    OutboxItem,
    Ticket,
    TicketState,
    actions,
    queries,
    unit_of_work,
)
from omnidesk.helpdesk.events import Event
from tests.conftest import Database


async def test_same_email_on_two_channels_is_one_contact(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        web = await actions.resolve_identity(session, "webchat", "v1", email="Ana@Example.com")
        mail = await actions.resolve_identity(
            session, "email", "ana@example.com", email="ana@example.com"
        )
        other = await actions.resolve_identity(session, "webchat", "v2")
    assert web.contact_id == mail.contact_id != other.contact_id
    async with db.sessionmaker() as session:
        contact = await session.get_one(Contact, web.contact_id)
        assert contact.email == "ana@example.com"
        # Resolving again finds the same identity, no duplicate rows.
        again = await actions.resolve_identity(session, "webchat", "v1")
        assert again.id == web.id


async def test_timeline_and_events_after_commit_only(db: Database) -> None:
    bus = EventBus()
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    bus.subscribe(record)
    async with unit_of_work(db.sessionmaker, bus) as session:
        identity = await actions.resolve_identity(session, "webchat", "v1", name="Ana")
        conversation = await actions.current_conversation(session, identity)
        await actions.record_message(session, conversation, Author.CONTACT, "hello")
        await actions.reply(session, conversation, Author.BOT, "hi there")
        assert seen == []  # nothing is published before commit
        await actions.escalate(session, conversation, reason="customer_request", subject="hello")
        conversation_id = conversation.id
        contact_id = conversation.contact_id
    assert [e.kind for e in seen] == ["message", "message", "outbox", "conversation"]

    async with db.sessionmaker() as session:
        timeline = await queries.contact_timeline(session, contact_id)
        kinds = [e["kind"] for e in timeline]
        assert kinds[:3] == ["contact_created", "identity_added", "conversation_started"]
        assert kinds.count("message") == 2
        assert {"ticket_opened", "escalated"} <= set(kinds)
        [outbox] = (await session.scalars(select(OutboxItem))).all()
        assert outbox.payload["recipient_id"] == "v1" and outbox.payload["text"] == "hi there"
        [summary] = await queries.list_conversations(session, "queued")
        assert summary["id"] == conversation_id
        assert summary["contact"]["name"] == "Ana"
        assert summary["ticket"]["state"] == TicketState.OPEN


async def test_rolled_back_action_leaves_nothing_and_publishes_nothing(db: Database) -> None:
    bus = EventBus()
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    bus.subscribe(record)
    try:
        async with unit_of_work(db.sessionmaker, bus) as session:
            identity = await actions.resolve_identity(session, "webchat", "v9")
            conversation = await actions.current_conversation(session, identity)
            await actions.reply(session, conversation, Author.BOT, "half-written")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert seen == []
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(Contact))).all() == []
        assert (await session.scalars(select(OutboxItem))).all() == []


async def test_resolve_then_closed_conversation_refuses_agent_reply(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        identity = await actions.resolve_identity(session, "webchat", "v1")
        conversation = await actions.current_conversation(session, identity)
        await actions.escalate(session, conversation, reason="customer_request", subject="help")
        await actions.agent_reply(session, conversation, Actor("Dana"), "on it")
        await actions.resolve(session, conversation, Actor("Dana"))
        assert conversation.state == ConversationState.RESOLVED
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.state == TicketState.RESOLVED
        assert ticket.resolved_at is not None and ticket.first_response_at is not None
        conversation.state = ConversationState.CLOSED
        try:
            await actions.agent_reply(session, conversation, Actor("Dana"), "late")
        except actions.ActionError as exc:
            assert exc.code == "closed"
        else:
            raise AssertionError("a closed conversation accepted a reply")


async def test_reply_to_and_ticket_ref_join_only_the_contacts_own_thread(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        ana = await actions.resolve_identity(session, "email", "ana@example.com")
        first = await actions.current_conversation(session, ana, "<root@a>", subject="Refund")
        await actions.record_message(
            session, first, Author.CONTACT, "hello", external_id="<root@a>"
        )
        ticket = await actions.escalate(session, first, reason="customer_request", subject="x")
        # A reply naming a message of the thread joins it despite another thread key.
        joined = await actions.current_conversation(session, ana, "<other@a>", reply_to="<root@a>")
        assert joined.id == first.id
        by_ticket = await actions.current_conversation(
            session, ana, "<new@a>", ticket_ref=ticket.id
        )
        assert by_ticket.id == first.id
        # Someone else quoting Ana's ticket number or message id gets a thread of their own.
        eve = await actions.resolve_identity(session, "email", "eve@example.com")
        theirs = await actions.current_conversation(
            session, eve, "<eve@e>", reply_to="<root@a>", ticket_ref=ticket.id
        )
        assert theirs.id != first.id and theirs.contact_id == eve.contact_id
