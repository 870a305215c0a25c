"""Survey throttling: one survey (CSAT or NPS) per contact per period, NPS only when it
is on and only ``nps_after_days`` after a resolution, nobody erased or merged away."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from omnidesk.config import EscalationSettings
from omnidesk.escalation import SurveyThrottle, may_survey, sweep_nps, sweep_once
from omnidesk.helpdesk import (
    Actor,
    Author,
    Conversation,
    OutboxItem,
    Ticket,
    TimelineEvent,
    actions,
    unit_of_work,
    utcnow,
)
from omnidesk.helpdesk.actions import SURVEY_GATE_KEY
from omnidesk.helpdesk.models import ChannelIdentity, Contact, SurveySend
from tests.conftest import Database

PERIOD = 30
SETTINGS = EscalationSettings(survey_period_days=PERIOD, reassign_after_minutes=None)
NPS_ON = SETTINGS.model_copy(update={"nps_enabled": True, "nps_after_days": 7})


async def _resolve(db: Database, settings: EscalationSettings = SETTINGS) -> int:
    """The customer asks for help, an agent answers and resolves; the ticket's id."""
    async with unit_of_work(db.sessionmaker) as session:
        session.info[SURVEY_GATE_KEY] = SurveyThrottle(settings)
        identity = await actions.resolve_identity(session, "webchat", "ana")
        conversation = await actions.current_conversation(session, identity)
        if conversation.state == "resolved":
            await actions.reopen(session, conversation)
        await actions.record_message(session, conversation, Author.CONTACT, "help")
        ticket = await actions.escalate(
            session, conversation, reason="customer_request", subject="help"
        )
        await actions.agent_reply(session, conversation, Actor("Dana"), "Done.")
        await actions.resolve(session, conversation, Actor("Dana"))
        return ticket.id


async def _sends(db: Database, kind: str | None = None) -> list[SurveySend]:
    async with db.sessionmaker() as session:
        stmt = select(SurveySend).order_by(SurveySend.id)
        if kind:
            stmt = stmt.where(SurveySend.kind == kind)
        return list((await session.scalars(stmt)).all())


async def _age(db: Database, days: float, kind: str | None = None) -> None:
    """Every survey (of ``kind``) sent and every ticket resolved so far happened ``days``
    earlier (in Python: SQLite keeps times as text)."""
    delta = dt.timedelta(days=days)
    async with unit_of_work(db.sessionmaker) as session:
        for send in await session.scalars(select(SurveySend)):
            if kind in (None, send.kind):
                send.sent_at -= delta
        for ticket in await session.scalars(select(Ticket)) if kind is None else []:
            if ticket.resolved_at is not None:
                ticket.resolved_at -= delta


async def _last_text(db: Database) -> str:
    async with db.sessionmaker() as session:
        item = await session.scalar(select(OutboxItem).order_by(OutboxItem.id.desc()).limit(1))
        assert item is not None
        return str(item.payload["text"])


async def test_a_second_resolution_within_the_period_asks_nothing(db: Database) -> None:
    first = await _resolve(db)
    assert [(s.kind, s.ticket_id) for s in await _sends(db)] == [("csat", first)]
    await _resolve(db)
    # The customer is told it is resolved, and not asked to rate it again.
    assert len(await _sends(db)) == 1
    assert "marked as resolved" in await _last_text(db)


async def test_after_the_period_the_contact_is_asked_again(db: Database) -> None:
    await _resolve(db)
    await _age(db, PERIOD + 1)
    second = await _resolve(db)
    sends = await _sends(db, "csat")
    assert len(sends) == 2 and sends[-1].ticket_id == second
    assert "rate the help" in await _last_text(db)


async def test_without_a_period_every_resolution_asks(db: Database) -> None:
    unlimited = SETTINGS.model_copy(update={"survey_period_days": 0})
    await _resolve(db, unlimited)
    await _resolve(db, unlimited)
    assert len(await _sends(db, "csat")) == 2


