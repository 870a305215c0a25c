"""Internal notes: messages agents write for each other on a conversation. A note is a
``Message`` with ``private=True``; it is never queued for delivery and never shown to the
customer. ``@mentions`` in a note notify the agents they name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, add_timeline
from omnidesk.helpdesk.actions.notifications import notify
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import Agent, Author, Conversation, Message, Notification

# A mention ends where a name could not go on: not before a letter, digit or "@._-".
_AFTER = r"(?![\w@.-])"


@dataclass(frozen=True, slots=True)
class Note:
    """A written note and the notifications its mentions created."""

    message: Message
    notifications: list[Notification]


async def add_note(session: AsyncSession, conversation: Conversation, by: Actor, text: str) -> Note:
    """Write an internal note; agents it mentions get a ``mention`` notification."""
    if not text.strip():
        raise ActionError("empty", "a note needs some text")
    note = Message(
        conversation_id=conversation.id,
        author=Author.AGENT,
        author_name=by.name,
        author_id=by.agent_id,
        private=True,
        text=text,
        payload={},
        # No delivery state: a note never goes anywhere.
        delivery=None,
    )
    session.add(note)
    conversation.updated_at = utcnow()
    await session.flush()
    mentioned = [a for a in await mentioned_agents(session, text) if a.id != by.agent_id]
    add_timeline(
        session,
        conversation.contact_id,
        "note",
        conversation.id,
        message_id=note.id,
        mentions=[a.id for a in mentioned],
        by=by,
    )
    # Ids only (the bus may carry it across processes); ``private`` tells every listener
    # that it is for agents, never for the customer's channel.
    emit(
        session,
        "message",
        conversation_id=conversation.id,
        channel=conversation.channel,
        message_id=note.id,
        private=True,
    )
    notifications = [
        await notify(
            session,
            agent.id,
            "mention",
            conversation.id,
            message_id=note.id,
            by=by.name,
            by_id=by.agent_id,
            excerpt=text[:200],
        )
        for agent in mentioned
    ]
    return Note(note, notifications)


async def mentioned_agents(session: AsyncSession, text: str) -> list[Agent]:
    """The active agents ``text`` mentions as ``@email``, ``@Full Name`` or ``@first``
    (a first name only when one active agent has it), case-insensitively."""
    if "@" not in text:
        return []
    agents = (await session.scalars(select(Agent).where(Agent.active.is_(True)))).all()
    firsts: dict[str, int] = {}
    for agent in agents:
        first = agent.name.split()[0].lower() if agent.name.split() else ""
        firsts[first] = firsts.get(first, 0) + 1
    lowered = text.lower()
    found: list[Agent] = []
    for agent in agents:
        names = {agent.email.lower(), agent.name.strip().lower()}
        first = agent.name.split()[0].lower() if agent.name.split() else ""
        if first and firsts[first] == 1:
            names.add(first)
        if any(_mentions(lowered, name) for name in names if name):
            found.append(agent)
    return found


def _mentions(text: str, name: str) -> bool:
    pattern = r"(?<![\w@])@" + re.escape(name) + _AFTER
    return re.search(pattern, text) is not None
