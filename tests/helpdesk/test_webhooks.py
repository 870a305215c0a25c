"""Webhook events are queued by the real actions, in their own transaction: one delivery
per active webhook subscribed to the event, none when the action rolls back, and
payloads that carry ids and states but none of the customer's words."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from omnidesk.helpdesk import (
    Actor,
    Author,
    Contact,
    EventBus,
    Priority,
    actions,
    unit_of_work,
)
from omnidesk.helpdesk.events import Event
from omnidesk.helpdesk.models import AgentRole, Webhook, WebhookDelivery
from tests.accounts import add_agent
from tests.conftest import Database

ADMIN = Actor("Root", None, AgentRole.ADMIN, ip="127.0.0.1")
WORDS = ("please refund my order 4711", "Private subject line", "you were slow")


async def add_webhook(db: Database, events: list[str], *, active: bool = True) -> int:
    async with unit_of_work(db.sessionmaker) as session:
        webhook = await actions.create_webhook(
            session,
            {"url": "http://127.0.0.1:9/hook", "events": events, "active": active},
            ADMIN,
        )
        return webhook.id


def recording_bus() -> tuple[EventBus, list[Event]]:
    """An in-process bus and the events it published, in order."""
    bus = EventBus()
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    bus.subscribe(record)
    return bus, seen


async def deliveries(db: Database) -> list[WebhookDelivery]:
    async with db.sessionmaker() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


async def test_each_action_queues_its_event(db: Database) -> None:
    webhook_id = await add_webhook(db, list(actions.WEBHOOK_EVENTS))
    agent_id = await add_agent(db.sessionmaker, "ada@example.test", name="Ada")
    ada = Actor("Ada", agent_id)
    async with unit_of_work(db.sessionmaker) as session:
        identity = await actions.resolve_identity(session, "webchat", "v-1")
        conversation = await actions.current_conversation(
            session, identity, subject="Private subject line"
        )
        await actions.record_message(session, conversation, Author.CONTACT, WORDS[0])
        ticket = await actions.escalate(
            session,
            conversation,
            reason="customer_request",
            subject=WORDS[1],
            priority=Priority.HIGH,
        )
        await actions.assign(session, conversation, ada)
        await actions.assign(session, conversation, None, by=ada)
        await actions.resolve(session, conversation, ada, notify=False)
        await actions.rate(session, ticket, 2, via="button")
        await actions.comment_on_rating(session, ticket, WORDS[2])
        other = await actions.resolve_identity(session, "email", "b@example.test")
        keep = await session.get_one(Contact, identity.contact_id)
        gone = await session.get_one(Contact, other.contact_id)
        ids = (conversation.id, identity.contact_id, gone.id, ticket.id)
        await actions.merge_contacts(session, keep, gone, ada)
    conversation_id, contact_id, other_id, ticket_id = ids

    rows = await deliveries(db)
    assert [r.event for r in rows] == [
        "contact.created",
        "conversation.created",
        "conversation.handed_off",
        "conversation.assigned",
        "conversation.assigned",
        "conversation.resolved",
        "conversation.rated",
        "contact.created",
        "contact.merged",
    ]
    assert all(r.webhook_id == webhook_id and r.state == "pending" for r in rows)
    assert len({r.delivery_id for r in rows}) == len(rows)
    by_event = {r.event: r.payload for r in rows}
    for row in rows:
        assert row.payload["id"] == row.delivery_id and row.payload["event"] == row.event
        assert uuid.UUID(row.delivery_id)
    created = by_event["conversation.created"]["data"]["conversation"]
    assert created["id"] == conversation_id and created["channel"] == "webchat"
    assert created["state"] == "bot" and created["contact_id"] == contact_id
    handed = by_event["conversation.handed_off"]["data"]
    assert handed["reason"] == "customer_request" and handed["ticket_id"] == ticket_id
    assert handed["conversation"]["state"] == "queued"
    assert handed["conversation"]["priority"] == "high"
    assigned, unassigned = (r.payload["data"] for r in rows[3:5])
    assert assigned["conversation"]["assignee_id"] == agent_id
    assert assigned["conversation"]["state"] == "assigned"
    assert unassigned["conversation"]["assignee_id"] is None
    assert unassigned["conversation"]["state"] == "queued" and unassigned["by_id"] == agent_id
    resolved = by_event["conversation.resolved"]["data"]
    assert resolved["conversation"]["state"] == "resolved" and resolved["resolved_at"]
    rated = by_event["conversation.rated"]["data"]
    assert (rated["score"], rated["ticket_id"], rated["via"]) == (2, ticket_id, "button")
    assert rows[0].payload["data"]["contact"]["id"] == contact_id
    merged = by_event["contact.merged"]["data"]
    assert merged["contact"]["id"] == contact_id and merged["merged_contact_id"] == other_id
    # Nothing the customer wrote leaves in a webhook: not the message, the subject or
    # the rating's comment.
    everything = json.dumps([r.payload for r in rows])
    for words in WORDS:
        assert words not in everything


async def test_a_rolled_back_action_queues_nothing(db: Database) -> None:
    await add_webhook(db, ["contact.created", "conversation.created"])
    bus, seen = recording_bus()
    with pytest.raises(RuntimeError):
        async with unit_of_work(db.sessionmaker, bus) as session:
            identity = await actions.resolve_identity(session, "webchat", "v-2")
            await actions.current_conversation(session, identity)
            raise RuntimeError("the turn failed")
    assert await deliveries(db) == []
    assert seen == []
    async with unit_of_work(db.sessionmaker, bus) as session:
        identity = await actions.resolve_identity(session, "webchat", "v-2")
        await actions.current_conversation(session, identity)
    assert [r.event for r in await deliveries(db)] == ["contact.created", "conversation.created"]
    assert [e.kind for e in seen] == ["webhook", "webhook"]  # wakes the dispatcher


async def test_only_active_webhooks_subscribed_to_the_event_get_it(db: Database) -> None:
    wanted = await add_webhook(db, ["contact.created"])
    await add_webhook(db, ["conversation.created"])
    await add_webhook(db, list(actions.WEBHOOK_EVENTS), active=False)
    async with unit_of_work(db.sessionmaker) as session:
        await actions.resolve_identity(session, "telegram", "t-1")
        # A known identity is no new contact.
        await actions.resolve_identity(session, "telegram", "t-1")
    rows = await deliveries(db)
    assert [(r.webhook_id, r.event) for r in rows] == [(wanted, "contact.created")]


async def test_no_webhook_costs_no_row_and_no_event(db: Database) -> None:
    bus, seen = recording_bus()
    async with unit_of_work(db.sessionmaker, bus) as session:
        identity = await actions.resolve_identity(session, "webchat", "v-3")
        await actions.current_conversation(session, identity)
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
        assert await session.scalar(select(func.count()).select_from(Webhook)) == 0
    assert [e.kind for e in seen if e.kind == "webhook"] == []
