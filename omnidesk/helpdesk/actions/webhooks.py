"""Outbound webhooks: events queued for every subscribed endpoint in the transaction that
raised them (a rolled-back action queues nothing), the admin's changes to endpoints (each
in the audit log), and the dispatcher's claim and outcome of each delivery.

A payload carries ids, states, channel, reason, priority, score and times, never what a
customer wrote: integrators read the rest from the API, and erasure need not look here.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, audit_log, iso
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    Contact,
    Conversation,
    DeliveryState,
    Webhook,
    WebhookDelivery,
)

WEBHOOK_EVENTS = (
    "conversation.created",
    "conversation.handed_off",
    "conversation.assigned",
    "conversation.resolved",
    "conversation.rated",
    "contact.created",
    "contact.merged",
)
# What "Send test" queues; no endpoint subscribes to it.
PING = "ping"
FIELDS = ("url", "events", "active", "description")
MAX_ERROR_CHARS = 2000


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    """A conversation as webhooks show it: ids, state and times (no subject, no text)."""
    return {
        "id": conversation.id,
        "contact_id": conversation.contact_id,
        "channel": conversation.channel,
        "state": conversation.state,
        "priority": conversation.priority,
        "team_id": conversation.team_id,
        "assignee_id": conversation.assignee_id,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
    }


def contact_data(contact: Contact) -> dict[str, Any]:
    return {"id": contact.id, "created_at": iso(contact.created_at)}


def body(event: str, delivery_id: str, at: dt.datetime, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the receiver gets, as stored on the delivery and sent as JSON."""
    return {"id": delivery_id, "event": event, "created_at": iso(at), "data": dict(data)}


def _delivery(webhook_id: int, event: str, data: Mapping[str, Any]) -> WebhookDelivery:
    delivery_id = str(uuid.uuid4())
    now = utcnow()
    return WebhookDelivery(
        webhook_id=webhook_id,
        event=event,
        delivery_id=delivery_id,
        payload=body(event, delivery_id, now, data),
        created_at=now,
        next_attempt_at=now,
    )


async def queue_webhook_event(
    session: AsyncSession, event: str, data: Mapping[str, Any]
) -> list[WebhookDelivery]:
    """One delivery of ``event`` for each active webhook subscribed to it, in the
    caller's transaction. One indexed query; with no webhook (most installs) that is
    all it costs."""
    rows = (await session.execute(select(Webhook.id, Webhook.events).where(Webhook.active))).all()
    deliveries = [
        _delivery(webhook_id, event, data)
        for webhook_id, events in rows
        if isinstance(events, list) and event in events
    ]
    if not deliveries:
        return []
    session.add_all(deliveries)
    await session.flush()
    emit(session, "webhook", count=len(deliveries))
    return deliveries


# -- the admin's changes ------------------------------------------------------------------


def _host(url: str) -> str:
    # The audit entry names where it points, not a token a URL may carry in its path.
    return urlsplit(url).hostname or ""


async def create_webhook(session: AsyncSession, values: Mapping[str, Any], by: Actor) -> Webhook:
    """A new endpoint with a fresh secret (the caller shows it once)."""
    webhook = Webhook(secret=new_secret(), **{k: v for k, v in values.items() if k in FIELDS})
    session.add(webhook)
    await session.flush()
    audit_log(
        session,
        by,
        "webhook.created",
        f"webhook:{webhook.id}",
        host=_host(webhook.url),
        events=list(webhook.events),
        active=webhook.active,
    )
    return webhook


async def update_webhook(
    session: AsyncSession, webhook: Webhook, values: Mapping[str, Any], by: Actor
) -> Webhook:
    for key, value in values.items():
        if key in FIELDS:
            setattr(webhook, key, value)
    await session.flush()
    audit_log(
        session,
        by,
        "webhook.updated",
        f"webhook:{webhook.id}",
        changes=sorted(k for k in values if k in FIELDS),
        host=_host(webhook.url),
    )
    return webhook


async def delete_webhook(session: AsyncSession, webhook: Webhook, by: Actor) -> None:
    """The endpoint and its deliveries go; nothing more is sent to it."""
    webhook_id = webhook.id
    await session.delete(webhook)
    await session.flush()
    audit_log(session, by, "webhook.deleted", f"webhook:{webhook_id}")


async def rotate_webhook_secret(session: AsyncSession, webhook: Webhook, by: Actor) -> str:
    """A new secret at once; deliveries not yet sent are signed with it."""
    webhook.secret = new_secret()
    await session.flush()
    audit_log(session, by, "webhook.secret_rotated", f"webhook:{webhook.id}")
    return webhook.secret


async def ping_webhook(session: AsyncSession, webhook: Webhook, by: Actor) -> WebhookDelivery:
    """Queue a ``ping`` for this endpoint alone, active or not (the admin's test)."""
    delivery = _delivery(webhook.id, PING, {"webhook_id": webhook.id})
    session.add(delivery)
    await session.flush()
    audit_log(session, by, "webhook.tested", f"webhook:{webhook.id}", delivery_id=delivery.id)
    emit(session, "webhook", count=1)
    return delivery


async def redeliver_webhook(
    session: AsyncSession, delivery: WebhookDelivery, by: Actor
) -> WebhookDelivery:
    """Send a failed delivery again, now, with a fresh count of attempts."""
    if delivery.state != DeliveryState.FAILED:
        raise ActionError("not_failed", "only a failed delivery can be retried")
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    await session.flush()
    audit_log(
        session,
        by,
        "webhook.redelivered",
        f"webhook:{delivery.webhook_id}",
        delivery_id=delivery.id,
    )
    emit(session, "webhook", count=1)
    return delivery


# -- the dispatcher's side ----------------------------------------------------------------


async def claim_webhook_deliveries(
    session: AsyncSession, *, limit: int, lease: dt.timedelta
) -> list[tuple[WebhookDelivery, Webhook]]:
    """Lease due deliveries, oldest first, with their endpoint: ``next_attempt_at``
    moves past the lease, so another dispatcher skips them (row locks on PostgreSQL, one
    writer at a time on SQLite) and a crashed one's claim expires into a retry."""
    now = utcnow()
    rows = (
        await session.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.state == DeliveryState.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
    ).all()
    for delivery, _ in rows:
        delivery.attempts += 1
        delivery.next_attempt_at = now + lease
    return [(delivery, webhook) for delivery, webhook in rows]


async def webhook_delivered(
    session: AsyncSession,
    delivery_id: int,
    *,
    status: int | None,
    error: str | None = None,
    retry_in: dt.timedelta | None = None,
) -> None:
    """Record one attempt: sent (no ``error``), to be tried again after ``retry_in``,
    or (an error and no ``retry_in``) failed for good. The last status and error stay."""
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.state != DeliveryState.PENDING:
        return  # deleted with its webhook meanwhile, or already settled
    delivery.last_status = status
    delivery.last_error = error[:MAX_ERROR_CHARS] if error else None
    if error is None:
        delivery.state = DeliveryState.SENT
        delivery.sent_at = utcnow()
    elif retry_in is not None:
        delivery.next_attempt_at = utcnow() + retry_in
    else:
        delivery.state = DeliveryState.FAILED
