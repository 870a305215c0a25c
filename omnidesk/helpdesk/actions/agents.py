"""Writes about the people who work in the helpdesk: accounts, passwords, teams and their
members (their sign-in sessions, API tokens and sign-in attempts are in ``sessions``).

No contact timeline applies here, so each change that matters is written to the audit log
(``omnidesk.audit`` logger: who did what to whom) and queues an ``agent`` or ``team`` event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import is_row_id
from omnidesk.helpdesk.actions.base import ActionError, audit_log
from omnidesk.helpdesk.actions.fields import clean_email
from omnidesk.helpdesk.actions.sessions import end_sessions
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.auth.crypto import (
    hash_password_async,
)
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    Agent,
    AgentRole,
    AssignmentMode,
    Availability,
    BusinessCalendar,
    Team,
    TeamMember,
)

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
MAX_CAPACITY = 1000


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise ActionError("weak_password", f"a password needs {MIN_PASSWORD_CHARS}+ characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ActionError("invalid", "the password is too long")
    return password


async def _email_free(session: AsyncSession, email: str, agent_id: int | None = None) -> None:
    found = await session.scalar(select(Agent.id).where(Agent.email == email))
    if found is not None and found != agent_id:
        raise ActionError("email_taken", "an account with this email exists")


def _fields(changes: dict[str, Any]) -> dict[str, Any]:
    """Validated account fields from ``changes`` (only those given)."""
    out: dict[str, Any] = {}
    if "name" in changes:
        name = changes["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise ActionError("invalid", "'name' must be a non-empty string")
        out["name"] = name.strip()
    if "role" in changes:
        if changes["role"] not in set(AgentRole):
            raise ActionError("invalid", "'role' must be agent or admin")
        out["role"] = str(changes["role"])
    if "availability" in changes:
        if changes["availability"] not in set(Availability):
            raise ActionError("invalid", "'availability' must be online, away or offline")
        out["availability"] = str(changes["availability"])
    if "skills" in changes:
        skills = changes["skills"]
        if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
            raise ActionError("invalid", "'skills' must be a list of strings")
        out["skills"] = sorted({s.strip().lower() for s in skills if s.strip()})
    if "capacity" in changes:
        capacity = changes["capacity"]
        if not isinstance(capacity, int) or isinstance(capacity, bool):
            raise ActionError("invalid", "'capacity' must be an integer")
        if not 0 <= capacity <= MAX_CAPACITY:
            raise ActionError("invalid", f"'capacity' must be 0..{MAX_CAPACITY}")
        out["capacity"] = capacity
    if "active" in changes:
        if not isinstance(changes["active"], bool):
            raise ActionError("invalid", "'active' must be true or false")
        out["active"] = changes["active"]
    return out


async def create_agent(
    session: AsyncSession, *, email: str, password: str, by: Actor, **fields: Any
) -> Agent:
    """A new account; ``fields``: name, role, skills, capacity, availability."""
    address = clean_email(email)
    await _email_free(session, address)
    values = _fields({"name": fields.pop("name", address.split("@")[0]), **fields})
    agent = Agent(
        email=address,
        password_hash=await hash_password_async(check_password(password)),
        **values,
    )
    session.add(agent)
    await session.flush()
    audit_log(session, by, "agent.created", f"agent:{agent.id}", role=agent.role)
    emit(session, "agent", agent_id=agent.id)
    return agent


async def update_agent(
    session: AsyncSession, agent: Agent, changes: dict[str, Any], by: Actor
) -> Agent:
    """Change account fields; disabling ends the account's sessions."""
    values = _fields(changes)
    if "email" in changes:
        if not isinstance(changes["email"], str):
            raise ActionError("invalid", "'email' must be an email address")
        values["email"] = clean_email(changes["email"])
        await _email_free(session, values["email"], agent.id)
    losing_admin = agent.role == AgentRole.ADMIN and agent.active
    losing_admin = losing_admin and (
        values.get("role", agent.role) != AgentRole.ADMIN or values.get("active") is False
    )
    if losing_admin and await _active_admins(session) <= 1:
        raise ActionError("last_admin", "the last active admin cannot be demoted or disabled")
    for key, value in values.items():
        setattr(agent, key, value)
    if values.get("active") is False:
        agent.availability = Availability.OFFLINE
        await end_sessions(session, agent.id)
    await session.flush()
    if set(values) - {"availability"}:
        audit_log(session, by, "agent.updated", f"agent:{agent.id}", changes=sorted(values))
    emit(session, "agent", agent_id=agent.id)
    return agent


async def disable_agent(session: AsyncSession, agent: Agent, by: Actor) -> Agent:
    return await update_agent(session, agent, {"active": False}, by)


async def _active_admins(session: AsyncSession) -> int:
    rows = await session.scalars(
        select(Agent.id).where(Agent.role == AgentRole.ADMIN, Agent.active.is_(True))
    )
    return len(list(rows))


