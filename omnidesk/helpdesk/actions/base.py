"""What every action shares: the refusal error, the timeline and audit-log writers and
ISO timestamps."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actor import SYSTEM, Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import AuditEntry, Conversation, TimelineEvent

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
    *,
    by: Actor | None = None,
    **data: Any,
) -> TimelineEvent:
    """Add an event to the contact's timeline. One done ``by`` someone names them there
    and is recorded in the audit log too, as ``conversation.<kind>`` (or ``contact.``),
    with the ids it touched and none of its words."""
    if by is not None:
        data.update(by.audit())
        target = f"conversation:{conversation_id}" if conversation_id else f"contact:{contact_id}"
        ids = {k: v for k, v in data.items() if k.endswith("_id") and k != "by_id"}
        audit_log(session, by, f"{target.split(':')[0]}.{kind}", target, **ids)
    event = TimelineEvent(
        contact_id=contact_id, conversation_id=conversation_id, kind=kind, data=data
    )
    session.add(event)
    return event


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def audit_log(
    session: AsyncSession, by: Actor, what: str, target: str | None = None, **data: Any
) -> AuditEntry | None:
    """Record that ``by`` did ``what`` (a dotted name such as ``agent.created``) to
    ``target`` (``"kind:id"``) in the append-only audit log, in the action's own
    transaction. The system's own housekeeping is not a person's action and is left out.
    ``data`` names records by id; it never holds what a customer wrote."""
    if by is SYSTEM:
        return None
    AUDIT.info("%s %s by %s (%s) from %s", what, target, by.name, by.agent_id, by.ip)
    entry = AuditEntry(
        actor_id=by.agent_id,
        actor_name=by.name[:200],
        actor_role=by.role.value,
        ip=by.ip,
        action=what,
        target=target,
        data=data,
    )
    session.add(entry)
    return entry


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
