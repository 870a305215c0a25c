"""Customer satisfaction: the question sent on resolve, the 1-5 rating and its optional
comment, stored on the ticket and as one "csat" timeline event per ticket (a second
rating updates both, never adds)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, iso
from omnidesk.helpdesk.actions.messages import reply
from omnidesk.helpdesk.actions.surveys import CSAT, csat_answered, may_ask, record_survey_send
from omnidesk.helpdesk.actions.webhooks import queue_webhook_event
from omnidesk.helpdesk.catalogue import CSAT_SCORES, catalogue_of, csat_payload
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    Author,
    Conversation,
    Ticket,
    TicketState,
    TimelineEvent,
)
from omnidesk.helpdesk.survey import survey_links

MAX_COMMENT_CHARS = 2000
# Channels where a person cannot press a button; they get links and a reply-with-a-digit.
NO_BUTTONS = frozenset({"email"})


async def ask_for_rating(
    session: AsyncSession, conversation: Conversation, ticket: Ticket | None
) -> None:
    """Tell the customer it is resolved, then ask for a 1-5 rating on their channel:
    buttons where the channel has them, links (when the service signs them) on email.
    The rating is asked only when the survey gate allows, and then noted as sent."""
    catalogue = catalogue_of(session)
    resolved = catalogue.resolved(ticket.id if ticket else None)
    by_email = conversation.channel in NO_BUTTONS
    # The survey throttle (escalation's gate) may say this contact was asked lately.
    asking = ticket is not None and await may_ask(session, conversation, CSAT)
    if not asking or not by_email:
        # Where a message is cheap, the news and the question come one after the other.
        await reply(session, conversation, Author.SYSTEM, resolved)
    if ticket is None or not asking:
        return
    await record_survey_send(session, conversation, CSAT, ticket.id)
    question = catalogue.csat_question(by_email=by_email)
    links = survey_links(session) if by_email else None
    buttons = [
        {
            "label": catalogue.csat_label(score),
            "payload": csat_payload(score),
            **({"url": links.url(ticket.id, score)} if links else {}),
        }
        for score in CSAT_SCORES
    ]
    await reply(
        session,
        conversation,
        Author.SYSTEM,
        # One email, not two, for the news and the question.
        f"{resolved}\n\n{question}" if by_email else question,
        payload={"buttons": buttons, "csat": {"ticket_id": ticket.id}},
    )


async def rated_ticket(session: AsyncSession, conversation: Conversation) -> Ticket | None:
    """The conversation's most recently resolved ticket: the one a rating is about."""
    return await session.scalar(
        select(Ticket)
        .where(
            Ticket.conversation_id == conversation.id,
            Ticket.state.in_([TicketState.RESOLVED, TicketState.CLOSED]),
        )
        .order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
        .limit(1)
    )


async def rate(session: AsyncSession, ticket: Ticket, score: int, *, via: str) -> None:
    """Record a 1-5 rating of ``ticket`` (``via``: button, reply, link)."""
    if score not in CSAT_SCORES:
        raise ActionError("invalid_score", "a rating is a whole number from 1 to 5")
    ticket.csat_score = score
    ticket.csat_at = utcnow()
    await _record(session, ticket, via=via)
    # The score only: a comment is the customer's words and never leaves in a webhook.
    await queue_webhook_event(
        session,
        "conversation.rated",
        {
            "conversation_id": ticket.conversation_id,
            "contact_id": ticket.contact_id,
            "ticket_id": ticket.id,
            "score": score,
            "via": via,
            "rated_at": iso(ticket.csat_at),
        },
    )


async def comment_on_rating(session: AsyncSession, ticket: Ticket, comment: str) -> None:
    """Keep the customer's comment on their rating (the latest one counts)."""
    if ticket.csat_score is None:
        raise ActionError("not_rated", "a comment follows a rating")
    ticket.csat_comment = comment.strip()[:MAX_COMMENT_CHARS]
    await _record(session, ticket)


async def _record(session: AsyncSession, ticket: Ticket, via: str | None = None) -> None:
    data: dict[str, Any] = {
        "ticket_id": ticket.id,
        "score": ticket.csat_score,
        "comment": ticket.csat_comment,
        "rated_at": iso(ticket.csat_at),
    }
    await csat_answered(session, ticket)
    event = await _csat_event(session, ticket)
    if event is None:
        add_timeline(session, ticket.contact_id, "csat", ticket.conversation_id, via=via, **data)
    else:
        # A JSON column is not change-tracked in place: assign a new dict.
        event.data = {**event.data, **data, **({"via": via} if via else {}), "updated": True}
    emit(
        session,
        "csat",
        conversation_id=ticket.conversation_id,
        ticket_id=ticket.id,
        score=ticket.csat_score,
        comment=ticket.csat_comment,
    )


async def _csat_event(session: AsyncSession, ticket: Ticket) -> TimelineEvent | None:
    events = await session.scalars(
        select(TimelineEvent)
        .where(
            TimelineEvent.conversation_id == ticket.conversation_id,
            TimelineEvent.kind == "csat",
        )
        .order_by(TimelineEvent.id.desc())
    )
    return next((e for e in events if (e.data or {}).get("ticket_id") == ticket.id), None)
