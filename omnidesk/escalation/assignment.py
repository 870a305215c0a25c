"""Automatic assignment: which agent gets a queued conversation.

Among active, online agents of the conversation's team (any agent when it has none)
who have the skill it needs and free capacity (fewer open conversations than their
capacity), the team's mode picks one: ``round_robin`` takes the next agent after the
team's cursor, ``least_busy`` the one holding the fewest (ties in round-robin order);
``manual`` never assigns. The team row is locked while choosing, so two processes
never hand out the same turn or overfill an agent.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Actor, Conversation, ConversationState, actions
from omnidesk.helpdesk.models import Agent, AssignmentMode, Availability, Team, TeamMember

# The states in which a conversation takes up one of its assignee's capacity slots.
HELD = (ConversationState.ASSIGNED, ConversationState.PENDING, ConversationState.SNOOZED)


@dataclass(frozen=True, slots=True)
class Candidate:
    agent_id: int
    load: int
    capacity: int


def choose(candidates: Sequence[Candidate], mode: str, cursor: int | None) -> int | None:
    """The agent id to assign, or None when nobody has room. Pure."""
    if mode == AssignmentMode.MANUAL:
        return None
    free = sorted((c for c in candidates if c.load < c.capacity), key=lambda c: c.agent_id)
    if not free:
        return None
    # Round-robin order: the agents after the cursor, then from the start again.
    after = [c for c in free if cursor is not None and c.agent_id > cursor]
    order = after + [c for c in free if c not in after]
    if mode == AssignmentMode.LEAST_BUSY:
        return min(order, key=lambda c: c.load).agent_id
    return order[0].agent_id


def has_skill(agent: Agent, skill: str | None) -> bool:
    if not skill:
        return True
    return skill.casefold() in {str(s).casefold() for s in agent.skills or []}


async def loads(session: AsyncSession, agent_ids: Collection[int]) -> dict[int, int]:
    """Open conversations each agent holds."""
    if not agent_ids:
        return {}
    rows = await session.execute(
        select(Conversation.assignee_id, func.count())
        .where(Conversation.assignee_id.in_(list(agent_ids)), Conversation.state.in_(HELD))
        .group_by(Conversation.assignee_id)
    )
    counts = {agent_id: count for agent_id, count in rows.tuples() if agent_id is not None}
    return {agent_id: counts.get(agent_id, 0) for agent_id in agent_ids}


async def _available(
    session: AsyncSession, team: Team | None, skill: str | None, exclude: Collection[int]
) -> list[Agent]:
    query = select(Agent).where(Agent.active.is_(True), Agent.availability == Availability.ONLINE)
    if team is not None:
        members = select(TeamMember.agent_id).where(TeamMember.team_id == team.id)
        query = query.where(Agent.id.in_(members))
    if exclude:
        query = query.where(Agent.id.not_in(list(exclude)))
    agents = (await session.scalars(query.order_by(Agent.id))).all()
    return [agent for agent in agents if has_skill(agent, skill)]


async def auto_assign(
    session: AsyncSession,
    conversation: Conversation,
    *,
    skill: str | None = None,
    exclude: Collection[int] = (),
) -> Actor | None:
    """Give a queued, unassigned conversation to an agent, if one fits; who got it.

    ``skill`` overrides the conversation's ``required_skill``; ``exclude`` lists agents
    not to choose (the one who just left it unanswered)."""
    if conversation.state != ConversationState.QUEUED or conversation.assignee_id is not None:
        return None
    team: Team | None = None
    mode, cursor = str(AssignmentMode.LEAST_BUSY), None
    if conversation.team_id is not None:
        team = await session.scalar(
            select(Team).where(Team.id == conversation.team_id).with_for_update()
        )
    if team is not None:
        mode, cursor = team.assignment, team.last_assigned_agent_id
    if mode == AssignmentMode.MANUAL:
        return None
    agents = {
        a.id: a
        for a in await _available(session, team, skill or conversation.required_skill, exclude)
    }
    held = await loads(session, agents)
    while agents:
        candidates = [Candidate(a.id, held[a.id], a.capacity) for a in agents.values()]
        chosen = choose(candidates, mode, cursor)
        if chosen is None:
            return None
        if team is None:
            # No team row to serialise on: lock the agent and count again.
            await session.scalar(select(Agent.id).where(Agent.id == chosen).with_for_update())
            if (await loads(session, [chosen]))[chosen] >= agents[chosen].capacity:
                del agents[chosen]
                continue
        return await actions.auto_assigned(session, conversation, agents[chosen], team)
    return None
