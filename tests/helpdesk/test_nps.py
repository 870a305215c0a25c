"""The NPS survey: asked on the customer's own channel (a signed link to its page on
email), answered on the page or by a bare 0-10 reply on chat, kept on the survey row
and as one "nps_answered" timeline event; forged, expired and out-of-range answers get
a clear 4xx."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from omnidesk.bot.services import Services
from omnidesk.bot.testchannel import CaptureChannel
from omnidesk.channels import InboundMessage, OutboundMessage
from omnidesk.config import Settings
from omnidesk.escalation import sweep_once
from omnidesk.helpdesk import (
    Actor,
    Author,
    Conversation,
    EventBus,
    OutboxItem,
    Ticket,
    TimelineEvent,
    actions,
    unit_of_work,
    utcnow,
)
from omnidesk.helpdesk.catalogue import Catalogue
from omnidesk.helpdesk.models import SurveySend
from omnidesk.helpdesk.survey import SURVEY_KEY, SurveyLinks
from omnidesk.helpdesk.survey_pages import SurveyPages
from tests.conftest import Database

LINKS = SurveyLinks("test-secret", "https://help.example.com/")


async def _asked(db: Database, channel: str = "email") -> SurveySend:
    """A resolved ticket whose customer was sent the NPS question."""
    async with unit_of_work(db.sessionmaker) as session:
        session.info[SURVEY_KEY] = LINKS
        identity = await actions.resolve_identity(session, channel, "ana@example.com")
        conversation = await actions.current_conversation(session, identity)
        await actions.record_message(session, conversation, Author.CONTACT, "help")
        ticket = await actions.escalate(
            session, conversation, reason="customer_request", subject="help"
        )
        await actions.resolve(session, conversation, Actor("Dana"), notify=False)
        send = await actions.ask_nps(session, conversation, ticket, at=utcnow())
        session.expunge(send)
        return send


async def _row(db: Database, send_id: int) -> tuple[SurveySend, list[TimelineEvent]]:
    async with db.sessionmaker() as session:
        send = await session.get_one(SurveySend, send_id)
        events = (
            await session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "nps_answered"))
        ).all()
        return send, list(events)


@pytest.fixture
async def pages(aiohttp_client: Any, db: Database) -> Any:
    app = web.Application()
    app.router.add_routes(SurveyPages(db.sessionmaker, EventBus(), LINKS, Catalogue()).routes())
    return await aiohttp_client(app)


async def test_email_carries_a_signed_link_to_the_page(db: Database, pages: Any) -> None:
    send = await _asked(db)
    async with db.sessionmaker() as session:
        item = await session.scalar(select(OutboxItem).order_by(OutboxItem.id.desc()).limit(1))
        assert item is not None
    text = item.payload["text"]
    assert "How likely are you to recommend" in text and "0 (not at all likely)" in text
    url = text.split("answer here: ")[1]
    # The token carries its signing second, so compare what it names, not its text.
    prefix, token = url.rsplit("/", 1)
    assert prefix == LINKS.page(send.id, "nps").rsplit("/", 1)[0]
    assert LINKS.read(token, "nps") == send.id
    response = await pages.get(url.removeprefix("https://help.example.com"))
    assert response.status == 200
    page = await response.text()
    assert page.count('name="score"') == 11 and "<textarea" in page


async def test_the_page_records_the_answer_and_its_comment(db: Database, pages: Any) -> None:
    send = await _asked(db)
    path = f"/nps/{LINKS.token(send.id, 'nps')}"
    response = await pages.post(path, data={"score": "9", "comment": "<b>Great</b> team"})
    assert response.status == 200
    assert "You answered 9 out of 10" in await response.text()
    # A second answer changes the first; the timeline keeps one event.
    assert (await pages.post(path, data={"score": "10"})).status == 200
    row, events = await _row(db, send.id)
    assert (row.score, row.comment) == (10, "<b>Great</b> team") and row.answered_at is not None
    assert len(events) == 1 and events[0].data["score"] == 10
    assert events[0].data["via"] == "link" and events[0].conversation_id == send.conversation_id
    # The page shows the answer given, escaped where it echoes anything.
    assert "you answered 10" in await (await pages.get(path)).text()


@pytest.mark.parametrize("score", ["11", "-1", "", "nine", "9.5"])
async def test_a_score_out_of_range_is_a_clear_400(db: Database, pages: Any, score: str) -> None:
    send = await _asked(db)
    response = await pages.post(f"/nps/{LINKS.token(send.id, 'nps')}", data={"score": score})
    assert response.status == 400
    assert "from 0 to 10" in await response.text()
    row, events = await _row(db, send.id)
    assert row.score is None and events == []


async def test_forged_expired_or_foreign_tokens_are_refused(db: Database, pages: Any) -> None:
    send = await _asked(db)
    forged = SurveyLinks("not-our-secret", "x").token(send.id, "nps")
    csat_token = LINKS.token(send.id, "csat")  # a rating link's token is not an NPS one
    for token in (forged, csat_token, "garbage", LINKS.token(9999, "nps")):
        assert (await pages.get(f"/nps/{token}")).status == 404
        assert (await pages.post(f"/nps/{token}", data={"score": "9"})).status == 404
    expired = SurveyLinks("test-secret", "x", max_age_seconds=-1)
    assert expired.read(LINKS.token(send.id, "nps"), "nps") is None
    assert (await _row(db, send.id))[0].score is None


async def test_the_action_refuses_scores_outside_0_to_10(db: Database) -> None:
    send = await _asked(db)
    async with unit_of_work(db.sessionmaker) as session:
        row = await session.get_one(SurveySend, send.id)
        for bad in (11, -1, True):
            with pytest.raises(actions.ActionError):
                await actions.answer_nps(session, row, bad, via="reply")
        with pytest.raises(actions.ActionError):
            await actions.comment_on_nps(session, row, "no answer yet")


# -- on chat, through the real service --------------------------------------------------


@pytest.fixture
async def services(settings: Settings, db: object) -> AsyncIterator[Services]:
    settings.escalation.nps_enabled = True
    settings.escalation.reassign_after_minutes = None
    svc = Services(settings, workers=False)
    async with svc:
        yield svc


async def _say(svc: Services, channel: CaptureChannel, who: str, text: str) -> list[str]:
    before = len(channel.sent)
    await svc.on_message(
        InboundMessage(channel="webchat", sender_id=who, dedupe_key=uuid.uuid4().hex, text=text)
    )
    await svc.inbox.drain()
    return await _delivered(svc, channel, before)


async def _delivered(svc: Services, channel: CaptureChannel, before: int) -> list[str]:
    while await svc.outbox.dispatch_ready():
        pass
    sent: list[OutboundMessage] = channel.sent[before:]
    return [m.text for m in sent]


async def test_a_bare_number_on_chat_answers_and_the_next_message_comments(
    services: Services,
) -> None:
    channel = CaptureChannel("webchat")
    services.add_channel(channel)
    await _say(services, channel, "ana", "I want a human")
    async with unit_of_work(services.sessionmaker, services.bus) as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        await actions.resolve(session, conversation, Actor("Dana"), notify=False)
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None
        ticket.resolved_at = utcnow() - dt.timedelta(days=8)
    before = len(channel.sent)
    assert (
        await sweep_once(services.sessionmaker, services.bus, services.settings.escalation)
    ).surveyed == 1
    [question] = await _delivered(services, channel, before)
    assert "reply with a number from 0" in question.lower()

    assert await _say(services, channel, "ana", "9") == [Catalogue().nps_thanks()]
    assert await _say(services, channel, "ana", "Dana was quick") == [Catalogue().comment_thanks()]
    async with services.sessionmaker() as session:
        send = await session.scalar(select(SurveySend).where(SurveySend.kind == "nps"))
        events = (
            await session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "nps_answered"))
        ).all()
    assert send is not None and (send.score, send.comment) == (9, "Dana was quick")
    assert [(e.data["score"], e.data["via"]) for e in events] == [(9, "reply")]
    # Once answered and commented, a number is just a message again: not a second answer.
    await _say(services, channel, "ana", "7")
    async with services.sessionmaker() as session:
        again = await session.get_one(SurveySend, send.id)
    assert again.score == 9


async def test_a_number_with_no_question_before_it_is_no_answer(services: Services) -> None:
    channel = CaptureChannel("webchat")
    services.add_channel(channel)
    replies = await _say(services, channel, "bo", "9")
    assert replies and Catalogue().nps_thanks() not in replies
    async with services.sessionmaker() as session:
        assert (await session.scalars(select(SurveySend))).all() == []
