"""What the customer is told on handoff (business hours, SLA, leave your email), and
what their replies mean after resolution: a rating, its comment, a reopen of the same
ticket within the window, the bot again after it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from omnidesk.channels import Action
from omnidesk.config import EscalationSettings
from omnidesk.escalation import customer_turn, handoff_notice
from omnidesk.escalation.customer import HUMAN_ACTION
from omnidesk.helpdesk import (
    Actor,
    Author,
    Contact,
    Conversation,
    ConversationState,
    Ticket,
    TicketState,
    TimelineEvent,
    actions,
    unit_of_work,
)
from omnidesk.helpdesk.catalogue import EMAIL_PROMPT, Catalogue, duration, when
from omnidesk.helpdesk.models import BusinessCalendar, SlaPolicy, Team
from tests.conftest import Database

AMS = ZoneInfo("Europe/Amsterdam")
# Weekdays 09:00-12:00 and 13:00-17:00 in Amsterdam; 25 December off.
WEEKLY = {d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
SETTINGS = EscalationSettings(reopen_window_hours=72, csat_comment_minutes=30)


def calendar(**kw: object) -> BusinessCalendar:
    values: dict[str, object] = {
        "name": "default",
        "timezone": "Europe/Amsterdam",
        "weekly": WEEKLY,
        "holidays": ["2026-12-25"],
    }
    values.update(kw)
    return BusinessCalendar(**values)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def test_phrasing() -> None:
    now = local(2026, 12, 4, 18, 0)
    assert when(local(2026, 12, 4, 19, 0), now) == "today at 19:00"
    assert when(local(2026, 12, 5, 9, 0), now) == "tomorrow at 09:00"
    assert when(local(2026, 12, 7, 9, 0), now) == "on Monday 7 December at 09:00"
    assert [duration(m) for m in (1, 45, 60, 120, 90, 24 * 60, 3 * 24 * 60)] == [
        "1 minute",
        "45 minutes",
        "1 hour",
        "2 hours",
        "2 hours",
        "24 hours",
        "3 days",
    ]


async def _escalated(db: Database, channel: str = "webchat", email: str | None = None) -> int:
    async with unit_of_work(db.sessionmaker) as session:
        identity = await actions.resolve_identity(session, channel, "v1", name="Ana", email=email)
        conversation = await actions.current_conversation(session, identity)
        await actions.record_message(session, conversation, Author.CONTACT, "I want a human")
        await actions.escalate(session, conversation, reason="customer_request", subject="help")
        return conversation.id


async def test_inside_hours_a_person_replies_shortly_with_the_sla_target(db: Database) -> None:
    conversation_id = await _escalated(db)
    async with unit_of_work(db.sessionmaker) as session:
        cal = calendar()
        session.add(cal)
        await session.flush()
        session.add(
            SlaPolicy(
                priority="normal",
                first_response_minutes=120,
                resolution_minutes=960,
                calendar_id=cal.id,
            )
        )
        conversation = await session.get_one(Conversation, conversation_id)
        ticket = await actions.open_ticket(session, conversation_id)
        notice = await handoff_notice(
            session, conversation, ticket, reason="customer_request", now=local(2026, 12, 1, 10)
        )
    assert notice.text == (
        "I've passed your conversation to our support team. A person will reply here "
        "shortly; we aim to answer within 2 hours."
    )
    assert notice.payload == {}


async def test_outside_hours_says_when_the_team_is_back_and_asks_for_an_email(
    db: Database,
) -> None:
    conversation_id = await _escalated(db)
    async with unit_of_work(db.sessionmaker) as session:
        team_cal = calendar(name="emea", timezone="Europe/London")
        session.add(team_cal)
        await session.flush()
        team = Team(name="EMEA", calendar_id=team_cal.id)
        session.add(team)
        await session.flush()
        conversation = await session.get_one(Conversation, conversation_id)
        conversation.team_id = team.id
        ticket = await actions.open_ticket(session, conversation_id)
        now = dt.datetime(2026, 12, 4, 19, 0, tzinfo=dt.UTC)  # Friday evening
        notice = await handoff_notice(
            session, conversation, ticket, reason="low_confidence", now=now
        )
    assert notice.text.startswith("I couldn't find a good answer to that")
    assert "back on Monday 7 December at 09:00 (Europe/London)" in notice.text
    assert Catalogue().leave_email() in notice.text
    assert notice.payload == {"prompt": EMAIL_PROMPT}


async def test_outside_hours_no_email_prompt_when_known_or_not_web_chat(db: Database) -> None:
    known = await _escalated(db, email="ana@example.com")
    async with unit_of_work(db.sessionmaker) as session:
        sundays = calendar(weekly={"sun": [["09:00", "10:00"]]})
        session.add(sundays)
        await session.flush()
        team = Team(name="Weekend", calendar_id=sundays.id)
        session.add(team)
        await session.flush()
        conversation = await session.get_one(Conversation, known)
        conversation.team_id = team.id
        notice = await handoff_notice(
            session, conversation, None, reason="customer_request", now=local(2026, 12, 1, 10)
        )
    assert "Sunday 6 December at 09:00 (Europe/Amsterdam)" in notice.text
    assert notice.payload == {}


async def test_email_left_after_the_prompt_is_stored_on_the_contact(db: Database) -> None:
    conversation_id = await _escalated(db)
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(Conversation, conversation_id)
        # Not after the prompt: an address in a message is just text.
        outcome = await customer_turn(
            session,
            conversation,
            text="ana@example.com",
            action=None,
            automated=False,
            settings=SETTINGS,
        )
        assert not outcome.handled
        await actions.reply(
            session, conversation, Author.SYSTEM, "away", payload={"prompt": EMAIL_PROMPT}
        )
        outcome = await customer_turn(
            session,
            conversation,
            text="sure, it's Ana.Doe@Example.com",
            action=None,
            automated=False,
            settings=SETTINGS,
        )
        assert outcome.handled and outcome.notice is not None
        assert "Ana.Doe@Example.com" in outcome.notice.text
        contact = await session.get_one(Contact, conversation.contact_id)
        assert contact.email == "ana.doe@example.com"
        kinds = (await session.scalars(select(TimelineEvent.kind))).all()
        assert "email_left" in kinds


async def _resolved(db: Database, *, assignee: str | None = "Dana") -> int:
    conversation_id = await _escalated(db)
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(Conversation, conversation_id)
        if assignee:
            await actions.agent_reply(session, conversation, Actor(assignee), "Fixed it.")
        await actions.resolve(session, conversation, Actor(assignee or "Dana"))
    return conversation_id


async def _turn(
    db: Database,
    conversation_id: int,
    text: str = "",
    action: str | None = None,
    *,
    automated: bool = False,
    now: dt.datetime | None = None,
    settings: EscalationSettings = SETTINGS,
) -> tuple[bool, str | None]:
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(Conversation, conversation_id)
        await actions.record_message(session, conversation, Author.CONTACT, text)
        outcome = await customer_turn(
            session,
            conversation,
            text=text,
            action=action,
            automated=automated,
            settings=settings,
            now=now,
        )
        return outcome.handled, outcome.notice.text if outcome.notice else None


async def _ticket(db: Database) -> Ticket:
    async with db.sessionmaker() as session:
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None
        return ticket


async def test_rating_then_comment_then_a_second_rating_updates(db: Database) -> None:
    conversation_id = await _resolved(db)
    handled, said = await _turn(db, conversation_id, "4", "csat:4")
    assert handled and said == Catalogue().csat_thanks()
    handled, said = await _turn(db, conversation_id, "Quick and friendly, thanks!")
    assert handled and said == Catalogue().comment_thanks()
    # A rating replied as a bare digit (an email reply) counts too, and updates.
    handled, _ = await _turn(db, conversation_id, "5\n\nOn Tue, Support wrote:\n> How did we do?")
    assert handled
    ticket = await _ticket(db)
    assert (ticket.csat_score, ticket.csat_comment) == (5, "Quick and friendly, thanks!")
    assert ticket.state == TicketState.RESOLVED and ticket.reopen_count == 0
    async with db.sessionmaker() as session:
        events = (
            await session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "csat"))
        ).all()
        conversation = await session.get_one(Conversation, conversation_id)
    assert len(events) == 1
    assert events[0].data["score"] == 5 and events[0].data["comment"] == ticket.csat_comment
    assert conversation.state == ConversationState.RESOLVED


def test_the_human_button_payload_matches_the_channels_action() -> None:
    assert HUMAN_ACTION == Action.HUMAN


async def test_an_old_answer_button_does_not_reopen_but_talk_to_a_person_does(
    db: Database,
) -> None:
    conversation_id = await _resolved(db)
    handled, _ = await _turn(db, conversation_id, "Helpful", "feedback:helpful")
    assert not handled
    assert (await _ticket(db)).state == TicketState.RESOLVED
    handled, _ = await _turn(db, conversation_id, "Talk to a person", HUMAN_ACTION)
    assert handled
    assert (await _ticket(db)).state == TicketState.OPEN


async def test_machine_mail_never_rates_nor_reopens(db: Database) -> None:
    conversation_id = await _resolved(db)
    handled, _ = await _turn(db, conversation_id, "5", automated=True)
    assert not handled
    ticket = await _ticket(db)
    assert ticket.csat_score is None and ticket.state == TicketState.RESOLVED


async def test_reply_within_the_window_reopens_the_same_ticket_with_its_person(
    db: Database,
) -> None:
    conversation_id = await _resolved(db)
    handled, said = await _turn(db, conversation_id, "It broke again")
    assert handled and said is not None and "Dana will reply here" in said
    ticket = await _ticket(db)
    assert ticket.state == TicketState.OPEN and ticket.reopen_count == 1
    assert ticket.reopened_at is not None and ticket.resolved_at is None
    # The SLA clock restarts from the reopening: no instant breach of an old target.
    assert ticket.resolution_due_at is not None
    assert ticket.resolution_due_at > ticket.reopened_at
    async with db.sessionmaker() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        assert (conversation.state, conversation.assignee) == (ConversationState.ASSIGNED, "Dana")
        assert await session.scalar(select(Ticket.id).where(Ticket.id != ticket.id)) is None
        reopened = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "reopened")
        )
        assert reopened is not None and reopened.data["reopen_count"] == 1


async def test_reply_within_the_window_goes_back_to_the_queue_when_nobody_had_it(
    db: Database,
) -> None:
    conversation_id = await _resolved(db, assignee=None)
    handled, _ = await _turn(db, conversation_id, "Still there?")
    assert handled
    async with db.sessionmaker() as session:
        conversation = await session.get_one(Conversation, conversation_id)
    assert conversation.state == ConversationState.QUEUED


async def test_a_late_comment_reopens_and_after_the_window_the_bot_takes_over(
    db: Database,
) -> None:
    conversation_id = await _resolved(db)
    await _turn(db, conversation_id, "3", "csat:3")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    handled, _ = await _turn(db, conversation_id, "one more thing", now=later)
    assert handled  # past the comment window: it reopens the ticket
    assert (await _ticket(db)).csat_comment is None

    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(Conversation, conversation_id)
        await actions.resolve(session, conversation, Actor("Dana"))
    much_later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=73)
    handled, _ = await _turn(db, conversation_id, "new question", now=much_later)
    assert not handled
    async with db.sessionmaker() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        ticket = await session.scalar(select(Ticket))
    assert conversation.state == ConversationState.BOT
    assert ticket is not None and ticket.state == TicketState.RESOLVED


async def test_resolve_tells_the_customer_and_asks_for_a_rating(db: Database) -> None:
    conversation_id = await _resolved(db)
    async with db.sessionmaker() as session:
        from omnidesk.helpdesk import OutboxItem

        payloads = [
            item.payload
            for item in (
                await session.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.conversation_id == conversation_id)
                    .order_by(OutboxItem.id)
                )
            ).all()
        ]
    resolved, question = payloads[-2:]
    assert "marked as resolved" in resolved["text"]
    assert question["text"] == Catalogue().csat_question(by_email=False)
    assert [b["payload"] for b in question["buttons"]] == [f"csat:{n}" for n in range(1, 6)]
    assert all(b.get("url") is None for b in question["buttons"])


async def test_assigned_at_once_the_customer_learns_who(db: Database) -> None:
    conversation_id = await _escalated(db)
    async with unit_of_work(db.sessionmaker) as session:
        conversation = await session.get_one(Conversation, conversation_id)
        await actions.assign(session, conversation, Actor("Dana", agent_id=None))
        notice = await handoff_notice(session, conversation, None, reason="customer_request")
    # Inside the default hours (around the clock), with the default normal-priority target.
    assert notice.text.endswith("Dana will reply here shortly; we aim to answer within 4 hours.")
