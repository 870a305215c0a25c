"""The auth middleware: every request to a non-public route is tied to an agent account
(a session cookie or a personal API token), checked against the route's role, and, when a
cookie carries it and it changes state, against the session's CSRF token.

A route's access comes from its handler's mark (``http.public/agents_only/admin_only``) or
from ``AuthGuard.allow_public`` (routes others register, such as channel webhooks);
anything unmarked needs a signed-in agent, and ``/api/v1/admin/...`` an admin: a route
someone forgets to mark is closed, not open.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Middleware
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.config import AuthSettings
from omnidesk.db import utcnow
from omnidesk.helpdesk import actions
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.auth import directory
from omnidesk.helpdesk.auth.crypto import same_secret
from omnidesk.helpdesk.events import EventBus, unit_of_work
from omnidesk.helpdesk.http import (
    ACCESS_ATTR,
    ACTOR_KEY,
    IDENTITY_KEY,
    Access,
    Handler,
    Identity,
    bearer_token,
    json_error,
)
from omnidesk.helpdesk.models import Agent
from omnidesk.ratelimit import Bucket, Buckets

SESSION_COOKIE = "omnidesk_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGNIN_PATH = "/signin"
# Activity is written at most this often per session, not on every request.
TOUCH_EVERY = dt.timedelta(seconds=60)
# Wrong API tokens one address may try: a burst, then one a minute.
BAD_TOKEN_RATE = (20, 1 / 60)


def actor_for(agent: Agent) -> Actor:
    return Actor.of(agent)


class AuthGuard:
    """Resolves who calls and enforces each route's access; see the module docstring."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        settings: AuthSettings,
        *,
        https: bool = False,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self.settings = settings
        self._https = https
        self._public: set[int] = set()
        # Wrong API tokens per address: guessing is slowed to a crawl, not just logged.
        self._bad_tokens = Buckets(*BAD_TOKEN_RATE)

    def allow_public(self, routes: Iterable[web.AbstractRoute]) -> None:
        """Open these routes (and their resource's other methods) to anyone."""
        for route in routes:
            if route.resource is not None:
                self._public.add(id(route.resource))

    def access(self, route: web.AbstractRoute) -> Access:
        declared = getattr(route.handler, ACCESS_ATTR, None)
        if isinstance(declared, Access):
            return declared
        if route.resource is not None and id(route.resource) in self._public:
            return Access.PUBLIC
        path = route.resource.canonical if route.resource is not None else ""
        return Access.ADMIN if path.startswith("/api/v1/admin/") else Access.AGENT

    def middleware(self) -> Middleware:
        @web.middleware
        async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
            route = request.match_info.route
            if route.resource is None:  # no such route: the 404/405 answers
                return await handler(request)
            access = self.access(route)
            if access is Access.PUBLIC:
                return await handler(request)
            address = request.remote or "unknown"
            guessing = bearer_token(request) is not None
            if guessing and not self._bad_tokens.bucket(address).has_room():
                return self._slow_down(self._bad_tokens.bucket(address))
            identity = await self.identify(request)
            if identity is None:
                if guessing:
                    self._bad_tokens.take(address)
                return self._refuse(request)
            if (
                identity.session_id is not None
                and request.method not in SAFE_METHODS
                and not same_secret(request.headers.get(CSRF_HEADER), identity.csrf_token)
            ):
                return json_error(403, "csrf", f"missing or wrong {CSRF_HEADER} header")
            if access is Access.ADMIN and not identity.actor.is_admin:
                if request.path.startswith("/api/"):
                    return json_error(403, "forbidden", "this needs an admin account")
                raise web.HTTPForbidden(text="This page is for admins.")
            identity = replace(identity, actor=replace(identity.actor, ip=address[:64]))
            request[ACTOR_KEY] = identity.actor
            request[IDENTITY_KEY] = identity
            return await handler(request)

        return auth

    @staticmethod
    def _slow_down(bucket: Bucket) -> web.StreamResponse:
        response = json_error(429, "rate_limited", "too many wrong API tokens; wait a while")
        response.headers["Retry-After"] = str(max(1, math.ceil(bucket.retry_after())))
        return response

    def _refuse(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/api/") or request.method not in ("GET", "HEAD"):
            return json_error(401, "unauthorized", "sign in first")
        target = request.rel_url.path_qs
        raise web.HTTPFound(f"{SIGNIN_PATH}?next={quote(target, safe='/')}")

    async def identify(self, request: web.Request) -> Identity | None:
        """Who the request's API token or session cookie belongs to; None for nobody. A
        request that shows an API token is judged by it alone."""
        secret = bearer_token(request)
        if secret is not None:
            return await self._by_token(secret)
        cookie = request.cookies.get(SESSION_COOKIE)
        return await self._by_cookie(cookie) if cookie else None

    async def _by_token(self, secret: str) -> Identity | None:
        async with self._sessionmaker() as session:
            found = await directory.find_api_token(session, secret)
        if found is None:
            return None
        token, agent = found
        if token.last_used_at is None or utcnow() - token.last_used_at > TOUCH_EVERY:
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                await actions.touch_api_token(session, token.id)
        return Identity(actor_for(agent), api_token_id=token.id)

    async def _by_cookie(self, cookie: str) -> Identity | None:
        idle = dt.timedelta(minutes=self.settings.idle_minutes)
        async with self._sessionmaker() as session:
            found = await directory.find_session(session, cookie, idle)
        if found is None:
            return None
        row, agent = found
        if utcnow() - row.last_seen_at > TOUCH_EVERY:
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                await actions.touch_session(session, row.id, agent.id)
        return Identity(actor_for(agent), session_id=row.id, csrf_token=row.csrf_token)

    # -- cookies ---------------------------------------------------------------------------

    def set_cookie(self, request: web.Request, response: web.StreamResponse, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(self.settings.session_hours * 3600),
            path="/",
            httponly=True,
            samesite="Lax",
            secure=self._https or request.secure,
        )

    def clear_cookie(self, request: web.Request, response: web.StreamResponse) -> None:
        response.del_cookie(
            SESSION_COOKIE,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=self._https or request.secure,
        )
