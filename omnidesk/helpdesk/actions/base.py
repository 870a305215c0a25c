"""What every action shares: the refusal error, the timeline writer and ISO timestamps."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import Conversation, TimelineEvent

# Who did what to whom, for writes with no contact timeline (accounts, teams, tokens).
AUDIT = logging.getLogger("omnidesk.audit")


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


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def audit_log(by: Actor, what: str, **data: Any) -> None:
    AUDIT.info("%s by %s (%s): %s", what, by.name, by.agent_id, data)


def conversation_changed(session: AsyncSession, conversation: Conversation) -> None:
    """Queue the ``conversation`` event every view of the conversation list follows."""
    emit(
        session,
        "conversation",
        conversation_id=conversation.id,
        state=conversation.state,
        assignee_id=conversation.assignee_id,
        team_id=conversation.team_id,
    )
