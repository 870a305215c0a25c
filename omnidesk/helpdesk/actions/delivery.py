"""The outbox side of a reply: queued in the transaction that decided it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actions.base import iso
from omnidesk.helpdesk.actions.tickets import open_ticket
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import Author, ChannelIdentity, Conversation, Message, OutboxItem


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
        "created_at": iso(message.created_at),
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
