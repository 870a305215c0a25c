"""Read markers: how far each agent has read a conversation, and which of their
notifications they have seen. Neither changes the customer's story, so neither writes a
timeline event; both emit an event so the agent's other tabs update their badges."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import Conversation, ConversationRead, Message, Notification


async def mark_read(
    session: AsyncSession, conversation: Conversation, agent_id: int, message_id: int
) -> int:
    """The agent has read the conversation up to ``message_id`` (a marker only moves
    forward); returns the marker."""
    exists = await session.scalar(
        select(Message.id).where(
            Message.id == message_id, Message.conversation_id == conversation.id
        )
    )
    if exists is None:
        raise ActionError("not_found", "no such message in this conversation")
    marker = await session.get(ConversationRead, (agent_id, conversation.id))
    if marker is None:
        marker = ConversationRead(
            agent_id=agent_id, conversation_id=conversation.id, last_read_message_id=0
        )
        session.add(marker)
    if message_id > marker.last_read_message_id:
        marker.last_read_message_id = message_id
        marker.read_at = utcnow()
        emit(
            session,
            "read",
            agent_id=agent_id,
            conversation_id=conversation.id,
            message_id=message_id,
        )
    await session.flush()
    return marker.last_read_message_id


async def read_notifications(session: AsyncSession, agent_id: int, ids: Iterable[int]) -> int:
    """Mark the agent's own notifications ``ids`` read; returns how many changed."""
    wanted = list(ids)
    if not wanted:
        return 0
    result = await session.execute(
        update(Notification)
        .where(
            Notification.agent_id == agent_id,
            Notification.id.in_(wanted),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    changed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if changed:
        emit(session, "notifications_read", agent_id=agent_id, count=changed)
    return changed


def notification_dict(row: Notification) -> dict[str, object]:
    return {
        "id": row.id,
        "kind": row.kind,
        "conversation_id": row.conversation_id,
        "data": row.data,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "read_at": row.read_at.isoformat() if row.read_at else None,
    }
