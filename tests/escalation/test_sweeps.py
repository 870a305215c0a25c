"""The sweeps: SLA breaches (priority up, console and Slack told, once), unanswered
conversations back to the queue and to someone else, snoozes that end."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from omnidesk.bot.sweeper import Sweeper
from omnidesk.config import EscalationSettings
from omnidesk.db import utcnow
from omnidesk.escalation import auto_assign, start_sla, sweep_once
from omnidesk.helpdesk import (
    Conversation,
    ConversationState,
    EventBus,
    Ticket,
    TimelineEvent,
    actions,
    unit_of_work,
)
from omnidesk.helpdesk.models import Notification
from tests.channels.slack.fakeslack import BOT_TOKEN, FakeSlack
from tests.conftest import Database
from tests.escalation import helpers

NO_TIMEOUT = EscalationSettings(reassign_after_minutes=None)


async def _late_ticket(
    db: Database, visitor: str, *, started: dt.datetime, team_id: int | None = None
) -> tuple[int, int]:
    """A queued conversation whose ticket's SLA clock started at ``started``."""
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await helpers.queued(session, visitor, team_id=team_id)
        ticket = await actions.open_ticket(session, conversation.id)
        assert ticket is not None
        await start_sla(session, ticket, at=started)
        return conversation.id, ticket.id


async def _notes(db: Database) -> list[tuple[int, str]]:
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(Notification).order_by(Notification.id))).all()
        return [(n.agent_id, n.kind) for n in rows]


async def _kinds(db: Database, conversation_id: int) -> list[str]:
    async with db.sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(TimelineEvent.kind)
                    .where(TimelineEvent.conversation_id == conversation_id)
                    .order_by(TimelineEvent.id)
                )
            ).all()
        )


async def test_breach_raises_priority_and_notifies_once(db: Database) -> None:
    now = utcnow()
    async with unit_of_work(db.sessionmaker) as session:
        ana = await helpers.agent(session, "Ana")
        ana_id = ana.id
    conversation_id, ticket_id = await _late_ticket(db, "v", started=now - dt.timedelta(hours=5))
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(Conversation, conversation_id)
        assert (await auto_assign(session, conversation)) is not None
    bus = EventBus()
    report = await sweep_once(db.sessionmaker, bus, NO_TIMEOUT, now)
    assert [(a.ticket_id, a.targets, a.priority) for a in report.alerts] == [
        (ticket_id, ("first_response",), "high")
    ]
    again = await sweep_once(db.sessionmaker, bus, NO_TIMEOUT, now + dt.timedelta(minutes=1))
    assert again.alerts == []
    async with db.sessionmaker() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        conversation = await session.get_one(Conversation, conversation_id)
        assert ticket.first_response_breached_at == now
        assert ticket.resolution_breached_at is None
        assert ticket.priority == conversation.priority == "high"
    assert await _notes(db) == [(ana_id, "assigned"), (ana_id, "sla_breached")]
    # The resolution target goes too: one more step up.
    later = await sweep_once(db.sessionmaker, bus, NO_TIMEOUT, now + dt.timedelta(hours=20))
    assert [(a.targets, a.priority) for a in later.alerts] == [(("resolution",), "urgent")]
    assert (await _kinds(db, conversation_id)).count("sla_breached") == 2


async def test_unassigned_breach_tells_the_team_else_the_admins(db: Database) -> None:
    now = utcnow()
    async with unit_of_work(db.sessionmaker) as session:
        boss = await helpers.agent(session, "Boss", role="admin", availability="offline")
        ben = await helpers.agent(session, "Ben", availability="away")
        cy = await helpers.agent(session, "Cy", availability="offline")
        support = await helpers.team(session, "Support", [ben, cy])
        ids = boss.id, ben.id, cy.id, support.id
    started = now - dt.timedelta(hours=5)
    await _late_ticket(db, "team", started=started, team_id=ids[3])
    await _late_ticket(db, "nobody", started=started)
    report = await sweep_once(db.sessionmaker, None, NO_TIMEOUT, now)
    assert len(report.alerts) == 2
    assert await _notes(db) == [
        (ids[1], "sla_breached"),
        (ids[2], "sla_breached"),
        (ids[0], "sla_breached"),
    ]


@pytest.fixture
async def slack(aiohttp_server: Any) -> FakeSlack:
    fake = FakeSlack()
    server: TestServer = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("/api/"))
    return fake