async def set_password(
    session: AsyncSession,
    agent: Agent,
    password: str,
    by: Actor,
    *,
    keep_session_id: str | None = None,
) -> None:
    """A new password; every session of the account but ``keep_session_id`` ends."""
    agent.password_hash = await hash_password_async(check_password(password))
    ended = await end_sessions(session, agent.id, keep=keep_session_id)
    audit_log(session, by, "agent.password_set", f"agent:{agent.id}", sessions_ended=ended)


async def set_agent_teams(
    session: AsyncSession, agent: Agent, team_ids: Iterable[int], by: Actor
) -> None:
    wanted = await _existing(session, Team, team_ids)
    await session.execute(delete(TeamMember).where(TeamMember.agent_id == agent.id))
    session.add_all(TeamMember(team_id=t, agent_id=agent.id) for t in sorted(wanted))
    await session.flush()
    audit_log(session, by, "agent.teams_set", f"agent:{agent.id}", teams=sorted(wanted))
    emit(session, "agent", agent_id=agent.id)


async def _existing(session: AsyncSession, model: type[Any], ids: Iterable[int]) -> set[int]:
    wanted = set(ids)
    if not all(is_row_id(i) for i in wanted):
        raise ActionError("invalid", "ids must be positive integers")
    found = set((await session.scalars(select(model.id).where(model.id.in_(wanted)))).all())
    if found != wanted:
        raise ActionError("not_found", f"unknown ids: {sorted(wanted - found)}")
    return found


# -- teams ---------------------------------------------------------------------------------


def _team_fields(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in changes:
        name = changes["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ActionError("invalid", "'name' must be a non-empty string")
        out["name"] = name.strip()
    if "description" in changes:
        if not isinstance(changes["description"], str):
            raise ActionError("invalid", "'description' must be a string")
        out["description"] = changes["description"][:2000]
    if "assignment" in changes:
        if changes["assignment"] not in set(AssignmentMode):
            raise ActionError("invalid", "'assignment' must be round_robin, least_busy or manual")
        out["assignment"] = str(changes["assignment"])
    return out


async def _team_name_free(session: AsyncSession, name: str, team_id: int | None = None) -> None:
    found = await session.scalar(select(Team.id).where(Team.name == name))
    if found is not None and found != team_id:
        raise ActionError("name_taken", "a team with this name exists")


async def _team_calendar(session: AsyncSession, changes: dict[str, Any]) -> dict[str, Any]:
    """``calendar_id``: the business hours the team's SLA clocks count (null: the default)."""
    if "calendar_id" not in changes:
        return {}
    calendar_id = changes["calendar_id"]
    if calendar_id is None:
        return {"calendar_id": None}
    if not is_row_id(calendar_id) or await session.get(BusinessCalendar, calendar_id) is None:
        raise ActionError("invalid", "'calendar_id' must be the id of a business calendar")
    return {"calendar_id": calendar_id}


async def create_team(session: AsyncSession, changes: dict[str, Any], by: Actor) -> Team:
    values = _team_fields(changes) | await _team_calendar(session, changes)
    if "name" not in values:
        raise ActionError("invalid", "'name' must be a non-empty string")
    await _team_name_free(session, values["name"])
    team = Team(**values)
    session.add(team)
    await session.flush()
    if "members" in changes:
        await set_team_members(session, team, changes["members"], by)
    audit_log(session, by, "team.created", f"team:{team.id}", name=team.name)
    emit(session, "team", team_id=team.id)
    return team


async def update_team(
    session: AsyncSession, team: Team, changes: dict[str, Any], by: Actor
) -> Team:
    values = _team_fields(changes) | await _team_calendar(session, changes)
    if "name" in values:
        await _team_name_free(session, values["name"], team.id)
    for key, value in values.items():
        setattr(team, key, value)
    if "members" in changes:
        await set_team_members(session, team, changes["members"], by)
    await session.flush()
    audit_log(session, by, "team.updated", f"team:{team.id}", changes=sorted(changes))
    emit(session, "team", team_id=team.id)
    return team


async def delete_team(session: AsyncSession, team: Team, by: Actor) -> None:
    team_id = team.id
    await session.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
    await session.delete(team)
    await session.flush()
    audit_log(session, by, "team.deleted", f"team:{team_id}")
    emit(session, "team", team_id=team_id)


async def set_team_members(session: AsyncSession, team: Team, agent_ids: Any, by: Actor) -> None:
    if not isinstance(agent_ids, list):
        raise ActionError("invalid", "'members' must be a list of agent ids")
    wanted = await _existing(session, Agent, agent_ids)
    await session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
    session.add_all(TeamMember(team_id=team.id, agent_id=a) for a in sorted(wanted))
    await session.flush()
    audit_log(session, by, "team.members_set", f"team:{team.id}", members=sorted(wanted))


async def first_admin(
    session: AsyncSession, *, email: str, password: str, by: Actor
) -> Agent | None:
    """The first start's admin account; None (nothing done) once any account exists."""
    if await session.scalar(select(Agent.id).limit(1)) is not None:
        return None
    return await create_agent(
        session, email=email, password=password, by=by, name="Admin", role=AgentRole.ADMIN
    )