async def _resolved_quietly(db: Database, days_ago: float) -> int:
    """A ticket resolved ``days_ago`` without the CSAT question (no survey sent)."""
    async with unit_of_work(db.sessionmaker) as session:
        identity = await actions.resolve_identity(session, "webchat", "ana")
        conversation = await actions.current_conversation(session, identity)
        await actions.record_message(session, conversation, Author.CONTACT, "help")
        ticket = await actions.escalate(
            session, conversation, reason="customer_request", subject="help"
        )
        await actions.resolve(session, conversation, Actor("Dana"), notify=False)
        ticket.resolved_at = utcnow() - dt.timedelta(days=days_ago)
        return ticket.id


async def _sweep(db: Database, settings: EscalationSettings, now: dt.datetime) -> int:
    async with unit_of_work(db.sessionmaker) as session:
        return await sweep_nps(session, settings, now)


async def test_nps_only_when_on_and_only_after_the_days(db: Database) -> None:
    ticket_id = await _resolved_quietly(db, 6)
    now = utcnow()
    assert await _sweep(db, SETTINGS, now + dt.timedelta(days=2)) == 0  # NPS is off
    assert await _sweep(db, NPS_ON, now) == 0  # six days: too early
    report = await sweep_once(db.sessionmaker, None, NPS_ON, now + dt.timedelta(days=2))
    assert report.surveyed == 1
    [send] = await _sends(db, "nps")
    assert send.ticket_id == ticket_id and send.answered_at is None
    assert "How likely are you to recommend" in await _last_text(db)
    async with db.sessionmaker() as session:
        kinds = (await session.scalars(select(TimelineEvent.kind))).all()
    assert "nps_sent" in kinds
    # Each ticket at most once, and the throttle holds the contact now anyway.
    assert await _sweep(db, NPS_ON, now + dt.timedelta(days=3)) == 0


async def test_one_survey_per_period_across_csat_and_nps(db: Database) -> None:
    await _resolve(db, NPS_ON)  # CSAT asked on resolve
    now = utcnow()
    # A week on, the NPS is due, but the contact had the CSAT question this period.
    assert await _sweep(db, NPS_ON, now + dt.timedelta(days=8)) == 0
    # Once the period has passed, the held NPS goes out.
    assert await _sweep(db, NPS_ON, now + dt.timedelta(days=PERIOD + 1)) == 1
    assert [s.kind for s in await _sends(db)] == ["csat", "nps"]
    # The NPS just sent holds the next resolution's CSAT (the first CSAT is long past).
    await _age(db, PERIOD + 1, "csat")
    await _resolve(db, NPS_ON)
    assert [s.kind for s in await _sends(db)] == ["csat", "nps"]


async def test_a_ticket_older_than_the_wait_and_a_period_gets_no_nps(db: Database) -> None:
    await _resolved_quietly(db, 7 + PERIOD + 2)
    assert await _sweep(db, NPS_ON, utcnow()) == 0


async def test_nobody_erased_or_merged_away_is_asked(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        ana = await actions.resolve_identity(session, "webchat", "ana")
        bo = await actions.resolve_identity(session, "webchat", "bo")
        conversation = await actions.current_conversation(session, ana)
        assert await may_survey(session, conversation, "csat", SETTINGS)
        # Merged away: Ana's contact is gone (a conversation still naming it is refused).
        ana_contact, bo_contact = (
            await session.get_one(Contact, ana.contact_id),
            await session.get_one(Contact, bo.contact_id),
        )
        stale = Conversation(contact_id=ana_contact.id, identity_id=ana.id, channel="webchat")
        await actions.merge_contacts(session, bo_contact, ana_contact, "Dana")
        assert not await may_survey(session, stale, "csat", SETTINGS)
        # Erased: the channel identity is removed, so there is nobody to ask.
        mine = await actions.current_conversation(session, bo)
        await session.execute(delete(ChannelIdentity).where(ChannelIdentity.id == bo.id))
        assert not await may_survey(session, mine, "csat", SETTINGS)


async def test_no_nps_into_a_conversation_a_person_is_working_on(db: Database) -> None:
    await _resolved_quietly(db, 8)
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(Conversation, 1)
        await actions.reopen(session, conversation)
        await actions.escalate(session, conversation, reason="customer_request", subject="again")
    assert await _sweep(db, NPS_ON, utcnow()) == 0
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(Conversation, 1)
        await actions.resolve(session, conversation, Actor("Dana"), notify=False)
    # Resolved again: the older ticket's NPS goes out now (the new one is too recent).
    assert await _sweep(db, NPS_ON, utcnow()) == 1
