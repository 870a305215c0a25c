"""Automatic assignment: availability, skills, capacity, round-robin and least-busy,
manual teams, and two processes assigning at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from omnidesk.escalation import auto_assign, choose
from omnidesk.escalation.assignment import Candidate
from omnidesk.helpdesk import ConversationState, EventBus, unit_of_work
from omnidesk.helpdesk.events import Event
from omnidesk.helpdesk.models import Notification, Team
from tests.conftest import Database
from tests.escalation import helpers


def test_choose_round_robin_wraps_after_the_cursor() -> None:
    people = [Candidate(1, 0, 2), Candidate(2, 0, 2), Candidate(3, 2, 2)]
    assert choose(people, "round_robin", None) == 1
    assert choose(people, "round_robin", 1) == 2
    # 3 is full, so after 2 the turn wraps to 1.
    assert choose(people, "round_robin", 2) == 1
    assert choose(people, "manual", None) is None
    assert choose([Candidate(1, 3, 3)], "round_robin", None) is None


def test_choose_least_busy_breaks_ties_in_turn() -> None:
    people = [Candidate(1, 2, 5), Candidate(2, 1, 5), Candidate(3, 1, 5)]
    assert choose(people, "least_busy", None) == 2
    assert choose(people, "least_busy", 2) == 3


async def test_round_robin_in_a_team_with_notifications(db: Database) -> None:
    bus = EventBus()
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    bus.subscribe(record)
    async with unit_of_work(db.sessionmaker) as session:
        ana, ben, cy = [await helpers.agent(session, n) for n in ("Ana", "Ben", "Cy")]
        support = await helpers.team(session, "Support", [ana, ben, cy])
        ids = (ana.id, ben.id, cy.id, support.id)
    got = []
    for n in range(4):
        async with unit_of_work(db.sessionmaker, bus) as session:
            conversation = await helpers.queued(session, f"v{n}", team_id=ids[3])
            actor = await auto_assign(session, conversation)
            assert actor is not None and conversation.state == ConversationState.ASSIGNED
            got.append(actor.agent_id)
    assert got == [ids[0], ids[1], ids[2], ids[0]]
    async with db.sessionmaker() as session:
        assert (await session.get_one(Team, ids[3])).last_assigned_agent_id == ids[0]
        notes = (await session.scalars(select(Notification).order_by(Notification.id))).all()
    assert [(n.agent_id, n.kind) for n in notes] == [(i, "assigned") for i in got]
    pushed = [e.data for e in seen if e.kind == "notification"]
    assert pushed == [{"agent_id": n.agent_id, "notification_id": n.id} for n in notes]


async def test_only_online_active_skilled_agents_with_room(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        await helpers.agent(session, "Away", availability="away", skills=["billing"])
        await helpers.agent(session, "Gone", active=False, skills=["billing"])
        await helpers.agent(session, "NoSkill")
        full = await helpers.agent(session, "Full", capacity=1, skills=["Billing"])
        held = await helpers.queued(session, "held")
        held.state, held.assignee_id = ConversationState.PENDING, full.id
        conversation = await helpers.queued(session, "v", skill="billing")
        assert await auto_assign(session, conversation) is None
        assert conversation.state == ConversationState.QUEUED
        fit = await helpers.agent(session, "Fit", skills=["BILLING", "de"])
        actor = await auto_assign(session, conversation)
        assert actor is not None and actor.agent_id == fit.id
        # A resolved conversation frees a slot.
        held.state = ConversationState.RESOLVED
        other = await helpers.queued(session, "w", skill="billing")
        actor = await auto_assign(session, other, exclude=[fit.id])
        assert actor is not None and actor.agent_id == full.id


async def test_least_busy_and_manual_teams(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        busy, idle = await helpers.agent(session, "Busy"), await helpers.agent(session, "Idle")
        sales = await helpers.team(session, "Sales", [busy, idle], assignment="least_busy")
        desk = await helpers.team(session, "Desk", [busy, idle], assignment="manual")
        for n in range(2):
            held = await helpers.queued(session, f"h{n}")
            held.state, held.assignee_id = ConversationState.ASSIGNED, busy.id
        first = await helpers.queued(session, "a", team_id=sales.id)
        assert (await auto_assign(session, first)).agent_id == idle.id  # type: ignore[union-attr]
        second = await helpers.queued(session, "b", team_id=sales.id)
        assert (await auto_assign(session, second)).agent_id == idle.id  # type: ignore[union-attr]
        manual = await helpers.queued(session, "c", team_id=desk.id)
        assert await auto_assign(session, manual) is None
        assert manual.assignee_id is None and manual.state == ConversationState.QUEUED
        # Already assigned: left alone.
        assert await auto_assign(session, first) is None


async def test_two_processes_never_overfill_an_agent(db: Database) -> None:
    if db.backend != "postgresql":
        pytest.skip("row locks across connections are what PostgreSQL adds")
    async with unit_of_work(db.sessionmaker) as session:
        solo = await helpers.agent(session, "Solo", capacity=1)
        support = await helpers.team(session, "Support", [solo])
        ids = [(await helpers.queued(session, f"v{n}", team_id=support.id)).id for n in range(2)]

    async def assign(conversation_id: int) -> bool:
        async with unit_of_work(db.sessionmaker) as session:
            from omnidesk.helpdesk import Conversation

            conversation = await session.get_one(Conversation, conversation_id)
            return await auto_assign(session, conversation) is not None

    results = await asyncio.gather(*(assign(i) for i in ids))
    assert sorted(results) == [False, True]
