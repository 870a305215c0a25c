"""Messages: recorded, replied (with delivery queued); and how they are shown. A
customer's edits and deletions are in ``revisions``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, audit_log, iso
from omnidesk.helpdesk.actions.conversations import assign
from omnidesk.helpdesk.actions.delivery import queue_delivery
from omnidesk.helpdesk.actions.tickets import open_ticket
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    HUMAN_OWNED,
    Author,
    Conversation,
    ConversationState,
    DeliveryState,
    Message,
)


async def record_message(
    session: AsyncSession,
    conversation: Conversation,
    author: Author,
    text: str,
    *,
    author_name: str | None = None,
    payload: dict[str, Any] | None = None,
    external_id: str | None = None,
    author_id: int | None = None,
) -> Message:
    """Store one message of a conversation and its timeline entry."""
    now = utcnow()
    message = Message(
        conversation_id=conversation.id,
        author=author,
        author_name=author_name,
        author_id=author_id,
        text=text,
        payload=payload or {},
        external_id=external_id,
        delivery=None if author == Author.CONTACT else DeliveryState.PENDING,
        created_at=now,
    )
    session.add(message)
    count_message(conversation, author, message.payload, now)
    conversation.updated_at = now
    if author == Author.CONTACT and conversation.state in HUMAN_OWNED:
        # The oldest customer message a person has not answered yet starts the wait.
        conversation.waiting_since = conversation.waiting_since or conversation.updated_at
    await session.flush()
    add_timeline(
        session,
        conversation.contact_id,
        "message",
        conversation.id,
        message_id=message.id,
        author=str(author),
        channel=conversation.channel,
    )
    emit_message(session, conversation, message)
    return message


def count_message(
    conversation: Conversation, author: str, payload: dict[str, Any], at: dt.datetime
) -> None:
    """Keep the conversation's report facts for a message written at ``at``: the count
    of its author's side, the bot's last answer that cites an article, and the
    customer's first message after that answer."""
    if author == Author.CONTACT:
        conversation.contact_messages = (conversation.contact_messages or 0) + 1
        if conversation.last_answer_at is not None and conversation.answer_followed_at is None:
            conversation.answer_followed_at = at
    elif author == Author.BOT:
        conversation.bot_messages = (conversation.bot_messages or 0) + 1
        if payload.get("citations"):
            conversation.last_answer_at = at
            conversation.answer_followed_at = None
    elif author == Author.AGENT:
        conversation.agent_messages = (conversation.agent_messages or 0) + 1


async def reply(
    session: AsyncSession,
    conversation: Conversation,
    author: Author,
    text: str,
    *,
    author_name: str | None = None,
    payload: dict[str, Any] | None = None,
    author_id: int | None = None,
) -> Message:
    """Record an outgoing message and queue its delivery on the conversation's channel."""
    message = await record_message(
        session,
        conversation,
        author,
        text,
        author_name=author_name,
        payload=payload,
        author_id=author_id,
    )
    await queue_delivery(session, conversation, message)
    return message


async def agent_reply(
    session: AsyncSession, conversation: Conversation, agent: Actor, text: str
) -> Message:
    """An agent's reply: it takes the conversation if it is not already theirs, and
    counts the ticket's first response."""
    if conversation.state == ConversationState.CLOSED:
        raise ActionError("closed", "a closed conversation cannot be replied to")
    mine = (
        conversation.assignee_id == agent.agent_id
        if agent.agent_id is not None
        else conversation.assignee == agent.name
    )
    if conversation.state != ConversationState.ASSIGNED or not mine:
        await assign(session, conversation, agent)
    ticket = await open_ticket(session, conversation.id)
    if ticket is not None and ticket.first_response_at is None:
        ticket.first_response_at = utcnow()
    conversation.waiting_since = None
    message = await reply(
        session, conversation, Author.AGENT, text, author_name=agent.name, author_id=agent.agent_id
    )
    target = f"conversation:{conversation.id}"
    audit_log(session, agent, "conversation.replied", target, message_id=message.id)
    return message


def emit_message(session: AsyncSession, conversation: Conversation, message: Message) -> None:
    """Tell the consoles (and the web chat) that ``message`` is new or changed."""
    emit(
        session,
        "message",
        conversation_id=conversation.id,
        channel=conversation.channel,
        message_id=message.id,
        private=message.private,
    )


def message_dict(message: Message) -> dict[str, Any]:
    """A message as channels and the console show it."""
    payload = message.payload or {}
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "author": message.author,
        "author_name": message.author_name,
        "author_id": message.author_id,
        # An internal note: agents see it, the customer never does.
        "private": bool(message.private),
        "text": message.text,
        "buttons": list(payload.get("buttons", [])),
        "citations": list(payload.get("citations", [])),
        "confidence": payload.get("confidence"),
        "client_id": payload.get("client_id"),
        "attachments": list(payload.get("attachments", [])),
        "edited": bool(payload.get("edited")),
        # Earlier wordings of a message the customer edited, oldest first, for agents.
        "revisions": list(payload.get("revisions", [])),
        # The customer deleted it: the text is gone, the place in the thread stays.
        "deleted": bool(payload.get("deleted")),
        # Its words were removed by an erasure or the retention task.
        "redacted": bool(message.redacted),
        "delivery": message.delivery,
        "created_at": iso(message.created_at),
    }
