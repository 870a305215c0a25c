"""Reads about accounts: who an email, a session cookie or an API token belongs to, the
JSON shape of agents and teams, and how many sign-in tries failed lately."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.auth.crypto import API_TOKEN_PREFIX, token_digest
from omnidesk.helpdesk.models import (
    Agent,
    AgentSession,
    ApiToken,
    LoginAttempt,
    Team,
    TeamMember,
)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


async def agent_by_email(session: AsyncSession, email: str) -> Agent | None:
    return await session.scalar(select(Agent).where(Agent.email == email.strip().lower()))


async def teams_of(session: AsyncSession, agent_ids: Sequence[int]) -> dict[int, list[dict]]:
    rows = await session.execute(
        select(TeamMember.agent_id, Team.id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.agent_id.in_(list(agent_ids)))
        .order_by(Team.name)
    )
    out: dict[int, list[dict]] = defaultdict(list)
    for agent_id, team_id, name in rows:
        out[agent_id].append({"id": team_id, "name": name})
    return out


def agent_dict(agent: Agent, teams: list[dict] | None = None) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.name,
        "email": agent.email,
        "role": agent.role,
        "availability": agent.availability,
        "skills": list(agent.skills or []),
        "capacity": agent.capacity,
        "active": agent.active,
        "teams": teams or [],
        "last_seen_at": _iso(agent.last_seen_at),
    }


async def agents_payload(session: AsyncSession, agents: Sequence[Agent]) -> list[dict[str, Any]]:
    teams = await teams_of(session, [a.id for a in agents])
    return [agent_dict(a, teams.get(a.id)) for a in agents]


async def list_agents(session: AsyncSession) -> list[dict[str, Any]]:
    agents = (await session.scalars(select(Agent).order_by(Agent.name, Agent.id))).all()
    return await agents_payload(session, agents)


async def team_dict(session: AsyncSession, team: Team) -> dict[str, Any]:
    members = await session.scalars(
        select(TeamMember.agent_id).where(TeamMember.team_id == team.id)
    )
    return {
        "id": team.id,
        "name": team.name,
        "description": team.description,
        "assignment": team.assignment,
        "calendar_id": team.calendar_id,
        "members": sorted(members.all()),
    }


async def list_teams(session: AsyncSession) -> list[dict[str, Any]]:
    teams = (await session.scalars(select(Team).order_by(Team.name))).all()
    return [await team_dict(session, t) for t in teams]


async def find_session(
    session: AsyncSession, token: str, idle: dt.timedelta
) -> tuple[AgentSession, Agent] | None:
    """The live session of a cookie token: not expired, not idle too long, account active."""
    row = await session.execute(
        select(AgentSession, Agent)
        .join(Agent, Agent.id == AgentSession.agent_id)
        .where(AgentSession.id == token_digest(token), Agent.active.is_(True))
    )
    found = row.first()
    if found is None:
        return None
    agent_session, agent = found
    now = utcnow()
    if agent_session.expires_at <= now or agent_session.last_seen_at + idle <= now:
        return None
    return agent_session, agent


async def find_api_token(session: AsyncSession, secret: str) -> tuple[ApiToken, Agent] | None:
    if not secret.startswith(API_TOKEN_PREFIX):
        return None
    row = await session.execute(
        select(ApiToken, Agent)
        .join(Agent, Agent.id == ApiToken.agent_id)
        .where(
            ApiToken.token_hash == token_digest(secret),
            ApiToken.revoked_at.is_(None),
            Agent.active.is_(True),
        )
    )
    found = row.first()
    return (found[0], found[1]) if found else None


def token_dict(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": _iso(token.created_at),
        "last_used_at": _iso(token.last_used_at),
        "revoked_at": _iso(token.revoked_at),
    }


async def failed_attempts(
    session: AsyncSession, since: dt.datetime, *, email: str | None = None, ip: str | None = None
) -> tuple[int, dt.datetime | None]:
    """How many sign-in tries failed since ``since`` for the email or address, and the
    oldest of them (it says when the limit lifts)."""
    query = select(func.count(), func.min(LoginAttempt.created_at)).where(
        LoginAttempt.success.is_(False), LoginAttempt.created_at >= since
    )
    if email is not None:
        query = query.where(LoginAttempt.email == email)
    if ip is not None:
        query = query.where(LoginAttempt.ip == ip)
    count, oldest = (await session.execute(query)).one()
    if isinstance(oldest, dt.datetime) and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return int(count), oldest
