"""The agents' work actions: notes that never reach the customer, mentions that notify,
labels, priority, states with snooze, read markers and unread counts, canned rendering,
and merges that can be undone with every message kept."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from omnidesk.db import utcnow
from omnidesk.helpdesk import (
    Actor,
    Author,
    Contact,
    ConversationState,
    EventBus,
    Message,
    OutboxItem,
    Priority,
    Ticket,
    TicketState,
    TimelineEvent,
    actions,
    queries,
    unit_of_work,
)
from omnidesk.helpdesk.events import Event
from omnidesk.helpdesk.models import Notification
from tests.conftest import Database
from tests.helpdesk.work_helpers import add_agent, add_team, customer_conversation


def recorder(bus: EventBus) -> list[Event]:
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    bus.subscribe(record)
    return seen


async def test_a_note_is_never_queued_nor_shown_to_the_customer(db: Database) -> None:
    bus = EventBus()
    seen = recorder(bus)
    async with unit_of_work(db.sessionmaker, bus) as session:
        dana = await add_agent(session, "Dana Scully", "dana@example.com")
        conversation = await customer_conversation(session, "v-note", "my order is late")
        await actions.agent_reply(session, conversation, dana, "Looking into it")
        note = await actions.add_note(session, conversation, dana, "customer is a VIP, be nice")
        conversation_id = conversation.id
        with pytest.raises(actions.ActionError) as refused:
            await actions.queue_delivery(session, conversation, note.message)
        assert refused.value.code == "private"
    assert [bool(e.data.get("private")) for e in seen if e.kind == "message"] == [
        False,
        False,
        True,
    ]
    async with db.sessionmaker() as session:
        outbox = (await session.scalars(select(OutboxItem))).all()
        assert [o.payload["text"] for o in outbox] == ["Looking into it"]
        # What the web chat shows on reconnect, and the default message list: no note.
        history = await queries.identity_history(session, "webchat", "v-note")
        assert [m["text"] for m in history] == ["my order is late", "Looking into it"]
        assert all(not m["private"] for m in history)
        plain = await queries.conversation_messages(session, conversation_id)
        assert len(plain) == 2
        agents_view = await queries.conversation_messages(
            session, conversation_id, include_private=True
        )
        assert agents_view[-1]["private"] is True
        assert agents_view[-1]["author_id"] == dana.agent_id
        [stored] = (await session.scalars(select(Message).where(Message.private))).all()
        assert stored.delivery is None


async def test_mentions_notify_the_named_agents_once(db: Database) -> None:
    bus = EventBus()
    seen = recorder(bus)
    async with unit_of_work(db.sessionmaker, bus) as session:
        dana = await add_agent(session, "Dana Scully", "dana@example.com")
        fox = await add_agent(session, "Fox Mulder", "fox@example.com")
        walter = await add_agent(session, "Walter Skinner", "ws@example.com")
        await add_agent(session, "Fox Other", "other@example.com")  # "@fox" is ambiguous
        conversation = await customer_conversation(session, "v-mention")
        text = (
            "@FOX MULDER and @ws@example.com please check; @dana is me, @nobody is nobody, "
            "@walterx is not Walter, @fox alone is ambiguous"
        )
        note = await actions.add_note(session, conversation, dana, text)
        assert seen == []
    notified = sorted(n.agent_id for n in note.notifications)
    assert notified == sorted([fox.agent_id, walter.agent_id])
    events = [e for e in seen if e.kind == "notification"]
    assert sorted(e.data["agent_id"] for e in events) == notified
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(Notification))).all()
        assert {r.kind for r in rows} == {"mention"}
        assert all(r.conversation_id == conversation.id for r in rows)
        assert all(r.data["message_id"] == note.message.id for r in rows)
        timeline = await queries.contact_timeline(session, conversation.contact_id)
        [entry] = [e for e in timeline if e["kind"] == "note"]
        assert sorted(entry["data"]["mentions"]) == notified
    async with unit_of_work(db.sessionmaker, bus) as session:
        assert fox.agent_id is not None
        ids = [n.id for n in note.notifications]
        assert await actions.read_notifications(session, fox.agent_id, ids) == 1
        assert await actions.read_notifications(session, fox.agent_id, ids) == 0


async def test_labels_priority_and_their_timeline(db: Database) -> None:
    dana = Actor("Dana")
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await customer_conversation(session, "v-labels")
        labels = await actions.set_labels(
            session, conversation, [" Billing ", "vip", "billing"], dana
        )
        assert labels == ["billing", "vip"]
        assert await actions.set_labels(session, conversation, ["vip", "refund"], dana) == [
            "refund",
            "vip",
        ]
        with pytest.raises(actions.ActionError):
            await actions.set_labels(session, conversation, [f"l{i}" for i in range(21)], dana)
        with pytest.raises(actions.ActionError):
            await actions.set_labels(session, conversation, ["bad\x00label"], dana)
        await actions.set_priority(session, conversation, Priority.URGENT, dana)
        summary = await queries.conversation_summary(session, conversation)
        assert summary["labels"] == ["refund", "vip"] and summary["priority"] == "urgent"
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.priority == Priority.URGENT
        timeline = await queries.contact_timeline(session, conversation.contact_id)
    changes = [e["data"] for e in timeline if e["kind"] == "labels_changed"]
    assert changes[0]["added"] == ["billing", "vip"] and changes[0]["removed"] == []
    assert changes[1]["added"] == ["refund"] and changes[1]["removed"] == ["billing"]
    [priority] = [e["data"] for e in timeline if e["kind"] == "priority_changed"]
    assert (priority["before"], priority["after"], priority["by"]) == ("normal", "urgent", "Dana")


async def test_states_open_pending_snoozed_resolved_closed(db: Database) -> None:
    dana = Actor("Dana")
    Target = actions.Target
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await customer_conversation(session, "v-state", escalate=False)
        assert conversation.state == ConversationState.BOT
        await actions.set_state(session, conversation, Target.OPEN, dana)
        assert conversation.state == ConversationState.QUEUED  # nobody holds it
        await actions.assign(session, conversation, dana)
        await actions.set_state(session, conversation, Target.PENDING, dana)
        assert conversation.state == ConversationState.PENDING
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.state == TicketState.PENDING
        for bad in (None, utcnow() - dt.timedelta(minutes=1), dt.datetime(2100, 1, 1)):  # noqa: DTZ001
            with pytest.raises(actions.ActionError):
                await actions.set_state(
                    session, conversation, Target.SNOOZED, dana, snoozed_until=bad
                )
        until = utcnow() + dt.timedelta(hours=2)
        await actions.set_state(session, conversation, Target.SNOOZED, dana, snoozed_until=until)
        assert conversation.state == ConversationState.SNOOZED
        assert conversation.snoozed_until == until
        await actions.set_state(session, conversation, Target.OPEN, dana)
        assert conversation.state == ConversationState.ASSIGNED  # Dana still holds it
        assert conversation.snoozed_until is None
        await actions.set_state(session, conversation, Target.RESOLVED, dana)
        assert conversation.state == ConversationState.RESOLVED
        await actions.set_state(session, conversation, Target.CLOSED, dana)
        assert conversation.state == ConversationState.CLOSED
        with pytest.raises(actions.ActionError) as refused:
            await actions.set_state(session, conversation, Target.OPEN, dana)
        assert refused.value.code == "closed"
        timeline = await queries.contact_timeline(session, conversation.contact_id)
    moves = [
        (e["data"]["before"], e["data"]["after"]) for e in timeline if e["kind"] == "state_changed"
    ]
    assert moves == [
        ("bot", "queued"),
        ("assigned", "pending"),
        ("pending", "snoozed"),
        ("snoozed", "assigned"),
        ("resolved", "closed"),
    ]
    assert "resolved" in [e["kind"] for e in timeline]


async def test_views_filters_counts_and_unread(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        support = await add_team(session, "Support")
        billing = await add_team(session, "Billing")
        dana = await add_agent(session, "Dana", "dana@example.com", team=support)
        fox = await add_agent(session, "Fox", "fox@example.com", team=billing)
        mine = await customer_conversation(session, "v1", "mine")
        await actions.assign(session, mine, dana, team_id=support.id)
        foxs = await customer_conversation(session, "v2", "fox's", channel="email")
        await actions.assign(session, foxs, fox, team_id=billing.id)
        waiting = await customer_conversation(session, "v3", "waiting")
        await actions.assign(session, waiting, None, team_id=support.id)
        await actions.set_priority(session, waiting, Priority.HIGH, dana)
        await actions.set_labels(session, waiting, ["vip"], dana)
        await customer_conversation(session, "v4", "bot only", escalate=False)
        ids = {c.id: name for c, name in ((mine, "mine"), (foxs, "fox"), (waiting, "waiting"))}

    async def names(view: queries.View, **filters: object) -> list[str]:
        async with db.sessionmaker() as session:
            rows = await queries.list_view(session, view, dana, queries.Filters(**filters))  # type: ignore[arg-type]
        return sorted(ids.get(r["id"], "bot") for r in rows)

    View = queries.View
    assert await names(View.MINE) == ["mine"]
    assert await names(View.UNASSIGNED) == ["waiting"]
    assert await names(View.TEAMS) == ["mine", "waiting"]
    assert await names(View.ALL) == ["bot", "fox", "mine", "waiting"]
    assert await names(View.ALL, state="bot") == ["bot"]
    assert await names(View.ALL, state="open") == ["fox", "mine", "waiting"]
    assert await names(View.ALL, channel="email") == ["fox"]
    assert await names(View.ALL, priority="high") == ["waiting"]
    assert await names(View.ALL, label="vip") == ["waiting"]
    assert await names(View.ALL, assignee_id=fox.agent_id) == ["fox"]
    assert await names(View.ALL, state="open", assignee_id=0) == ["waiting"]
    assert await names(View.ALL, team_id=billing.id) == ["fox"]
    async with db.sessionmaker() as session:
        counts = await queries.view_counts(session, dana)
        assert counts == {"mine": 1, "unassigned": 1, "teams": 2, "all": 4}
        assert (await queries.view_counts(session, dana, queries.Filters(channel="email")))[
            "all"
        ] == 1
        [row] = await queries.list_view(session, View.MINE, dana)
        assert row["unread"] == 1
        assert row["assignee"] == {"id": dana.agent_id, "name": "Dana"}
        assert row["team"] == {"id": support.id, "name": "Support"}

    # Reading moves the marker forward only; the customer's next message is unread again.
    assert dana.agent_id is not None
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(type(mine), mine.id)
        last = await session.scalar(
            select(func.max(Message.id)).where(Message.conversation_id == mine.id)
        )
        assert last is not None
        assert await actions.mark_read(session, conversation, dana.agent_id, last) == last
        first = await session.scalar(select(func.min(Message.id)))
        assert first is not None
        assert await actions.mark_read(session, conversation, dana.agent_id, first) == last
        with pytest.raises(actions.ActionError):
            await actions.mark_read(session, conversation, dana.agent_id, last + 999)
        await actions.record_message(session, conversation, Author.CONTACT, "again")
        await actions.record_message(session, conversation, Author.CONTACT, "and again")
    async with db.sessionmaker() as session:
        unread = await queries.unread_counts(session, dana.agent_id, [mine.id, waiting.id])
        assert unread == {mine.id: 2, waiting.id: 1}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hi {{contact.name}}, {{agent.name}} here.", "Hi Ana, Dana here."),
        (
            "Ticket #{{ ticket.id }} on conversation {{conversation.id}}",
            "Ticket #7 on conversation 3",
        ),
        ("Mail: {{contact.email}}.", "Mail: ."),  # known but missing: empty
        # A fallback for a missing value; a present one wins over it.
        ("Hi {{contact.email|there}}, {{ agent.name | me }}.", "Hi there, Dana."),
        ("{{contact.phone|x}} {{contact.email|}}!", "{{contact.phone|x}} !"),
        (
            "{{contact.phone}} {{ foo.bar }} {{contact.name",
            "{{contact.phone}} {{ foo.bar }} {{contact.name",
        ),
        ("{{contact.__class__}} {{7*7}} {% if x %}", "{{contact.__class__}} {{7*7}} {% if x %}"),
    ],
)
def test_canned_rendering_fills_only_known_placeholders(body: str, expected: str) -> None:
    values = {
        ("contact", "name"): "Ana",
        ("contact", "email"): None,
        ("agent", "name"): "Dana",
        ("conversation", "id"): 3,
        ("ticket", "id"): 7,
    }
    assert actions.render_canned(body, values) == expected


async def test_canned_crud_and_render_for_a_conversation(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        dana = await add_agent(session, "Dana", "dana@example.com")
        conversation = await customer_conversation(session, "v-canned", name="Ana")
        row = await actions.create_canned(
            session, "Thanks", "Thanks {{contact.name}}! {{agent.name}} ({{agent.email}})", dana
        )
        assert row.short_code == "thanks"
        with pytest.raises(actions.ActionError) as duplicate:
            await actions.create_canned(session, "thanks", "again", dana)
        assert duplicate.value.code == "duplicate"
        with pytest.raises(actions.ActionError):
            await actions.create_canned(session, "no spaces", "x", dana)
        text = await actions.render_for(session, row, conversation, dana)
        assert text == "Thanks Ana! Dana (dana@example.com)"
        await actions.update_canned(session, row, dana, body="Bye {{contact.name}}")
        assert await actions.render_for(session, row, conversation, dana) == "Bye Ana"
        await actions.delete_canned(session, row, dana)


async def test_unmerge_restores_the_contact_with_every_message(db: Database) -> None:
    dana = Actor("Dana", 1)
    async with unit_of_work(db.sessionmaker) as session:
        web = await customer_conversation(session, "v-ana", "web question", name="Ana")
        mail = await customer_conversation(
            session, "ana2@example.com", "mail question", channel="email", email="ana2@example.com"
        )
        keep = await session.get_one(Contact, web.contact_id)
        other = await session.get_one(Contact, mail.contact_id)
        other.attributes = {"plan": "pro"}
        other_id, keep_id = other.id, keep.id
        await actions.merge_contacts(session, keep, other, dana)
    async with unit_of_work(db.sessionmaker) as session:
        keep = await session.get_one(Contact, keep_id)
        assert (keep.email, keep.attributes) == ("ana2@example.com", {"plan": "pro"})
        assert await session.get(Contact, other_id) is None
        panel = await queries.contact_panel(session, keep)
        assert {i["channel"] for i in panel["identities"]} == {"webchat", "email"}
        assert len(panel["conversations"]) == 2
        [merge] = panel["merges"]
        # The merged email identity writes again after the merge: a new conversation.
        identity = await actions.resolve_identity(session, "email", "ana2@example.com")
        later = await actions.current_conversation(session, identity, "<new@x>")
        await actions.record_message(session, later, Author.CONTACT, "after the merge")
        later_id = later.id
        messages_before = await session.scalar(select(func.count()).select_from(Message))
    async with unit_of_work(db.sessionmaker) as session:
        keep = await session.get_one(Contact, keep_id)
        event = await session.get_one(TimelineEvent, merge["event_id"])
        restored = await actions.unmerge_contacts(session, keep, event, dana)
        assert restored.id == other_id
        with pytest.raises(actions.ActionError) as again:
            await actions.unmerge_contacts(session, keep, event, dana)
        assert again.value.code == "already_unmerged"
    async with db.sessionmaker() as session:
        keep = await session.get_one(Contact, keep_id)
        back = await session.get_one(Contact, other_id)
        assert (keep.name, keep.email, keep.attributes) == ("Ana", None, {})
        assert (back.email, back.attributes) == ("ana2@example.com", {"plan": "pro"})
        back_panel = await queries.contact_panel(session, back)
        assert [i["channel"] for i in back_panel["identities"]] == ["email"]
        assert sorted(c["id"] for c in back_panel["conversations"]) == sorted([mail.id, later_id])
        keep_panel = await queries.contact_panel(session, keep)
        assert [c["id"] for c in keep_panel["conversations"]] == [web.id]
        assert keep_panel["merges"] == []
        assert await session.scalar(select(func.count()).select_from(Message)) == messages_before
        kinds = [e["kind"] for e in await queries.contact_timeline(session, other_id)]
        assert "contacts_unmerged" in kinds and "conversation_started" in kinds
        history = await queries.conversation_messages(session, later_id)
        assert [m["text"] for m in history] == ["after the merge"]
