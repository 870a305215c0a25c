"""Surveys asked and answered. Every survey asked of a customer (the CSAT question on
resolve, the NPS question days later) is one ``survey_sends`` row: the throttle in
``escalation.surveys`` reads them, and reports count them. The NPS question goes out on
the customer's own channel; its 0-10 answer and optional comment are kept on the row and
as one "nps_answered" timeline event per survey (a second answer updates both).

Who is asked, and when, is not decided here: the service puts its gate (escalation's)
in the session's ``info`` under ``SURVEY_GATE_KEY``, and ``may_ask`` consults it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, iso
from omnidesk.helpdesk.actions.messages import reply
from omnidesk.helpdesk.catalogue import catalogue_of
from omnidesk.helpdesk.models import Author, Conversation, SurveySend, Ticket, TimelineEvent
from omnidesk.helpdesk.survey import survey_links

SURVEY_GATE_KEY = "omnidesk.survey_gate"
CSAT = "csat"
NPS = "nps"
NPS_SCORES = range(11)
NPS_ANSWERED = "nps_answered"
MAX_COMMENT_CHARS = 2000
# Channels where the NPS question carries a link to its page (no reply-with-a-digit
# habit there is as easy as a page with eleven buttons).
LINK_CHANNELS = frozenset({"email"})


class SurveyGate(Protocol):
    """Decides whether a survey of ``kind`` may be asked of the conversation's contact."""

    async def __call__(
        self, session: AsyncSession, conversation: Conversation, kind: str
    ) -> bool: ...


async def may_ask(session: AsyncSession, conversation: Conversation, kind: str) -> bool:
    """Whether the service's gate lets ``kind`` be asked now; with no gate configured
    (bare tests and tools) a survey is always asked, as before throttling existed."""
    gate = session.info.get(SURVEY_GATE_KEY)
    return True if gate is None else bool(await gate(session, conversation, kind))


async def record_survey_send(
    session: AsyncSession,
    conversation: Conversation,
    kind: str,
    ticket_id: int | None,
    *,
    at: dt.datetime | None = None,
) -> SurveySend:
    """Note that ``kind`` was asked of the conversation's contact (flushed: it has an id)."""
    send = SurveySend(
        contact_id=conversation.contact_id,
        kind=kind,
        ticket_id=ticket_id,
        conversation_id=conversation.id,
        sent_at=at or utcnow(),
    )
    session.add(send)
    await session.flush()
    return send


async def csat_answered(session: AsyncSession, ticket: Ticket) -> None:
    """Copy a ticket's rating onto the CSAT survey that asked for it, if one did."""
    send = await session.scalar(
        select(SurveySend)
        .where(SurveySend.ticket_id == ticket.id, SurveySend.kind == CSAT)
        .order_by(SurveySend.id.desc())
        .limit(1)
    )
    if send is None:
        return
    send.answered_at = send.answered_at or ticket.csat_at or utcnow()
    send.score = ticket.csat_score
    send.comment = (ticket.csat_comment or "")[:MAX_COMMENT_CHARS] or None


async def ask_nps(
    session: AsyncSession, conversation: Conversation, ticket: Ticket, *, at: dt.datetime
) -> SurveySend:
    """Ask the NPS question on the conversation's channel (with a link to its page on
    email, when the service signs links) and note it as sent."""
    send = await record_survey_send(session, conversation, NPS, ticket.id, at=at)
    links = survey_links(session) if conversation.channel in LINK_CHANNELS else None
    text = catalogue_of(session).nps_question(links.page(send.id, NPS) if links else None)
    await reply(session, conversation, Author.SYSTEM, text, payload={"nps": {"survey_id": send.id}})
    add_timeline(
        session,
        conversation.contact_id,
        "nps_sent",
        conversation.id,
        survey_id=send.id,
        ticket_id=ticket.id,
    )
    return send


async def answer_nps(
    session: AsyncSession, send: SurveySend, score: int, *, via: str, comment: str = ""
) -> None:
    """Record a 0-10 answer to an NPS survey (``via``: reply, link), with its comment."""
    if send.kind != NPS:
        raise ActionError("not_nps", "this survey is not an NPS survey")
    if isinstance(score, bool) or not isinstance(score, int) or score not in NPS_SCORES:
        raise ActionError("invalid_score", "an NPS answer is a whole number from 0 to 10")
    send.score = score
    send.answered_at = utcnow()
    if comment.strip():
        send.comment = comment.strip()[:MAX_COMMENT_CHARS]
    await _record(session, send, via)


async def comment_on_nps(session: AsyncSession, send: SurveySend, comment: str) -> None:
    """Keep the customer's comment on their NPS answer (the latest one counts)."""
    if send.score is None:
        raise ActionError("not_answered", "a comment follows an answer")
    send.comment = comment.strip()[:MAX_COMMENT_CHARS] or None
    await _record(session, send)


async def _record(session: AsyncSession, send: SurveySend, via: str | None = None) -> None:
    data: dict[str, Any] = {
        "survey_id": send.id,
        "ticket_id": send.ticket_id,
        "score": send.score,
        "comment": send.comment,
        "answered_at": iso(send.answered_at),
    }
    events = await session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.contact_id == send.contact_id, TimelineEvent.kind == NPS_ANSWERED)
        .order_by(TimelineEvent.id.desc())
    )
    event = next((e for e in events if (e.data or {}).get("survey_id") == send.id), None)
    if event is None:
        add_timeline(session, send.contact_id, NPS_ANSWERED, send.conversation_id, via=via, **data)
    else:
        # A JSON column is not change-tracked in place: assign a new dict.
        event.data = {**event.data, **data, **({"via": via} if via else {}), "updated": True}
