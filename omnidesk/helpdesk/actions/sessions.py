"""Writes about who is signed in: browser sessions, personal API tokens and the record of
sign-in attempts (what the rate limits count). Each change that matters goes to the
audit log; ending sessions queues the events that close their live sockets."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import utcnow
from omnidesk.helpdesk.actions.base import ActionError, audit_log
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.auth.crypto import new_api_token, new_token, token_digest
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import (
    Agent,
    AgentRole,
    AgentSession,
    ApiToken,
    Availability,
    LoginAttempt,
)


async def start_session(
    session: AsyncSession,
    agent: Agent,
    *,
    lifetime: dt.timedelta,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[AgentSession, str]:
    """A signed-in browser; returns the row and the cookie token (stored only hashed)."""
    token = new_token()
    now = utcnow()
    row = AgentSession(
        id=token_digest(token),
        agent_id=agent.id,
        csrf_token=new_token(),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        ip=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    agent.last_seen_at = now
    await session.flush()
    audit_log(session, Actor.of(agent, row.ip), "session.signed_in", f"agent:{agent.id}")
    return row, token


async def end_session(session: AsyncSession, session_id: str) -> None:
    """Sign one browser out; its live sockets close too, in every process. With it the
    account's last live session ends, and the agent goes offline: nobody signed out is
    handed conversations automatically."""
    ended = await session.get(AgentSession, session_id)
    if ended is None:
        return
    await session.delete(ended)
    # The id is the token's hash, not the token: safe to put on the bus.
    emit(session, "session_ended", session_id=session_id)
    others = await session.scalar(
        select(AgentSession.id)
        .where(AgentSession.agent_id == ended.agent_id, AgentSession.expires_at > utcnow())
        .where(AgentSession.id != session_id)
        .limit(1)
    )
    agent = await session.get(Agent, ended.agent_id)
    if others is None and agent is not None and agent.availability != Availability.OFFLINE:
        agent.availability = Availability.OFFLINE
        emit(session, "agent", agent_id=agent.id)


async def end_sessions(session: AsyncSession, agent_id: int, *, keep: str | None = None) -> int:
    """End every session of an account (but ``keep``); returns how many ended."""
    query = delete(AgentSession).where(AgentSession.agent_id == agent_id)
    if keep is not None:
        query = query.where(AgentSession.id != keep)
    result = await session.execute(query)
    # Live sockets of those sessions close too, in every process (helpdesk.live).
    emit(session, "sessions_ended", agent_id=agent_id, keep=keep)
    return int(getattr(result, "rowcount", 0) or 0)


async def touch_session(session: AsyncSession, session_id: str, agent_id: int) -> None:
    """Record activity, which keeps a session past its idle timeout."""
    now = utcnow()
    await session.execute(
        update(AgentSession).where(AgentSession.id == session_id).values(last_seen_at=now)
    )
    await session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=now))


async def create_api_token(
    session: AsyncSession, agent: Agent, name: str, by: Actor
) -> tuple[ApiToken, str]:
    """A personal API token; the secret is returned once and only its hash is kept."""
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise ActionError("invalid", "'name' must be a non-empty string")
    secret = new_api_token()
    row = ApiToken(
        agent_id=agent.id, name=name.strip(), token_hash=token_digest(secret), prefix=secret[:10]
    )
    session.add(row)
    await session.flush()
    audit_log(session, by, "token.created", f"token:{row.id}", agent_id=agent.id)
    return row, secret


async def revoke_api_token(session: AsyncSession, token: ApiToken, by: Actor) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    audit_log(session, by, "token.revoked", f"token:{token.id}", agent_id=token.agent_id)


async def touch_api_token(session: AsyncSession, token_id: int) -> None:
    await session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow())
    )


async def record_login_attempt(
    session: AsyncSession, email: str, ip: str, success: bool, *, keep: dt.timedelta
) -> None:
    """Count a sign-in try; tries older than ``keep`` are dropped as new ones come."""
    now = utcnow()
    session.add(LoginAttempt(email=email[:320], ip=ip[:64], success=success, created_at=now))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - keep))
    if not success:
        # Nobody is signed in yet: the attempt is the caller's, known only by address.
        nobody = Actor("unknown", role=AgentRole.AGENT, ip=ip[:64])
        audit_log(session, nobody, "session.sign_in_failed", None, email=email[:320])
