"""Rows the routing tests start from: agents, teams and queued conversations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Author, Conversation, actions
from omnidesk.helpdesk.models import Agent, Team, TeamMember


async def agent(
    session: AsyncSession,
    name: str,
    *,
    skills: Sequence[str] = (),
    capacity: int = 5,
    availability: str = "online",
    active: bool = True,
    role: str = "agent",
) -> Agent:
    row = Agent(
        name=name,
        email=f"{name.lower()}@example.com",
        password_hash="-",
        role=role,
        skills=list(skills),
        capacity=capacity,
        availability=availability,
        active=active,
    )
    session.add(row)
    await session.flush()
    return row


async def team(
    session: AsyncSession,
    name: str,
    members: Sequence[Agent],
    *,
    assignment: str = "round_robin",
    calendar_id: int | None = None,
) -> Team:
    row = Team(name=name, assignment=assignment, calendar_id=calendar_id)
    session.add(row)
    await session.flush()
    session.add_all(TeamMember(team_id=row.id, agent_id=m.id) for m in members)
    await session.flush()
    return row


async def queued(
    session: AsyncSession, visitor: str, *, team_id: int | None = None, skill: str | None = None
) -> Conversation:
    """A conversation a customer asked a person for, in ``team_id``'s queue."""
    identity = await actions.resolve_identity(session, "webchat", visitor, name=visitor)
    conversation = await actions.current_conversation(session, identity)
    await actions.record_message(session, conversation, Author.CONTACT, "I need a person")
    await actions.escalate(session, conversation, reason="customer_request", subject="help")
    conversation.team_id = team_id
    actions.require_skill(session, conversation, skill)
    await session.flush()
    return conversation
