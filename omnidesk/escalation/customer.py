"""What the customer is told, and what their replies mean, around a handoff and a
resolution: when a person will answer (business hours, the SLA's first-response target),
the web chat's "leave your email", a rating and its comment, and a reply within the
reopen window that reopens the same ticket with the person who had it.

The router asks; this decides and writes through helpdesk actions; the router sends
the returned ``Notice`` on the customer's channel.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.config import EscalationSettings
from omnidesk.escalation.hours import is_open, next_open
from omnidesk.escalation.sla import start_sla, targets_for
from omnidesk.escalation.surveys import nps_turn
from omnidesk.helpdesk import actions, utcnow
from omnidesk.helpdesk.catalogue import CSAT_PREFIX, EMAIL_PROMPT, catalogue_of
from omnidesk.helpdesk.models import (
    Author,
    Contact,
    Conversation,
    ConversationState,
    Message,
    Ticket,
)
from omnidesk.messages import Action

# The channel where a visitor may leave an email address (``WebchatChannel.name``).
WEBCHAT = "webchat"
# Of all buttons, only "talk to a person" reopens a resolved ticket; an old answer's
# buttons do not.
HUMAN_ACTION = str(Action.HUMAN)
_DIGIT = re.compile(r"^\s*([1-5])\s*(?:/\s*5|out of 5|stars?)?\s*[.!]?\s*$", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
MAX_EMAIL_REPLY_CHARS = 200


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for the customer: its text, buttons and payload marks."""

    text: str
    buttons: tuple[dict[str, str], ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a customer's turn meant here: ``handled`` ends the turn (the router's other
    handlers do not run); ``notice`` is what to tell the customer, if anything."""

    handled: bool
    notice: Notice | None = None


async def handoff_notice(
    session: AsyncSession,
    conversation: Conversation,
    ticket: Ticket | None,
    *,
    reason: str,
    now: dt.datetime | None = None,
) -> Notice:
    """What the customer is told on handoff: why, and when a person will answer (the
    ticket's SLA target inside the team's business hours, else when the team is back)."""
    now = now or utcnow()
    catalogue = catalogue_of(session)
    lead = catalogue.handoff(reason)
    priority = ticket.priority if ticket else conversation.priority
    targets = await targets_for(session, priority, conversation.team_id)
    calendar = targets.calendar
    if is_open(calendar, now):
        # Assigned at once (automatic assignment): the customer learns who.
        who = conversation.assignee if conversation.state == ConversationState.ASSIGNED else None
        return Notice(f"{lead} {catalogue.answer_soon(targets.first_response_minutes, who)}")
    back = next_open(calendar, now).astimezone(calendar.zone)
    text = f"{lead} {catalogue.answer_when_back(back, calendar.zone.key, now)}"
    if conversation.channel == WEBCHAT:
        contact = await session.get_one(Contact, conversation.contact_id)
        if not contact.email:
            return Notice(f"{text} {catalogue.leave_email()}", payload={"prompt": EMAIL_PROMPT})
    return Notice(text)


async def customer_turn(
    session: AsyncSession,
    conversation: Conversation,
    *,
    text: str,
    action: str | None,
    automated: bool,
    settings: EscalationSettings,
    now: dt.datetime | None = None,
) -> Outcome:
    """Read a customer's message (already recorded) against where the conversation is:
    an NPS answer or its comment, a rating, a rating's comment, an email address asked
    for, a reopen, or nothing.

    Machine mail (auto-replies, bounces) never rates and never reopens.
    """
    if automated:
        return Outcome(False)
    now = now or utcnow()
    catalogue = catalogue_of(session)
    nps = await nps_turn(
        session, conversation, text=text, action=action, settings=settings, now=now
    )
    if nps is not None:
        return Outcome(True, Notice(nps.text, payload=nps.payload))
    score = _score(text, action, conversation)
    if score is not None:
        ticket = await actions.rated_ticket(session, conversation)
        if ticket is not None:
            await actions.rate(session, ticket, score, via="button" if action else "reply")
            return Outcome(True, Notice(catalogue.csat_thanks()))
    if conversation.state == ConversationState.RESOLVED:
        return await _after_resolution(session, conversation, text, action, settings, now)
    if not action and conversation.state != ConversationState.BOT:
        email = await _email_reply(session, conversation, text)
        if email is not None:
            contact = await session.get_one(Contact, conversation.contact_id)
            await actions.set_contact_email(session, contact, email, channel=conversation.channel)
            return Outcome(True, Notice(catalogue.email_saved(email)))
    return Outcome(False)


async def _after_resolution(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    action: str | None,
    settings: EscalationSettings,
    now: dt.datetime,
) -> Outcome:
    catalogue = catalogue_of(session)
    ticket = await actions.rated_ticket(session, conversation)
    if ticket is not None and not action and text.strip() and _comment_due(ticket, settings, now):
        await actions.comment_on_rating(session, ticket, text)
        return Outcome(True, Notice(catalogue.comment_thanks()))
    if action and action != HUMAN_ACTION:
        return Outcome(False)
    window = dt.timedelta(hours=settings.reopen_window_hours)
    if ticket is not None and ticket.resolved_at is not None and now - ticket.resolved_at <= window:
        await actions.reopen_ticket(session, conversation, ticket)
        # The SLA clock starts again: the old resolution target has long passed.
        await start_sla(session, ticket, at=now)
        return Outcome(True, Notice(catalogue.reopened(ticket.id, conversation.assignee)))
    # Past the window: the bot takes it again; a later handoff opens a new ticket.
    await actions.reopen(session, conversation)
    return Outcome(False)


def _score(text: str, action: str | None, conversation: Conversation) -> int | None:
    """A rating: a rating button anywhere, or a bare digit replied to a resolution."""
    if action:
        if action.startswith(CSAT_PREFIX) and action.removeprefix(CSAT_PREFIX).isdigit():
            value = int(action.removeprefix(CSAT_PREFIX))
            return value if 1 <= value <= 5 else None
        return None
    if conversation.state != ConversationState.RESOLVED:
        return None
    first = next((line for line in text.splitlines() if line.strip()), "")
    match = _DIGIT.match(first)
    return int(match.group(1)) if match else None


def _comment_due(ticket: Ticket, settings: EscalationSettings, now: dt.datetime) -> bool:
    if ticket.csat_at is None or ticket.csat_comment:
        return False
    return now - ticket.csat_at <= dt.timedelta(minutes=settings.csat_comment_minutes)


async def _email_reply(session: AsyncSession, conversation: Conversation, text: str) -> str | None:
    """The address in a short reply to our "leave your email" prompt, if it is one."""
    if len(text) > MAX_EMAIL_REPLY_CHARS:
        return None
    found = _EMAIL.search(text)
    if found is None:
        return None
    last = await session.scalar(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.author != Author.CONTACT,
            Message.private.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    if last is None or (last.payload or {}).get("prompt") != EMAIL_PROMPT:
        return None
    return found.group(0)
