"""The sweeper runs the sweeps on its own until stopped."""

from __future__ import annotations

import asyncio
import datetime as dt

from omnidesk.bot.sweeper import Sweeper
from omnidesk.config import EscalationSettings
from omnidesk.db import utcnow
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
