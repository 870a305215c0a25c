"""What the bot's turns leave on a conversation: an answer given (the unsure streak
starts over), an unsure turn (the streak grows, the question is kept as unanswered),
and the customer's feedback on an answer."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import is_row_id, utcnow
from omnidesk.helpdesk.actions.base import add_timeline
from omnidesk.helpdesk.models import Author, Conversation, Message, TimelineEvent

Feedback = Literal["helpful", "not_helpful"]


def note_answer(conversation: Conversation, question: str | None) -> None:
    """The bot answered (or offered articles to pick from): the unsure streak starts
    over and the question is kept as context for a follow-up."""
    conversation.low_confidence_streak = 0
    conversation.last_question = question
    conversation.updated_at = utcnow()


def note_unsure(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    *,
    question: str | None,
    confidence: float | None,
) -> int:
    """The bot had no good answer: the streak grows and the timeline keeps the question
    as unanswered (the knowledge gaps report reads these). Returns the new streak."""
    conversation.low_confidence_streak += 1
    if question:
        conversation.last_question = question
    conversation.updated_at = utcnow()
    add_timeline(
        session,
        conversation.contact_id,
        "unanswered",
        conversation.id,
        question=text[:500],
        confidence=round(confidence, 4) if confidence is not None else None,
    )
    return conversation.low_confidence_streak


async def record_feedback(
    session: AsyncSession,
    conversation: Conversation,
    feedback: Feedback,
    *,
    message_id: int | None = None,
    external_id: str | None = None,
) -> TimelineEvent:
    """The customer rated an answer. It is recorded on the answer it was clicked on when
    the channel tells which (our ``message_id``, or the platform's ``external_id`` of the
    message shown), otherwise on the conversation's latest bot answer."""
    answer = await _rated_message(session, conversation, message_id, external_id)
    # The question that answer answered (an older answer's buttons may be clicked after
    # newer questions), so Gaps files the rating under the right topic.
    question = await _question_of(session, answer) if answer is not None else None
    return add_timeline(
        session,
        conversation.contact_id,
        "feedback",
        conversation.id,
        helpful=feedback == "helpful",
        question=question or conversation.last_question,
        message_id=answer.id if answer is not None else None,
    )


async def _question_of(session: AsyncSession, answer: Message) -> str | None:
    """The customer's question the answer replied to: the last message before it that
    they typed (a button they pressed is not a question)."""
    rows = await session.execute(
        select(Message.text, Message.payload)
        .where(
            Message.conversation_id == answer.conversation_id,
            Message.author == Author.CONTACT,
            Message.id < answer.id,
        )
        .order_by(Message.id.desc())
        .limit(5)
    )
    return next((text for text, payload in rows if not (payload or {}).get("action")), None)


async def _rated_message(
    session: AsyncSession,
    conversation: Conversation,
    message_id: int | None,
    external_id: str | None,
) -> Message | None:
    mine = select(Message).where(
        Message.conversation_id == conversation.id, Message.author == Author.BOT
    )
    # The id comes from the customer's side (a button's frame): one no row can have is
    # ignored rather than sent to the database, which refuses it past the key's range.
    if is_row_id(message_id):
        found = await session.scalar(mine.where(Message.id == message_id))
        if found is not None:
            return found
    if external_id:
        found = await session.scalar(mine.where(Message.external_id == external_id))
        if found is not None:
            return found
    # The latest message that was an answer (it cites its article), not a "thanks".
    recent = await session.scalars(mine.order_by(Message.id.desc()).limit(20))
    return next((m for m in recent if (m.payload or {}).get("citations")), None)
