"""Agent accounts from the command line (``omnidesk agents ...``) and the first start's
admin account, so the README's one start command is all a new install needs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.config import Settings, load_settings, read_or_create_secret
from omnidesk.db import create_engine, sessionmaker
from omnidesk.helpdesk import SYSTEM, Actor, EventBus, actions, unit_of_work
from omnidesk.helpdesk.models import Agent, AgentRole

T = TypeVar("T")
CLI_ACTOR = Actor("command line", role=AgentRole.ADMIN)
ADMIN_PASSWORD_FILE = "admin_password"  # noqa: S105 (a file name)


# -- first start ----------------------------------------------------------------------------


async def first_start_admin(
    settings: Settings, maker: async_sessionmaker[AsyncSession], bus: EventBus | None = None
) -> tuple[str, str | None] | None:
    """Create the admin account when no account exists yet. Returns (email, password to
    show, or None when it came from the environment), or None when accounts exist."""
    async with maker() as session:
        if await session.scalar(select(Agent.id).limit(1)) is not None:
            return None
    given = settings.admin_password
    if given is not None:
        password, shown = given.get_secret_value(), None
    else:
        # Kept in a file (mode 0600) so it survives a missed terminal line.
        password = read_or_create_secret(settings.data_dir / ADMIN_PASSWORD_FILE)
        shown = password
    try:
        async with unit_of_work(maker, bus) as session:
            agent = await actions.first_admin(
                session, email=settings.admin_email, password=password, by=SYSTEM
            )
    except IntegrityError:
        return None  # another process made it first
    return (agent.email, shown) if agent is not None else None


def sign_in_lines(
    base: str, created: tuple[str, str | None] | None, settings: Settings
) -> list[str]:
    lines = [f"  agent console:  {base}/console  (sign in at {base}/signin)"]
    if created is not None:
        email, password = created
        lines.append("  first start: an admin account was created")
        lines.append(f"    email:    {email}")
        if password is not None:
            where = settings.data_dir / ADMIN_PASSWORD_FILE
            lines.append(f"    password: {password}  (also in {where}; change it after signing in)")
        else:
            lines.append("    password: the one in OMNIDESK_ADMIN_PASSWORD")
    return lines


# -- omnidesk agents ------------------------------------------------------------------------


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The migrated database of ``settings``, for one command."""
    from omnidesk.bot.migrate import upgrade

    engine = create_engine(settings.effective_database_url)
    try:
        await upgrade(engine)
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


def _run(ctx: click.Context, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    settings = load_settings(**ctx.obj.get("overrides", {}))

    async def run() -> T:
        async with open_database(settings) as maker:
            try:
                return await work(maker)
            except actions.ActionError as exc:
                raise click.ClickException(exc.message) from None

    return asyncio.run(run())


async def _by_email(session: AsyncSession, email: str) -> Agent:
    agent = await session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        raise click.ClickException(f"no account with email {email}")
    return agent


@click.group()
def agents() -> None:
    """Agent and admin accounts."""


@agents.command("add")
@click.argument("email")
@click.option("--name", help="display name (default: the email's local part)")
@click.option("--role", type=click.Choice(["agent", "admin"]), default="agent", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--skill", "skills", multiple=True, help="a skill (repeatable)")
@click.option("--capacity", type=int, help="open conversations at once")
@click.pass_context
def agents_add(
    ctx: click.Context,
    email: str,
    name: str | None,
    role: str,
    password: str,
    skills: tuple[str, ...],
    capacity: int | None,
) -> None:
    """Create an account."""
    fields: dict[str, Any] = {"role": role, "skills": list(skills)}
    if name:
        fields["name"] = name
    if capacity is not None:
        fields["capacity"] = capacity

    async def work(maker: async_sessionmaker[AsyncSession]) -> int:
        async with unit_of_work(maker) as session:
            agent = await actions.create_agent(
                session, email=email, password=password, by=CLI_ACTOR, **fields
            )
            return agent.id

    agent_id = _run(ctx, work)
    click.echo(f"{role} {email.strip().lower()} created (id {agent_id})")


@agents.command("list")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_context
def agents_list(ctx: click.Context, as_json: bool) -> None:
    """Every account."""
    from omnidesk.helpdesk.auth.directory import list_agents

    async def work(maker: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with maker() as session:
            return await list_agents(session)

    for agent in _run(ctx, work):
        if as_json:
            click.echo(json.dumps(agent))
            continue
        state = "active" if agent["active"] else "disabled"
        teams = ",".join(t["name"] for t in agent["teams"]) or "-"
        click.echo(
            f"{agent['id']:>4}  {agent['email']:<32} {agent['name']:<20} {agent['role']:<6} "
            f"{state:<8} {agent['availability']:<8} teams={teams}"
        )


@agents.command("disable")
@click.argument("email")
@click.pass_context
def agents_disable(ctx: click.Context, email: str) -> None:
    """Disable an account; its sessions end and its API tokens stop working."""

    async def work(maker: async_sessionmaker[AsyncSession]) -> None:
        async with unit_of_work(maker) as session:
            await actions.disable_agent(session, await _by_email(session, email), CLI_ACTOR)

    _run(ctx, work)
    click.echo(f"{email} disabled")


@agents.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.pass_context
def agents_set_password(ctx: click.Context, email: str, password: str) -> None:
    """Set an account's password; its sessions end."""

    async def work(maker: async_sessionmaker[AsyncSession]) -> None:
        async with unit_of_work(maker) as session:
            await actions.set_password(
                session, await _by_email(session, email), password, CLI_ACTOR
            )

    _run(ctx, work)
    click.echo(f"password of {email} set; its sessions ended")
