"""The outbox side of a reply: queued in the transaction that decided it, claimed by the
dispatcher, then marked sent, retried, or failed for good (with its timeline event)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, iso
from omnidesk.helpdesk.actions.tickets import open_ticket
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    Author,
    ChannelIdentity,
    Conversation,
    DeliveryState,
    Message,
    OutboxItem,
)
from omnidesk.messages import Button, Citation, OutboundMessage


async def outbound_message(
    session: AsyncSession, conversation: Conversation, message: Message
) -> OutboundMessage:
    """The typed message a channel is asked to send for ``message``. An internal note
    is refused: it must never reach the customer."""
    if message.private:
        raise ActionError("private", "an internal note is never delivered")
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
    payload = message.payload or {}
    return OutboundMessage(
        channel=conversation.channel,
        recipient_id=identity.external_id,
        conversation_id=conversation.id,
        message_id=message.id,
        text=message.text,
        author=str(message.author),
        author_name=message.author_name,
        thread_key=conversation.thread_key,
        buttons=tuple(Button(**b) for b in payload.get("buttons", ())),
        citations=tuple(Citation(**c) for c in payload.get("citations", ())),
        # Replies carry no files yet; the field is there for channels that can send them.
        attachments=(),
        confidence=payload.get("confidence"),
        created_at=iso(message.created_at),
        reply_to_external_id=last_inbound,
        subject=conversation.subject,
        ticket_ref=ticket.id if ticket else None,
    )


async def queue_delivery(
    session: AsyncSession, conversation: Conversation, message: Message
) -> OutboxItem:
    """Put a reply in the outbox in the same transaction that decided it. The row's
    payload is ``OutboundMessage.to_dict()`` (versioned); the dispatcher rebuilds it."""
    outbound = await outbound_message(session, conversation, message)
    item = OutboxItem(
        message_id=message.id,
        conversation_id=conversation.id,
        channel=conversation.channel,
        payload=outbound.to_dict(),
    )
    session.add(item)
    await session.flush()
    emit(session, "outbox", outbox_id=item.id)
    return item


async def claim_deliveries(
    session: AsyncSession, *, limit: int, lease: dt.timedelta
) -> list[OutboxItem]:
    """Lease due items, oldest first, skipping a conversation with an earlier one still
    pending so replies keep their order. A crash mid-send means a retry after the lease,
    not a loss."""
    now = utcnow()
    earlier = aliased(OutboxItem)
    blocked = exists().where(
        and_(
            earlier.conversation_id == OutboxItem.conversation_id,
            earlier.id < OutboxItem.id,
            earlier.state == DeliveryState.PENDING,
        )
    )
    items = list(
        (
            await session.scalars(
                select(OutboxItem)
                .where(
                    OutboxItem.state == DeliveryState.PENDING,
                    OutboxItem.next_attempt_at <= now,
                    ~blocked,
                )
                .order_by(OutboxItem.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    for item in items:
        item.attempts += 1
        item.next_attempt_at = now + lease
    return items


async def mark_sent(session: AsyncSession, item_id: int, external_id: str | None) -> None:
    """The channel took the message: the row is done and the message keeps the
    platform's id (so a customer's reply to it finds its conversation)."""
    item = await session.get_one(OutboxItem, item_id, with_for_update=True)
    item.state = DeliveryState.SENT
    item.sent_at = utcnow()
    item.last_error = None
    message = await session.get_one(Message, item.message_id)
    message.delivery = DeliveryState.SENT
    message.external_id = external_id
    emit(
        session,
        "delivery",
        conversation_id=item.conversation_id,
        message_id=item.message_id,
        state=DeliveryState.SENT,
    )


async def retry_delivery(
    session: AsyncSession, item_id: int, error: str, delay: dt.timedelta
) -> None:
    """A send failed but may work later: try again after ``delay``."""
    item = await session.get_one(OutboxItem, item_id, with_for_update=True)
    item.state = DeliveryState.PENDING
    item.last_error = error[:2000]
    item.next_attempt_at = utcnow() + delay


async def mark_failed(session: AsyncSession, item_id: int, error: str) -> None:
    """A send failed for good: the row and its message say so, and the timeline shows
    it to agents, so nothing is silently dropped."""
    item = await session.get_one(OutboxItem, item_id, with_for_update=True)
    item.state = DeliveryState.FAILED
    item.last_error = error[:2000]
    message = await session.get_one(Message, item.message_id)
    message.delivery = DeliveryState.FAILED
    conversation = await session.get_one(Conversation, item.conversation_id)
    add_timeline(
        session,
        conversation.contact_id,
        "delivery_failed",
        conversation.id,
        message_id=item.message_id,
        channel=item.channel,
        error=error[:500],
        attempts=item.attempts,
    )
    emit(
        session,
        "delivery",
        conversation_id=conversation.id,
        message_id=item.message_id,
        state=DeliveryState.FAILED,
    )
