"""Shared setup for the agents' work tests: agent accounts, teams and conversations
with a customer message, written the way the service writes them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Actor, Author, Conversation, actions
from omnidesk.helpdesk.models import Agent, AgentRole, Team, TeamMember


async def add_agent(
    session: AsyncSession, name: str, email: str, *, team: Team | None = None
) -> Actor:
    """An active agent account (accounts' own actions belong to the auth work)."""
    agent = Agent(name=name, email=email.lower(), password_hash="-", role=AgentRole.AGENT)
    session.add(agent)
    await session.flush()
    if team is not None:
        session.add(TeamMember(team_id=team.id, agent_id=agent.id))
        await session.flush()
    return Actor(agent.name, agent.id, AgentRole.AGENT, agent.email)


async def add_team(session: AsyncSession, name: str) -> Team:
    team = Team(name=name)
    session.add(team)
    await session.flush()
    return team


async def customer_conversation(
    session: AsyncSession,
    visitor: str,
    text: str = "hello",
    *,
    channel: str = "webchat",
    name: str | None = None,
    email: str | None = None,
    escalate: bool = True,
) -> Conversation:
    """A customer's conversation with one message, handed to people unless told not to."""
    identity = await actions.resolve_identity(session, channel, visitor, name=name, email=email)
    conversation = await actions.current_conversation(session, identity)
    await actions.record_message(session, conversation, Author.CONTACT, text)
    if escalate:
        await actions.escalate(session, conversation, reason="customer_request", subject=text)
    return conversation
