"""Labels on a conversation: free-form tags agents filter their views by."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import Conversation, ConversationLabel

MAX_LABELS = 20
MAX_LABEL_CHARS = 64


def clean_labels(labels: Iterable[str]) -> list[str]:
    """Labels as stored: trimmed, lower-case, without control characters, each once, in
    the order given."""
    seen: list[str] = []
    for raw in labels:
        label = " ".join(raw.split()).lower()
        if not label:
            continue
        if len(label) > MAX_LABEL_CHARS:
            raise ActionError("invalid", f"a label is at most {MAX_LABEL_CHARS} characters")
        if any(unicodedata.category(ch).startswith("C") for ch in label):
            raise ActionError("invalid", "a label cannot hold control characters")
        if label not in seen:
            seen.append(label)
    if len(seen) > MAX_LABELS:
        raise ActionError("invalid", f"a conversation has at most {MAX_LABELS} labels")
    return seen


async def labels_of(session: AsyncSession, conversation_id: int) -> list[str]:
    rows = await session.scalars(
        select(ConversationLabel.label)
        .where(ConversationLabel.conversation_id == conversation_id)
        .order_by(ConversationLabel.label)
    )
    return list(rows.all())


async def set_labels(
    session: AsyncSession, conversation: Conversation, labels: Iterable[str], by: Actor
) -> list[str]:
    """Make the conversation's labels exactly ``labels``; returns them, sorted."""
    wanted = clean_labels(labels)
    current = await labels_of(session, conversation.id)
    added = sorted(set(wanted) - set(current))
    removed = sorted(set(current) - set(wanted))
    if not added and not removed:
        return current
    if removed:
        await session.execute(
            delete(ConversationLabel).where(
                ConversationLabel.conversation_id == conversation.id,
                ConversationLabel.label.in_(removed),
            )
        )
    session.add_all(ConversationLabel(conversation_id=conversation.id, label=x) for x in added)
    conversation.updated_at = utcnow()
    await session.flush()
    add_timeline(
        session,
        conversation.contact_id,
        "labels_changed",
        conversation.id,
        added=added,
        removed=removed,
        by=by,
    )
    emit(session, "conversation", conversation_id=conversation.id, state=conversation.state)
    return sorted(wanted)
