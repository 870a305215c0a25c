"""Accounts over HTTP: the sign-in page, sign-in and sign-out, the caller's own account
(``/api/v1/me``: profile, password, API tokens) and, for admins, agents and teams.

Who may call what is marked on each route; the auth middleware (``auth.AuthGuard``)
enforces it. Every change goes through ``actions``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.db import is_row_id, utcnow
from omnidesk.helpdesk import actions
from omnidesk.helpdesk.auth import directory
from omnidesk.helpdesk.auth.crypto import verify_password_async
from omnidesk.helpdesk.auth.guard import AuthGuard
from omnidesk.helpdesk.events import EventBus, unit_of_work
from omnidesk.helpdesk.http import (
    HTTPJSONError,
    actor_of,
    admin_only,
    agents_only,
    identity_of,
    public,
    read_json,
)
from omnidesk.helpdesk.models import Agent, ApiToken, Team
from omnidesk.helpdesk.work_http import path_id

CONSOLE_DIR = Path(__file__).parent / "console"
SIGNIN_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ERROR_STATUS = {
    "not_found": 404,
    "email_taken": 409,
    "name_taken": 409,
    "last_admin": 409,
    "wrong_password": 403,
}
AGENT_ID = r"{id:\d{1,12}}"


def _refused(exc: actions.ActionError) -> HTTPJSONError:
    return HTTPJSONError(ERROR_STATUS.get(exc.code, 400), exc.code, exc.message)


def _str(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise HTTPJSONError(400, "invalid", f"'{name}' must be a non-empty string")
    return value


class PeopleAPI:
    """Handlers for sign-in, ``/api/v1/me``, ``/api/v1/agents`` and ``/api/v1/teams``."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus, guard: AuthGuard
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._guard = guard

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/signin", public(self.signin_page)),
            web.get("/signin/signin.js", public(self.signin_asset)),
            web.get("/signin/signin.css", public(self.signin_asset)),
            web.post("/api/v1/auth/login", public(self.login)),
            web.post("/api/v1/auth/logout", agents_only(self.logout)),
            web.get("/api/v1/me", agents_only(self.me)),
            web.patch("/api/v1/me", agents_only(self.patch_me)),
            web.post("/api/v1/me/password", agents_only(self.change_password)),
            web.get("/api/v1/me/tokens", agents_only(self.list_tokens)),
            web.post("/api/v1/me/tokens", agents_only(self.create_token)),
            web.delete(f"/api/v1/me/tokens/{AGENT_ID}", agents_only(self.revoke_token)),
            # Agents see who their colleagues and teams are (to hand work over); only
            # admins change them.
            web.get("/api/v1/agents", agents_only(self.list_agents)),
            web.post("/api/v1/agents", admin_only(self.create_agent)),
            web.patch(f"/api/v1/agents/{AGENT_ID}", admin_only(self.update_agent)),
            web.get("/api/v1/teams", agents_only(self.list_teams)),
            web.post("/api/v1/teams", admin_only(self.create_team)),
            web.patch(f"/api/v1/teams/{AGENT_ID}", admin_only(self.update_team)),
            web.delete(f"/api/v1/teams/{AGENT_ID}", admin_only(self.delete_team)),
        ]

    # -- sign-in ---------------------------------------------------------------------------

    async def signin_page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            CONSOLE_DIR / "signin.html",
            headers={"Content-Security-Policy": SIGNIN_CSP, "Cache-Control": "no-store"},
        )

    async def signin_asset(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(CONSOLE_DIR / Path(request.path).name)

    async def login(self, request: web.Request) -> web.Response:
        """``{email, password}`` → ``{agent, csrf_token}`` and the session cookie."""
        # Only JSON: a cross-site form cannot send it without the browser asking first.
        if request.content_type != "application/json":
            raise HTTPJSONError(415, "unsupported", "send the credentials as JSON")
        data = await read_json(request)
        email, password = _str(data, "email").strip().lower()[:320], _str(data, "password")
        ip = (request.remote or "unknown")[:64]
        await self._check_rate(email, ip)
        async with self._sessionmaker() as session:
            agent = await directory.agent_by_email(session, email)
        hashed = agent.password_hash if agent is not None and agent.active else None
        ok = await verify_password_async(hashed, password)
        settings = self._guard.settings
        keep = dt.timedelta(seconds=settings.login_window_seconds)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            await actions.record_login_attempt(session, email, ip, ok, keep=keep)
        if not ok or agent is None:
            raise HTTPJSONError(401, "bad_credentials", "wrong email or password")
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            agent = await session.get(Agent, agent.id)
            assert agent is not None
            row, token = await actions.start_session(
                session,
                agent,
                lifetime=dt.timedelta(hours=settings.session_hours),
                ip=ip,
                user_agent=request.headers.get("User-Agent"),
            )
            body = {
                "agent": (await directory.agents_payload(session, [agent]))[0],
                "csrf_token": row.csrf_token,
            }
        response = web.json_response(body)
        self._guard.set_cookie(request, response, token)
        return response

    async def _check_rate(self, email: str, ip: str) -> None:
        settings = self._guard.settings
        window = dt.timedelta(seconds=settings.login_window_seconds)
        now = utcnow()
        async with self._sessionmaker() as session:
            by_account = await directory.failed_attempts(session, now - window, email=email)
            by_ip = await directory.failed_attempts(session, now - window, ip=ip)
        waits = [
            (oldest + window - now).total_seconds()
            for (count, oldest), limit in (
                (by_account, settings.login_max_per_account),
                (by_ip, settings.login_max_per_ip),
            )
            if count >= limit and oldest is not None
        ]
        if waits:
            retry = max(1, math.ceil(max(waits)))
            error = HTTPJSONError(429, "rate_limited", "too many sign-in attempts; wait a while")
            error.headers["Retry-After"] = str(retry)
            raise error

    async def logout(self, request: web.Request) -> web.Response:
        identity = identity_of(request)
        if identity.session_id is not None:
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                await actions.end_session(session, identity.session_id)
        response = web.json_response({"signed_out": True})
        self._guard.clear_cookie(request, response)
        return response

    # -- me --------------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        identity = identity_of(request)
        async with self._sessionmaker() as session:
            agent = await self._agent(session, identity.actor.agent_id)
            payload = (await directory.agents_payload(session, [agent]))[0]
        return web.json_response({"agent": payload, "csrf_token": identity.csrf_token})

    async def patch_me(self, request: web.Request) -> web.Response:
        """``{availability?, name?}``: what an agent may change about themselves."""
        data = await read_json(request)
        changes: dict[str, Any] = {k: data[k] for k in ("availability", "name") if k in data}
        actor = actor_of(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            agent = await self._agent(session, actor.agent_id)
            try:
                await actions.update_agent(session, agent, changes, actor)
            except actions.ActionError as exc:
                raise _refused(exc) from None
            payload = (await directory.agents_payload(session, [agent]))[0]
        return web.json_response({"agent": payload})

    async def change_password(self, request: web.Request) -> web.Response:
        """``{current, new}``; the account's other sessions end."""
        data = await read_json(request)
        current, new = _str(data, "current"), _str(data, "new")
        identity = identity_of(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            agent = await self._agent(session, identity.actor.agent_id)
            if not await verify_password_async(agent.password_hash, current):
                raise HTTPJSONError(403, "wrong_password", "the current password is wrong")
            try:
                await actions.set_password(
                    session, agent, new, identity.actor, keep_session_id=identity.session_id
                )
            except actions.ActionError as exc:
                raise _refused(exc) from None
        return web.json_response({"changed": True})

    async def list_tokens(self, request: web.Request) -> web.Response:
        actor = actor_of(request)
        async with self._sessionmaker() as session:
            rows = await session.scalars(
                select(ApiToken).where(ApiToken.agent_id == actor.agent_id).order_by(ApiToken.id)
            )
            tokens = [directory.token_dict(t) for t in rows]
        return web.json_response({"tokens": tokens})

    async def create_token(self, request: web.Request) -> web.Response:
        """``{name}`` → the token's secret, shown this once."""
        data = await read_json(request)
        actor = actor_of(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            agent = await self._agent(session, actor.agent_id)
            try:
                row, secret = await actions.create_api_token(
                    session, agent, str(data.get("name") or ""), actor
                )
            except actions.ActionError as exc:
                raise _refused(exc) from None
            body = {"token": directory.token_dict(row), "secret": secret}
        return web.json_response(body, status=201)

    async def revoke_token(self, request: web.Request) -> web.Response:
        actor = actor_of(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            token = await session.get(ApiToken, path_id(request))
            if token is None or token.agent_id != actor.agent_id:
                raise HTTPJSONError(404, "not_found", "no such token")
            await actions.revoke_api_token(session, token, actor)
            body = {"token": directory.token_dict(token)}
        return web.json_response(body)

    # -- agents and teams (admin) ------------------------------------------------------------

    async def list_agents(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            return web.json_response({"agents": await directory.list_agents(session)})

    async def create_agent(self, request: web.Request) -> web.Response:
        """``{name, email, password, role?, skills?, capacity?, teams?}``."""
        data = await read_json(request)
        actor = actor_of(request)
        fields = {k: data[k] for k in ("name", "role", "skills", "capacity") if k in data}
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            try:
                agent = await actions.create_agent(
                    session,
                    email=_str(data, "email"),
                    password=_str(data, "password"),
                    by=actor,
                    **fields,
                )
                if "teams" in data:
                    await actions.set_agent_teams(session, agent, _ids(data, "teams"), actor)
            except actions.ActionError as exc:
                raise _refused(exc) from None
            payload = (await directory.agents_payload(session, [agent]))[0]
        return web.json_response({"agent": payload}, status=201)

    async def update_agent(self, request: web.Request) -> web.Response:
        """Any of name, email, role, skills, capacity, availability, active, password,
        teams; disabling or a new password ends the account's sessions."""
        data = await read_json(request)
        actor = actor_of(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            agent = await self._agent(session, path_id(request))
            try:
                await actions.update_agent(session, agent, data, actor)
                if "password" in data:
                    await actions.set_password(session, agent, _str(data, "password"), actor)
                if "teams" in data:
                    await actions.set_agent_teams(session, agent, _ids(data, "teams"), actor)
            except actions.ActionError as exc:
                raise _refused(exc) from None
            payload = (await directory.agents_payload(session, [agent]))[0]
        return web.json_response({"agent": payload})

    async def list_teams(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            return web.json_response({"teams": await directory.list_teams(session)})

    async def create_team(self, request: web.Request) -> web.Response:
        """``{name, description?, assignment?, members?: [agent ids]}``."""
        data = await read_json(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            try:
                team = await actions.create_team(session, data, actor_of(request))
            except actions.ActionError as exc:
                raise _refused(exc) from None
            payload = await directory.team_dict(session, team)
        return web.json_response({"team": payload}, status=201)

    async def update_team(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            team = await self._team(session, request)
            try:
                await actions.update_team(session, team, data, actor_of(request))
            except actions.ActionError as exc:
                raise _refused(exc) from None
            payload = await directory.team_dict(session, team)
        return web.json_response({"team": payload})

    async def delete_team(self, request: web.Request) -> web.Response:
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            team = await self._team(session, request)
            await actions.delete_team(session, team, actor_of(request))
        return web.json_response({"deleted": path_id(request)})

    # -- helpers ---------------------------------------------------------------------------

    async def _agent(self, session: AsyncSession, agent_id: int | None) -> Agent:
        agent = await session.get(Agent, agent_id) if agent_id is not None else None
        if agent is None:
            raise HTTPJSONError(404, "not_found", "no such agent")
        return agent

    async def _team(self, session: AsyncSession, request: web.Request) -> Team:
        team = await session.get(Team, path_id(request))
        if team is None:
            raise HTTPJSONError(404, "not_found", "no such team")
        return team


def _ids(data: dict[str, Any], name: str) -> list[int]:
    value = data.get(name)
    if not isinstance(value, list) or not all(is_row_id(i) for i in value):
        raise HTTPJSONError(400, "invalid", f"'{name}' must be a list of ids")
    return value
