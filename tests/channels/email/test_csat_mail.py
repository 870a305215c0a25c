"""Ratings by email, through the whole service: the resolution mail carries the question
and signed links; a reply with a digit rates the ticket, a link does too, and machine
mail (the null reverse path of a bounce) never rates."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sqlalchemy import select

from omnidesk.helpdesk import Actor, Conversation, Ticket, actions, unit_of_work
from tests.channels.email.conftest import Desk, fixture_mail

QUESTION = "thunderbird_question.eml"


def plain(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def _resolved_by_email(desk: Desk) -> EmailMessage:
    assert (await desk.send(fixture_mail(QUESTION)))[0] == 250
    await desk.process()
    (conversation,) = await desk.conversations()
    async with unit_of_work(desk.services.sessionmaker, desk.services.bus) as session:
        conv = await session.get_one(Conversation, conversation.id)
        await actions.escalate(session, conv, reason="customer_request", subject="Password")
        await actions.agent_reply(session, conv, Actor("Dana"), "I've reset it for you.")
        await actions.resolve(session, conv, Actor("Dana"))
    caught = await desk.process()
    caught += await desk.process()  # one mail per conversation at a time, in order
    *_, last = caught
    return last.message


def _reply(to: EmailMessage, text: str, message_id: str) -> bytes:
    ours = str(to["Message-ID"]).strip()
    return fixture_mail(
        "gmail_reply.eml", message_id=f"<{message_id}>", in_reply_to=ours, references=ours
    ).replace(
        b"Thanks, that worked! How do I change the email address on my account?", text.encode()
    )


async def _ticket(desk: Desk) -> Ticket:
    async with desk.services.sessionmaker() as session:
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None
        return ticket


async def test_resolution_mail_asks_for_a_rating_and_a_digit_reply_rates(desk: Desk) -> None:
    mail = await _resolved_by_email(desk)
    text = plain(mail)
    assert "marked as resolved" in text and "Reply with a number from 1" in text
    links = re.findall(r"<(http://[^>]+/csat/[^>]+\?score=\d)>", text)
    assert [link[-1] for link in links] == ["1", "2", "3", "4", "5"]

    assert (await desk.send(_reply(mail, "4", "rate-1@mail.gmail.com")))[0] == 250
    (thanks,) = await desk.process()
    assert "Thank you for rating us" in plain(thanks.message)
    ticket = await _ticket(desk)
    assert ticket.csat_score == 4


async def test_a_bounce_never_rates(desk: Desk) -> None:
    mail = await _resolved_by_email(desk)
    raw = _reply(mail, "5", "bounce-rate@mail.gmail.com")
    assert (await desk.send(raw, mail_from=""))[0] == 250
    assert await desk.process() == []
    ticket = await _ticket(desk)
    assert ticket.csat_score is None
