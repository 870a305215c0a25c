"""The sweeper runs the sweeps on its own until stopped."""

from __future__ import annotations

import asyncio
import datetime as dt

from omnidesk.bot.sweeper import Sweeper
from omnidesk.config import EscalationSettings
from omnidesk.db import utcnow
from omnidesk.escalation import SweepReport
from omnidesk.helpdesk import Conversation, ConversationState, EventBus, unit_of_work
from omnidesk.helpdesk.events import Event
from tests.conftest import Database
from tests.escalation import helpers


async def test_sweeper_wakes_a_snoozed_conversation_then_stops(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await helpers.queued(session, "v")
        conversation.state = ConversationState.SNOOZED
        conversation.snoozed_until = utcnow() - dt.timedelta(seconds=1)
        conversation_id = conversation.id
    bus = EventBus()
    woke = asyncio.Event()

    async def on_event(event: Event) -> None:
        if event.kind == "conversation" and event.data.get("conversation_id") == conversation_id:
            woke.set()

    bus.subscribe(on_event)
    sweeper = Sweeper(db.sessionmaker, bus, EscalationSettings(sweep_seconds=0.05))
    await sweeper.start()
    try:
        async with asyncio.timeout(30):
            await woke.wait()
    finally:
        await sweeper.stop()
    async with db.sessionmaker() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        assert conversation.state == ConversationState.QUEUED


async def test_a_wake_up_runs_a_round_before_the_wait_is_over(db: Database) -> None:
    bus = EventBus()
    assigned = asyncio.Event()

    async def on_event(event: Event) -> None:
        if event.kind == "conversation" and event.data.get("state") == "assigned":
            assigned.set()

    bus.subscribe(on_event)
    async with unit_of_work(db.sessionmaker) as session:
        conversation_id = (await helpers.queued(session, "waiting")).id
    # An hour between rounds: only the wake-up can bring the second one in time.
    sweeper = Sweeper(db.sessionmaker, bus, EscalationSettings(sweep_seconds=3600))
    rounds: asyncio.Queue[object] = asyncio.Queue()
    run_once = sweeper.run_once

    async def counted() -> SweepReport:
        report = await run_once()
        rounds.put_nowait(report)
        return report

    sweeper.run_once = counted  # type: ignore[method-assign]
    await sweeper.start()
    try:
        async with asyncio.timeout(30):
            await rounds.get()  # the first round is over: nobody was online then
        async with unit_of_work(db.sessionmaker) as session:
            ben_id = (await helpers.agent(session, "Ben")).id  # online
        sweeper.wake()
        async with asyncio.timeout(30):
            await assigned.wait()
    finally:
        await sweeper.stop()
    async with db.sessionmaker() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        assert conversation.assignee_id == ben_id