async def test_breach_is_posted_to_the_slack_alert_channel(db: Database, slack: FakeSlack) -> None:
    await _late_ticket(db, "v", started=utcnow() - dt.timedelta(hours=5))
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.base_url)
    settings = EscalationSettings(slack_alert_channel="C0ALERTS")
    sweeper = Sweeper(db.sessionmaker, EventBus(), settings, lambda: client)
    report = await sweeper.run_once()
    assert len(report.alerts) == 1
    [post] = slack.posts()
    assert post["channel"] == "C0ALERTS"
    assert f"ticket #{report.alerts[0].ticket_id}" in post["text"]
    assert "first response" in post["text"] and "priority now high" in post["text"]
    # Nothing new, nothing posted; without the setting nothing is posted either.
    await sweeper.run_once()
    assert len(slack.posts()) == 1


async def test_unanswered_goes_back_to_the_queue_and_to_someone_else(db: Database) -> None:
    now = utcnow()
    async with unit_of_work(db.sessionmaker) as session:
        ana, ben = await helpers.agent(session, "Ana"), await helpers.agent(session, "Ben")
        support = await helpers.team(session, "Support", [ana, ben])
        conversation = await helpers.queued(session, "v", team_id=support.id)
        assert (await auto_assign(session, conversation)).agent_id == ana.id  # type: ignore[union-attr]
        conversation.assigned_at = now - dt.timedelta(minutes=30)
        conversation.waiting_since = now - dt.timedelta(minutes=20)
        ids = ana.id, ben.id, conversation.id
    settings = EscalationSettings(reassign_after_minutes=15)
    report = await sweep_once(db.sessionmaker, None, settings, now)
    assert (report.requeued, report.assigned) == (1, 1)
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(Conversation, ids[2])
        assert conversation.assignee_id == ids[1]
        assert conversation.state == ConversationState.ASSIGNED
        # Ben lets it lapse too and is the only one left: it waits in the queue, and
        # neither of them gets it back while the customer's wait lasts.
        conversation.assigned_at = now - dt.timedelta(minutes=16)
    assert (await sweep_once(db.sessionmaker, None, settings, now)).requeued == 1
    assert (await sweep_once(db.sessionmaker, None, settings, now)).assigned == 0
    async with db.sessionmaker() as session:
        conversation = await session.get_one(Conversation, ids[2])
        assert conversation.state == ConversationState.QUEUED
        assert conversation.assignee_id is None
    kinds = await _kinds(db, ids[2])
    assert kinds.count("reassign_timeout") == 2
    assert await _notes(db) == [
        (ids[0], "assigned"),
        (ids[0], "unassigned"),
        (ids[1], "assigned"),
        (ids[1], "unassigned"),
    ]


async def test_an_answer_stops_the_timeout(db: Database) -> None:
    now = utcnow()
    async with unit_of_work(db.sessionmaker) as session:
        ana = await helpers.agent(session, "Ana")
        conversation = await helpers.queued(session, "v")
        actor = await auto_assign(session, conversation)
        assert actor is not None and actor.agent_id == ana.id
        await actions.agent_reply(session, conversation, actor, "On it!")
        assert conversation.waiting_since is None
        conversation.assigned_at = now - dt.timedelta(hours=1)
    report = await sweep_once(db.sessionmaker, None, EscalationSettings(), now)
    assert report.requeued == 0


async def test_snoozes_end(db: Database) -> None:
    now = utcnow()
    async with unit_of_work(db.sessionmaker) as session:
        ana = await helpers.agent(session, "Ana", availability="offline")
        mine = await helpers.queued(session, "mine")
        await actions.assign(session, mine, actions.agent_actor(ana))
        nobody = await helpers.queued(session, "nobody")
        later = await helpers.queued(session, "later")
        for conversation, until in ((mine, -1), (nobody, -1), (later, 60)):
            conversation.state = ConversationState.SNOOZED
            conversation.snoozed_until = now + dt.timedelta(minutes=until)
        ids = mine.id, nobody.id, later.id
    report = await sweep_once(db.sessionmaker, None, NO_TIMEOUT, now)
    assert report.woken == 2
    async with db.sessionmaker() as session:
        states = [(await session.get_one(Conversation, i)).state for i in ids]
        assert states == ["assigned", "queued", "snoozed"]
        assert (await session.get_one(Conversation, ids[0])).snoozed_until is None
    assert "snooze_ended" in await _kinds(db, ids[0])
    # An agent comes online: the queued one finds them on the next round.
    async with unit_of_work(db.sessionmaker) as session:
        ben = await helpers.agent(session, "Ben")
        ben_id = ben.id
    report = await sweep_once(db.sessionmaker, None, NO_TIMEOUT, now)
    assert report.assigned == 1
    async with db.sessionmaker() as session:
        assert (await session.get_one(Conversation, ids[1])).assignee_id == ben_id
