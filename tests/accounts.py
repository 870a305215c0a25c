"""Agent accounts for tests: create one through the helpdesk actions and get headers that
sign its requests in (a personal API token, or a browser session with its CSRF token)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk import SYSTEM, actions, unit_of_work
from omnidesk.helpdesk.models import Agent

PASSWORD = "correct horse battery staple"


async def add_agent(
    maker: async_sessionmaker[AsyncSession],
    email: str,
    *,
    role: str = "agent",
    password: str = PASSWORD,
    name: str | None = None,
    **fields: Any,
) -> int:
    """The id of the account with ``email``, created when it does not exist yet."""
    async with unit_of_work(maker) as session:
        found = await session.scalar(select(Agent).where(Agent.email == email))
        if found is not None:
            return found.id
        agent = await actions.create_agent(
            session,
            email=email,
            password=password,
            by=SYSTEM,
            name=name or email.split("@")[0].capitalize(),
            role=role,
            **fields,
        )
        return agent.id


async def api_token(maker: async_sessionmaker[AsyncSession], agent_id: int) -> str:
    async with unit_of_work(maker) as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
        _, secret = await actions.create_api_token(session, agent, "tests", SYSTEM)
        return secret


async def bearer(
    maker: async_sessionmaker[AsyncSession],
    role: str = "agent",
    email: str | None = None,
    name: str | None = None,
) -> dict[str, str]:
    """``Authorization`` headers of a (new or existing) account with ``role``."""
    agent_id = await add_agent(maker, email or f"{role}@example.test", role=role, name=name)
    return {"Authorization": f"Bearer {await api_token(maker, agent_id)}"}


async def client_bearer(client: Any, role: str = "agent") -> dict[str, str]:
    """Headers for an aiohttp test client of ``create_app``."""
    from omnidesk.bot.app import SERVICES

    return await bearer(client.app[SERVICES].sessionmaker, role)
