"""Who is asked for a survey, and when. One gate for every survey: a contact gets at
most one (CSAT or NPS) per ``escalation.survey_period_days``, and none once erased or
merged away. CSAT is asked on resolve (the helpdesk action consults ``SurveyThrottle``,
which the service puts in its sessions); the NPS survey is sent by a sweep
``nps_after_days`` after a resolution, when the gate lets it; a ticket waits at most a
period more for it. A customer's reply to the NPS question on a chat channel (a bare
0-10) is read here as the answer, and the message after it, soon enough, as a comment.

What is sent and recorded goes through helpdesk actions (``ask_nps``, ``answer_nps``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.config import EscalationSettings
from omnidesk.helpdesk import (
    Conversation,
    ConversationState,
    Ticket,
    TicketState,
    actions,
    utcnow,
)
from omnidesk.helpdesk.catalogue import catalogue_of
from omnidesk.helpdesk.models import Author, ChannelIdentity, Contact, Message, SurveySend

CSAT = "csat"
NPS = "nps"
BATCH = 100
# Conversation states where no person is at work on it: a survey may go in.
AT_REST = frozenset({ConversationState.BOT, ConversationState.RESOLVED, ConversationState.CLOSED})
_NPS_REPLY = re.compile(r"^\s*(10|[0-9])\s*(?:/\s*10|out of 10)?\s*[.!]?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SurveyThrottle:
    """The gate the service gives helpdesk actions (``actions.SurveyGate``)."""

    settings: EscalationSettings

    async def __call__(self, session: AsyncSession, conversation: Conversation, kind: str) -> bool:
        return await may_survey(session, conversation, kind, self.settings)


async def may_survey(
    session: AsyncSession,
    conversation: Conversation,
    kind: str,
    settings: EscalationSettings,
    now: dt.datetime | None = None,
) -> bool:
    """Whether the conversation's contact may be asked a ``kind`` survey now: NPS only
    when it is on; nobody who was erased or merged away (no contact, or the channel
    identity gone); nobody asked any survey within the period."""
    if kind == NPS and not settings.nps_enabled:
        return False
    # Locked on PostgreSQL, so two resolutions at once cannot both pass the gate.
    contact = await session.scalar(
        select(Contact).where(Contact.id == conversation.contact_id).with_for_update()
    )
    identity = await session.get(ChannelIdentity, conversation.identity_id)
    if contact is None or identity is None or identity.contact_id != contact.id:
        return False
    if settings.survey_period_days <= 0:
        return True
    since = (now or utcnow()) - dt.timedelta(days=settings.survey_period_days)
    recent = await session.scalar(
        select(SurveySend.id)
        .where(SurveySend.contact_id == contact.id, SurveySend.sent_at > since)
        .limit(1)
    )
    return recent is None


async def sweep_nps(session: AsyncSession, settings: EscalationSettings, now: dt.datetime) -> int:
    """Send the NPS survey for tickets resolved ``nps_after_days`` ago (or up to a period
    before, if the throttle held them), one per contact, each ticket at most once.
    Returns how many were sent."""
    if not settings.nps_enabled:
        return 0
    newest = now - dt.timedelta(days=settings.nps_after_days)
    oldest = newest - dt.timedelta(days=max(settings.survey_period_days, 1.0))
    surveyed = exists(
        select(SurveySend.id).where(SurveySend.ticket_id == Ticket.id, SurveySend.kind == NPS)
    )
    stmt = select(Ticket).where(
        Ticket.state.in_([TicketState.RESOLVED, TicketState.CLOSED]),
        Ticket.resolved_at > oldest,
        Ticket.resolved_at <= newest,
        ~surveyed,
    )
    if settings.survey_period_days > 0:
        # Contacts the throttle holds are left out here, so they never crowd the batch.
        since = now - dt.timedelta(days=settings.survey_period_days)
        stmt = stmt.where(
            ~exists(
                select(SurveySend.id).where(
                    SurveySend.contact_id == Ticket.contact_id, SurveySend.sent_at > since
                )
            )
        )
    tickets = (
        await session.scalars(
            stmt.order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    sent = 0
    for ticket in tickets:
        conversation = await session.get(Conversation, ticket.conversation_id)
        # Never into a conversation a person is working on again: a later sweep asks
        # once it is resolved. The newest ticket of a contact goes first; the gate then
        # holds the others.
        if conversation is None or conversation.state not in AT_REST:
            continue
        if not await may_survey(session, conversation, NPS, settings, now):
            continue
        await actions.ask_nps(session, conversation, ticket, at=now)
        sent += 1
    return sent


@dataclass(frozen=True, slots=True)
class NpsReply:
    """A customer's message read as an NPS answer or its comment: what to tell them."""

    text: str
    payload: dict[str, Any]


async def nps_turn(
    session: AsyncSession,
    conversation: Conversation,
    *,
    text: str,
    action: str | None,
    settings: EscalationSettings,
    now: dt.datetime,
) -> NpsReply | None:
    """The customer's message after our NPS question: a bare 0-10 is the answer; after
    the answer, free text within ``csat_comment_minutes`` is its comment. Only the
    message that follows the question (nothing said to the customer in between) counts,
    on whichever of their conversations it arrives. None when it is neither."""
    if action or not settings.nps_enabled or not text.strip():
        return None
    asked = await _last_asked(session, conversation.contact_id)
    if asked is None:
        return None
    send, step = asked
    catalogue = catalogue_of(session)
    if step == "comment":
        answered = send.answered_at
        window = dt.timedelta(minutes=settings.csat_comment_minutes)
        if answered is None or now - answered > window:
            return None
        await actions.comment_on_nps(session, send, text)
        return NpsReply(catalogue.comment_thanks(), {})
    if now - send.sent_at > dt.timedelta(days=settings.csat_link_days):
        return None
    first = next((line for line in text.splitlines() if line.strip()), "")
    match = _NPS_REPLY.match(first)
    if match is None:
        return None
    await actions.answer_nps(session, send, int(match.group(1)), via="reply")
    return NpsReply(catalogue.nps_thanks(), {"nps": {"survey_id": send.id, "step": "comment"}})


async def _last_asked(session: AsyncSession, contact_id: int) -> tuple[SurveySend, str] | None:
    """The NPS survey the last message said to the contact belongs to (the question, or
    the thanks that invites a comment), and which of the two it was."""
    last = await session.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.contact_id == contact_id,
            Message.author != Author.CONTACT,
            Message.private.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    marker = (last.payload or {}).get("nps") if last is not None else None
    if not isinstance(marker, dict) or not isinstance(marker.get("survey_id"), int):
        return None
    send = await session.get(SurveySend, marker["survey_id"])
    if send is None or send.contact_id != contact_id or send.kind != NPS:
        return None
    return send, "comment" if marker.get("step") == "comment" else "answer"
