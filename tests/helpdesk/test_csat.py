"""Ratings: the question on resolve (buttons, or links on email), the signed links and
their pages, one "csat" timeline event per ticket however often it is rated."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from omnidesk.channels import Action, OutboundMessage
from omnidesk.helpdesk import (
    Actor,
    Author,
    Conversation,
    EventBus,
    OutboxItem,
    Ticket,
    TimelineEvent,
    actions,
    queries,
    unit_of_work,
)
from omnidesk.helpdesk.catalogue import CATALOGUE_KEY, CSAT_PREFIX, Catalogue
from omnidesk.helpdesk.survey import SURVEY_KEY, SurveyLinks
from omnidesk.helpdesk.survey_pages import SurveyPages
from tests.conftest import Database

LINKS = SurveyLinks("test-secret", "https://help.example.com/")


def test_rating_payload_matches_the_channels_action() -> None:
    assert CSAT_PREFIX == Action.CSAT_PREFIX


def test_links_are_signed_and_expire() -> None:
    url = LINKS.url(42, 5)
    assert url.startswith("https://help.example.com/csat/") and url.endswith("?score=5")
    token = url.removeprefix("https://help.example.com/csat/").split("?")[0]
    assert LINKS.ticket_of(token) == 42
    assert SurveyLinks("another-secret", "x").ticket_of(token) is None
    assert LINKS.ticket_of(token[:-2] + "xx") is None
    assert LINKS.ticket_of("garbage") is None
    expired = SurveyLinks("test-secret", "x", max_age_seconds=-1)
    assert expired.ticket_of(token) is None


def test_email_renders_rating_buttons_as_links() -> None:
    message = OutboundMessage.from_dict(
        {
            "channel": "email",
            "recipient_id": "ana@example.com",
            "conversation_id": 1,
            "message_id": 1,
            "text": "How did we do?",
            "buttons": [{"label": "5", "payload": "csat:5", "url": "https://x/csat/t?score=5"}],
        }
    )
    assert message.as_plain_text() == "How did we do?\n\n- 5 <https://x/csat/t?score=5>"


async def _resolved(db: Database, channel: str, *, links: SurveyLinks | None = None) -> Ticket:
    async with unit_of_work(db.sessionmaker) as session:
        session.info[CATALOGUE_KEY] = Catalogue(bot_name="Nova")
        if links:
            session.info[SURVEY_KEY] = links
        identity = await actions.resolve_identity(session, channel, "ana@example.com")
        conversation = await actions.current_conversation(session, identity)
        await actions.record_message(session, conversation, Author.CONTACT, "help")
        await actions.escalate(session, conversation, reason="customer_request", subject="help")
        await actions.agent_reply(session, conversation, Actor("Dana"), "Done.")
        await actions.resolve(session, conversation, Actor("Dana"))
    async with db.sessionmaker() as session:
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None
        return ticket


async def _question(db: Database) -> dict[str, Any]:
    async with db.sessionmaker() as session:
        item = await session.scalar(select(OutboxItem).order_by(OutboxItem.id.desc()).limit(1))
        assert item is not None
        return item.payload


async def test_email_gets_a_digit_prompt_and_signed_links(db: Database) -> None:
    ticket = await _resolved(db, "email", links=LINKS)
    question = await _question(db)
    # One email carries the news and the question.
    assert "marked as resolved" in question["text"]
    assert question["text"].endswith(Catalogue().csat_question(by_email=True))
    urls = [b["url"] for b in question["buttons"]]
    assert len(urls) == 5 and urls[0].endswith("?score=1")
    token = urls[0].removeprefix("https://help.example.com/csat/").split("?")[0]
    assert LINKS.ticket_of(token) == ticket.id


async def test_without_a_link_signer_email_still_asks_for_a_digit(db: Database) -> None:
    await _resolved(db, "email")
    question = await _question(db)
    assert "Reply with a number" in question["text"]
    assert all(b.get("url") is None for b in question["buttons"])


async def test_a_rating_out_of_range_is_refused(db: Database) -> None:
    ticket = await _resolved(db, "webchat")
    async with unit_of_work(db.sessionmaker) as session:
        row = await session.get_one(Ticket, ticket.id)
        with pytest.raises(actions.ActionError):
            await actions.rate(session, row, 6, via="button")
        with pytest.raises(actions.ActionError):
            await actions.comment_on_rating(session, row, "no rating yet")


async def test_the_rating_is_on_the_ticket_the_api_shows(db: Database) -> None:
    ticket = await _resolved(db, "webchat")
    async with unit_of_work(db.sessionmaker) as session:
        row = await session.get_one(Ticket, ticket.id)
        await actions.rate(session, row, 4, via="button")
        await actions.comment_on_rating(session, row, "Quick, thanks")
    async with db.sessionmaker() as session:
        conversation = await session.get_one(Conversation, ticket.conversation_id)
        summary = await queries.conversation_summary(session, conversation)
    shown = summary["ticket"]
    assert (shown["id"], shown["csat_score"], shown["csat_comment"]) == (
        ticket.id,
        4,
        "Quick, thanks",
    )
    assert shown["csat_at"] is not None


@pytest.fixture
async def pages(aiohttp_client: Any, db: Database) -> Any:
    app = web.Application()
    app.router.add_routes(SurveyPages(db.sessionmaker, EventBus(), LINKS, Catalogue()).routes())
    return await aiohttp_client(app)


def _path(url: str) -> str:
    return url.removeprefix("https://help.example.com")


async def test_link_records_the_rating_and_takes_a_comment(db: Database, pages: Any) -> None:
    ticket = await _resolved(db, "email", links=LINKS)
    urls = [b["url"] for b in (await _question(db))["buttons"]]
    response = await pages.get(_path(urls[1]))
    assert response.status == 200
    page = await response.text()
    assert "You rated us 2 out of 5" in page and "<form" in page
    # Clicking another score updates the same rating.
    assert (await pages.get(_path(urls[3]))).status == 200
    token_path = _path(urls[3]).split("?")[0]
    response = await pages.post(token_path, data={"comment": "<b>Slow</b> but fine"})
    assert response.status == 200
    async with db.sessionmaker() as session:
        row = await session.get_one(Ticket, ticket.id)
        events = (
            await session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "csat"))
        ).all()
    assert (row.csat_score, row.csat_comment) == (4, "<b>Slow</b> but fine")
    assert row.csat_at is not None
    assert len(events) == 1 and events[0].data["score"] == 4 and events[0].data["via"] == "link"


@pytest.mark.parametrize("query", ["?score=9", "?score=", "", "?score=abc"])
async def test_link_with_a_bad_score_is_a_clear_400(db: Database, pages: Any, query: str) -> None:
    ticket = await _resolved(db, "email", links=LINKS)
    response = await pages.get(f"/csat/{LINKS.token(ticket.id)}{query}")
    assert response.status == 400
    assert "score must be 1 to 5" in await response.text()


async def test_forged_or_unknown_links_are_404(db: Database, pages: Any) -> None:
    forged = SurveyLinks("not-our-secret", "x").token(1)
    assert (await pages.get(f"/csat/{forged}?score=5")).status == 404
    assert (await pages.get(f"/csat/{LINKS.token(999)}?score=5")).status == 404
    assert (await pages.post(f"/csat/{forged}", data={"comment": "x"})).status == 404


async def test_comment_before_a_rating_is_refused(db: Database, pages: Any) -> None:
    ticket = await _resolved(db, "email", links=LINKS)
    response = await pages.post(f"/csat/{LINKS.token(ticket.id)}", data={"comment": "hi"})
    assert response.status == 409
