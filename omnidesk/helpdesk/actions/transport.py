"""The inbox rows' life: accepted under a dedupe key, claimed by a worker, then done,
retried after a back-off, or parked (failed, with the reason) so that it never blocks
its conversation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import add_timeline
from omnidesk.helpdesk.actions.contacts import resolve_identity
from omnidesk.helpdesk.actions.conversations import current_conversation
from omnidesk.helpdesk.models import Conversation, InboxItem, InboxState

# One round of turns: a sender's next message waits this much virtual time after its
# latest waiting one.
FAIR_SPACING = dt.timedelta(seconds=1)


async def accept_inbound(
    session: AsyncSession,
    *,
    channel: str,
    dedupe_key: str,
    order_key: str,
    payload: dict[str, Any],
    fair_key: str = "",
) -> InboxItem:
    """Add an inbound message to the inbox; the caller's commit raises ``IntegrityError``
    when the dedupe key is already there (a platform's retry).

    Fair turns: a message from a sender (``fair_key``) with nothing else waiting goes
    ahead of every backlog, so a customer who writes, reads the answer and writes again
    is never stuck behind a flood. A sender's further messages are backlogged and take
    turns in virtual time, as in start-time fair queuing: each is due one ``FAIR_SPACING``
    after the sender's previous one, and never before the head of the backlog, so every
    backlogged sender gets one turn per round, however much they sent."""
    now = utcnow()
    last = None
    if fair_key:
        last = await session.scalar(
            select(func.max(InboxItem.fair_at)).where(
                InboxItem.fair_key == fair_key[:300],
                InboxItem.state.in_([InboxState.PENDING, InboxState.PROCESSING]),
            )
        )
    fair_at = now
    if last is not None:
        head = await _backlog_head(session) or now
        fair_at = max(head, last + FAIR_SPACING)
    item = InboxItem(
        channel=channel,
        dedupe_key=dedupe_key[:300],
        order_key=order_key[:300],
        fair_key=fair_key[:300],
        backlogged=last is not None,
        fair_at=fair_at,
        payload=payload,
    )
    session.add(item)
    return item


async def _backlog_head(session: AsyncSession) -> dt.datetime | None:
    """The turn of the first backlogged item waiting: where the round is now."""
    head = await session.scalar(
        select(func.min(InboxItem.fair_at)).where(
            InboxItem.state == InboxState.PENDING, InboxItem.backlogged.is_(True)
        )
    )
    return head


async def claim_inbound(session: AsyncSession, *, lease: dt.timedelta) -> InboxItem | None:
    """Take the ready item whose turn comes first (a sender's only message, then the
    backlog by ``fair_at``; see ``accept_inbound``) and whose conversation has nothing
    earlier in flight, and lease it: a crashed worker's claim expires and the item
    is taken again."""
    now = utcnow()
    earlier = aliased(InboxItem)
    blocked = exists().where(
        earlier.order_key == InboxItem.order_key,
        earlier.id < InboxItem.id,
        earlier.state.in_([InboxState.PENDING, InboxState.PROCESSING]),
    )
    item = await session.scalar(
        select(InboxItem)
        .where(
            or_(
                and_(
                    InboxItem.state == InboxState.PENDING,
                    or_(InboxItem.lease_until.is_(None), InboxItem.lease_until <= now),
                ),
                and_(InboxItem.state == InboxState.PROCESSING, InboxItem.lease_until <= now),
            ),
            ~blocked,
        )
        .order_by(InboxItem.backlogged, InboxItem.fair_at, InboxItem.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if item is None:
        return None
    item.state = InboxState.PROCESSING
    item.attempts += 1
    item.lease_until = now + lease
    return item


async def inbound_done(session: AsyncSession, item_id: int) -> None:
    """The router handled the item, in this same transaction."""
    item = await session.get_one(InboxItem, item_id, with_for_update=True)
    item.state = InboxState.DONE
    item.processed_at = utcnow()
    item.lease_until = None


async def retry_inbound(
    session: AsyncSession, item_id: int, error: str, delay: dt.timedelta
) -> None:
    """A transient failure (the database, say): try again after ``delay``. Later items of
    the same conversation wait behind it, so the caller bounds the attempts."""
    item = await session.get_one(InboxItem, item_id, with_for_update=True)
    item.state = InboxState.PENDING
    item.error = error[:2000]
    item.lease_until = utcnow() + delay


async def park_inbound(session: AsyncSession, item_id: int, error: str) -> InboxItem:
    """Give up on an item for good: it is failed with the reason and no longer blocks the
    messages after it. The caller tells a person (see ``bot/inbox.py``)."""
    item = await session.get_one(InboxItem, item_id, with_for_update=True)
    item.state = InboxState.FAILED
    item.error = error[:2000]
    item.lease_until = None
    item.processed_at = utcnow()
    return item


async def note_failed_inbound(
    session: AsyncSession, item_id: int, payload: object, reason: str
) -> Conversation | None:
    """Say on the timeline why a parked item was not handled. Its conversation is found
    from the payload's channel, sender and thread when they can be read (None when they
    cannot); the customer's text, if any, is kept with the event."""
    if not isinstance(payload, Mapping):
        return None
    channel, sender = payload.get("channel"), payload.get("sender_id")
    if not isinstance(channel, str) or not isinstance(sender, str) or not channel or not sender:
        return None
    thread = payload.get("thread_key")
    identity = await resolve_identity(session, channel[:32], sender[:255])
    conversation = await current_conversation(
        session, identity, thread[:255] if isinstance(thread, str) else ""
    )
    text = payload.get("text")
    add_timeline(
        session,
        conversation.contact_id,
        "inbound_failed",
        conversation.id,
        inbox_id=item_id,
        reason=reason[:500],
        text=text[:2000] if isinstance(text, str) else None,
    )
    return conversation
