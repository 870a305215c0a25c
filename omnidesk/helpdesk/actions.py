"""Every helpdesk write: each action changes rows and writes their timeline event in the
caller's transaction, and queues the events that go out after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    Author,
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationState,
    DeliveryState,
    Message,
    OutboxItem,
    Priority,
    Ticket,
    TicketState,
    TimelineEvent,
)


class ActionError(Exception):
    """An action refused for a reason the caller can show (``code`` is machine-readable)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def add_timeline(
    session: AsyncSession,
    contact_id: int,
    kind: str,
    conversation_id: int | None = None,
    **data: Any,
) -> TimelineEvent:
    event = TimelineEvent(
        contact_id=contact_id, conversation_id=conversation_id, kind=kind, data=data
    )
    session.add(event)
    return event


async def resolve_identity(
    session: AsyncSession,
    channel: str,
    external_id: str,
    *,
    name: str | None = None,
    email: str | None = None,
) -> ChannelIdentity:
    """The identity for a platform user, creating it and its contact on first contact.

    A new identity whose email matches an existing contact joins that contact, so one
    person on several channels has one timeline.
    """
    identity = await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
        )
    )
    if identity is not None:
        known = await session.get_one(Contact, identity.contact_id)
        if name and not known.name:
            known.name = name
        if email and not known.email:
            known.email = email.lower()
        return identity
    contact: Contact | None = None
    if email:
        contact = await session.scalar(
            select(Contact).where(Contact.email == email.lower()).order_by(Contact.id).limit(1)
        )
    if contact is None:
        contact = Contact(name=name, email=email.lower() if email else None)
        session.add(contact)
        await session.flush()
        add_timeline(session, contact.id, "contact_created", channel=channel)
    identity = ChannelIdentity(
        contact_id=contact.id, channel=channel, external_id=external_id, display_name=name
    )
    session.add(identity)
    await session.flush()
    add_timeline(session, contact.id, "identity_added", channel=channel, external_id=external_id)
    return identity


