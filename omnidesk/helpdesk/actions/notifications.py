"""Notifications: something an agent should see in the console (an assignment, an SLA
breach), stored and announced on the bus after commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import Notification


async def notify(
    session: AsyncSession,
    agent_id: int,
    kind: str,
    conversation_id: int | None = None,
    **data: Any,
) -> Notification:
    """Store a notification for ``agent_id``; its ``notification`` event goes out after
    commit (the console's socket shows it to that agent only)."""
    notification = Notification(
        agent_id=agent_id, kind=kind, conversation_id=conversation_id, data=data
    )
    session.add(notification)
    await session.flush()
    emit(session, "notification", agent_id=agent_id, notification_id=notification.id)
    return notification