async def current_conversation(
    session: AsyncSession,
    identity: ChannelIdentity,
    thread_key: str = "",
    *,
    subject: str | None = None,
    ticket_ref: int | None = None,
    reply_to: str | None = None,
) -> Conversation:
    """The identity's open conversation on this thread, or a new one.

    When no open conversation has this thread key, ``reply_to`` (the platform id of the
    message being answered) and then ``ticket_ref`` (a ticket number the customer
    quoted) pick an existing conversation of the same contact on the same channel.
    """
    by_thread = await session.scalar(
        select(Conversation)
        .where(
            Conversation.identity_id == identity.id,
            Conversation.thread_key == thread_key,
            Conversation.state != ConversationState.CLOSED,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if by_thread is not None:
        return by_thread
    linked = None
    if reply_to:
        linked = await _open_conversation_of(
            session,
            identity,
            select(Message.conversation_id).where(Message.external_id == reply_to),
        )
    if linked is None and ticket_ref is not None:
        linked = await _open_conversation_of(
            session, identity, select(Ticket.conversation_id).where(Ticket.id == ticket_ref)
        )
    if linked is not None:
        return linked
    conversation = Conversation(
        contact_id=identity.contact_id,
        identity_id=identity.id,
        channel=identity.channel,
        thread_key=thread_key,
        subject=subject[:300] if subject else None,
        state=ConversationState.BOT,
    )
    session.add(conversation)
    await session.flush()
    add_timeline(
        session,
        identity.contact_id,
        "conversation_started",
        conversation.id,
        channel=identity.channel,
    )
    return conversation


async def _open_conversation_of(
    session: AsyncSession, identity: ChannelIdentity, candidates: Select[Any]
) -> Conversation | None:
    """The open conversation among ``candidates`` (conversation ids) that belongs to the
    identity's contact on its channel: a customer can only join their own threads."""
    return await session.scalar(
        select(Conversation)
        .where(
            Conversation.id.in_(candidates),
            Conversation.contact_id == identity.contact_id,
            Conversation.channel == identity.channel,
            Conversation.state != ConversationState.CLOSED,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
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
) -> Message:
    """Store one message of a conversation and its timeline entry."""
    message = Message(
        conversation_id=conversation.id,
        author=author,
        author_name=author_name,
        text=text,
        payload=payload or {},
        external_id=external_id,
        delivery=None if author == Author.CONTACT else DeliveryState.PENDING,
    )
    session.add(message)
    conversation.updated_at = utcnow()
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
    _emit_message(session, conversation, message)
    return message


async def queue_delivery(
    session: AsyncSession, conversation: Conversation, message: Message
) -> OutboxItem:
    """Put a reply in the outbox in the same transaction that decided it.

    The payload has the fields of ``channels.OutboundMessage``.
    """
    identity = await session.get_one(ChannelIdentity, conversation.identity_id)
    last_inbound = await session.scalar(
        select(Message.external_id)
        .where(
            Message.conversation_id == conversation.id,
            Message.author == Author.CONTACT,
            Message.external_id.is_not(None),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    ticket = await open_ticket(session, conversation.id)
    payload = {
        "channel": conversation.channel,
        "recipient_id": identity.external_id,
        "conversation_id": conversation.id,
        "message_id": message.id,
        "text": message.text,
        "author": message.author,
        "author_name": message.author_name,
        "thread_key": conversation.thread_key,
        "buttons": list(message.payload.get("buttons", [])),
        "citations": list(message.payload.get("citations", [])),
        "attachments": [],
        "confidence": message.payload.get("confidence"),
        "created_at": _iso(message.created_at),
        "reply_to_external_id": last_inbound,
        "subject": conversation.subject,
        "ticket_ref": ticket.id if ticket else None,
    }
    item = OutboxItem(
        message_id=message.id,
        conversation_id=conversation.id,
        channel=conversation.channel,
        payload=payload,
    )
    session.add(item)
    await session.flush()
    emit(session, "outbox", outbox_id=item.id)
    return item


async def reply(
    session: AsyncSession,
    conversation: Conversation,
    author: Author,
    text: str,
    *,
    author_name: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Message:
    """Record an outgoing message and queue its delivery on the conversation's channel."""
    message = await record_message(
        session, conversation, author, text, author_name=author_name, payload=payload
    )
    await queue_delivery(session, conversation, message)
    return message


async def open_ticket_for(
    session: AsyncSession,
    conversation: Conversation,
    *,
    subject: str,
    reason: str,
    priority: Priority = Priority.NORMAL,
) -> Ticket:
    """The conversation's open ticket, or a new one."""
    ticket = await open_ticket(session, conversation.id)
    if ticket is not None:
        return ticket
    ticket = Ticket(
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        subject=(conversation.subject or subject)[:300] or "Conversation",
        reason=reason,
        priority=priority,
    )
    session.add(ticket)
    await session.flush()
    add_timeline(
        session,
        conversation.contact_id,
        "ticket_opened",
        conversation.id,
        ticket_id=ticket.id,
        reason=reason,
        priority=str(priority),
    )
    return ticket


async def open_ticket(session: AsyncSession, conversation_id: int) -> Ticket | None:
    return await session.scalar(
        select(Ticket)
        .where(
            Ticket.conversation_id == conversation_id,
            Ticket.state.in_([TicketState.OPEN, TicketState.PENDING]),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )


async def escalate(
    session: AsyncSession, conversation: Conversation, *, reason: str, subject: str
) -> Ticket:
    """Hand the conversation to humans: queue it and open its ticket."""
    ticket = await open_ticket_for(session, conversation, subject=subject, reason=reason)
    if conversation.state not in (ConversationState.QUEUED, ConversationState.ASSIGNED):
        conversation.state = ConversationState.QUEUED
        add_timeline(
            session,
            conversation.contact_id,
            "escalated",
            conversation.id,
            reason=reason,
            ticket_id=ticket.id,
        )
    conversation.low_confidence_streak = 0
    conversation.updated_at = utcnow()
    emit(session, "conversation", conversation_id=conversation.id, state=conversation.state)
    return ticket


async def assign(session: AsyncSession, conversation: Conversation, agent: str) -> None:
    if conversation.state == ConversationState.CLOSED:
        raise ActionError("closed", "a closed conversation cannot be assigned")
    ticket = await open_ticket_for(
        session, conversation, subject="Taken by an agent", reason="agent_took_over"
    )
    ticket.assignee = agent
    conversation.assignee = agent
    conversation.state = ConversationState.ASSIGNED
    conversation.updated_at = utcnow()
    add_timeline(
        session,
        conversation.contact_id,
        "assigned",
        conversation.id,
        agent=agent,
        ticket_id=ticket.id,
    )
    emit(session, "conversation", conversation_id=conversation.id, state=conversation.state)


async def agent_reply(
    session: AsyncSession, conversation: Conversation, agent: str, text: str
) -> Message:
    """An agent's reply: it takes the conversation if queued and counts first response."""
    if conversation.state == ConversationState.CLOSED:
        raise ActionError("closed", "a closed conversation cannot be replied to")
    if conversation.state != ConversationState.ASSIGNED or conversation.assignee != agent:
        await assign(session, conversation, agent)
    ticket = await open_ticket(session, conversation.id)
    if ticket is not None and ticket.first_response_at is None:
        ticket.first_response_at = utcnow()
    return await reply(session, conversation, Author.AGENT, text, author_name=agent)


async def resolve(session: AsyncSession, conversation: Conversation, by: str) -> None:
    if conversation.state in (ConversationState.RESOLVED, ConversationState.CLOSED):
        return
    now = utcnow()
    ticket = await open_ticket(session, conversation.id)
    if ticket is not None:
        ticket.state = TicketState.RESOLVED
        ticket.resolved_at = now
    conversation.state = ConversationState.RESOLVED
    conversation.updated_at = now
    add_timeline(
        session,
        conversation.contact_id,
        "resolved",
        conversation.id,
        by=by,
        ticket_id=ticket.id if ticket else None,
    )
    emit(session, "conversation", conversation_id=conversation.id, state=conversation.state)


async def reopen(session: AsyncSession, conversation: Conversation) -> None:
    """A customer wrote after resolution: the bot takes the conversation again."""
    conversation.state = ConversationState.BOT
    conversation.assignee = None
    conversation.low_confidence_streak = 0
    conversation.updated_at = utcnow()
    add_timeline(session, conversation.contact_id, "reopened", conversation.id)
    emit(session, "conversation", conversation_id=conversation.id, state=conversation.state)


async def edit_message(
    session: AsyncSession, conversation: Conversation, external_id: str, text: str
) -> Message | None:
    """The customer edited a message on their platform: keep the new text, note the old."""
    message = await session.scalar(
        select(Message).where(
            Message.conversation_id == conversation.id,
            Message.external_id == external_id,
            Message.author == Author.CONTACT,
        )
    )
    if message is None:
        return None
    previous = message.text
    message.text = text
    message.payload = {**(message.payload or {}), "edited": True}
    add_timeline(
        session,
        conversation.contact_id,
        "message_edited",
        conversation.id,
        message_id=message.id,
        previous=previous[:2000],
    )
    _emit_message(session, conversation, message)
    return message


async def merge_contacts(session: AsyncSession, keep: Contact, other: Contact, by: str) -> None:
    """Make two contacts one (the same person on two channels): ``other``'s identities,
    conversations, tickets and timeline move to ``keep``, then ``other`` is removed."""
    if keep.id == other.id:
        raise ActionError("same_contact", "a contact cannot be merged with itself")
    for model in (ChannelIdentity, Conversation, Ticket, TimelineEvent):
        await session.execute(
            update(model).where(model.contact_id == other.id).values(contact_id=keep.id)
        )
    keep.name = keep.name or other.name
    keep.email = keep.email or other.email
    keep.attributes = {**(other.attributes or {}), **(keep.attributes or {})}
    add_timeline(session, keep.id, "contacts_merged", merged_contact_id=other.id, by=by)
    other_id = other.id
    session.expunge(other)
    await session.execute(delete(Contact).where(Contact.id == other_id))


def _emit_message(session: AsyncSession, conversation: Conversation, message: Message) -> None:
    emit(
        session,
        "message",
        conversation_id=conversation.id,
        channel=conversation.channel,
        message=message_dict(message),
    )


def message_dict(message: Message) -> dict[str, Any]:
    """A message as channels and the console show it."""
    payload = message.payload or {}
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "author": message.author,
        "author_name": message.author_name,
        "text": message.text,
        "buttons": list(payload.get("buttons", [])),
        "citations": list(payload.get("citations", [])),
        "confidence": payload.get("confidence"),
        "client_id": payload.get("client_id"),
        "attachments": list(payload.get("attachments", [])),
        "edited": bool(payload.get("edited")),
        "delivery": message.delivery,
        "created_at": _iso(message.created_at),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
