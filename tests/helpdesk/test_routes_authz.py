"""Every route the app registers, walked from ``app.router``: a stranger is refused (401
from the API, a redirect to /signin for pages) unless the route is on the short public
list below; an agent gets 403 on admin routes; agents and admins pass where they may;
a signed-in browser without the CSRF header cannot change anything.

Routes added later are covered without touching this file, except an admin route outside
``/api/v1/admin/``, which belongs in ``ADMIN_ROUTES``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from omnidesk.bot.app import GUARD, SERVICES, create_app
from omnidesk.config import Settings
from omnidesk.helpdesk.http import Access
from omnidesk.ratelimit import Buckets
from tests.accounts import PASSWORD, add_agent, bearer

# Open to anyone, on purpose. Prefixes end with "/" or are whole paths.
PUBLIC = {"/", "/healthz", "/readyz", "/signin", "/signin/signin.js", "/signin/signin.css"}
PUBLIC_PREFIXES = (
    "/kb",
    "/webchat/",
    "/slack/",
    "/telegram/",
    "/api/v1/auth/login",
    "/csat/",
    "/nps/",
)
# Admin routes outside /api/v1/admin/ (which is admin as a whole).
ADMIN_ROUTES = {
    ("GET", "/metrics"),
    ("POST", "/api/v1/articles"),
    ("POST", "/api/v1/articles/preview"),
    ("PATCH", "/api/v1/articles/{slug}"),
    ("DELETE", "/api/v1/articles/{slug}"),
    ("POST", "/api/v1/articles/{slug}/publish"),
    ("POST", "/api/v1/articles/{slug}/unpublish"),
    ("GET", "/api/v1/kb/gaps"),
    ("POST", "/api/v1/kb/gaps/draft"),
    ("POST", "/api/v1/kb/eval"),
    ("POST", "/api/v1/agents"),
    ("PATCH", "/api/v1/agents/{id}"),
    ("POST", "/api/v1/teams"),
    ("PATCH", "/api/v1/teams/{id}"),
    ("DELETE", "/api/v1/teams/{id}"),
    ("POST", "/api/v1/contacts/imports"),
    ("GET", "/api/v1/contacts/imports/{id}"),
    ("GET", "/api/v1/contacts/export.csv"),
    ("GET", "/api/v1/contacts/{id}/export"),
    ("POST", "/api/v1/contacts/{id}/erase"),
    *(
        ("GET", f"/api/v1/reports/{name}{suffix}")
        for name in ("overview", "topics", "teams", "agents", "channels", "labels")
        for suffix in ("", ".csv")
    ),
}
REFUSED = (401, 403)


def is_public(path: str) -> bool:
    return path in PUBLIC or path.startswith(PUBLIC_PREFIXES) or path == "/webchat"


def concrete(route: web.AbstractRoute) -> str:
    """A URL that reaches ``route``; ids point at nothing, so writes change nothing."""
    info = route.resource.get_info() if route.resource is not None else {}
    if "directory" in info:  # static files: any file of the folder
        first = sorted(p.name for p in Path(info["directory"]).iterdir() if p.is_file())[0]
        return f"{info['prefix']}/{first}"
    canonical = route.resource.canonical if route.resource is not None else "/"
    return re.sub(
        r"\{(\w+)(?::[^}]*)?\}",
        lambda m: "no-such-thing" if m.group(1) in ("slug", "name") else "999999",
        canonical,
    )


def routes(app: web.Application) -> list[tuple[str, str, str, web.AbstractRoute]]:
    """(method, canonical path, concrete path, route) of every route but HEAD twins."""
    out = []
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS") or route.resource is None:
            continue
        out.append((route.method, route.resource.canonical, concrete(route), route))
    return out


def expected(method: str, canonical: str) -> Access:
    if is_public(canonical):
        return Access.PUBLIC
    if (method, canonical) in ADMIN_ROUTES or canonical.startswith("/api/v1/admin/"):
        return Access.ADMIN
    return Access.AGENT


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: object
) -> AsyncIterator[TestClient[Any, Any]]:
    settings.knowledge.seed_sample = False
    yield await aiohttp_client(create_app(settings))


async def send(
    client: TestClient[Any, Any], method: str, path: str, headers: dict[str, str] | None = None
) -> int:
    kwargs: dict[str, Any] = {"headers": headers or {}, "allow_redirects": False}
    if method not in ("GET", "HEAD"):
        kwargs["json"] = {}
    async with client.request(method, path, **kwargs) as resp:
        if resp.status == 302:
            assert resp.headers["Location"].startswith("/signin?next="), (method, path)
        return resp.status


async def test_every_route_checks_the_role(client: TestClient[Any, Any]) -> None:
    app = client.app
    table = routes(app)
    assert len(table) > 20  # the walk really found the app's routes
    maker = app[SERVICES].sessionmaker
    agent = await bearer(maker, "agent")
    admin = await bearer(maker, "admin")
    # One forged token per route from one address would be throttled (429) after twenty;
    # the throttle has its own test (tests/bot/test_hostile_input.py).
    app[GUARD]._bad_tokens = Buckets(10_000, 0.0)
    problems: list[str] = []
    for method, canonical, path, route in table:
        want = expected(method, canonical)
        if app[GUARD].access(route) != want:
            problems.append(f"{method} {canonical}: guard says {app[GUARD].access(route)}")
        if want is Access.PUBLIC:
            continue
        status = await send(client, method, path)
        page = not canonical.startswith("/api/") and method == "GET"
        if status != (302 if page else 401):
            problems.append(f"{method} {path}: anonymous got {status}")
        if await send(client, method, path, {"Authorization": "Bearer odk_forged"}) not in (
            302,
            401,
        ):
            problems.append(f"{method} {path}: a forged token passed")
        status = await send(client, method, path, agent)
        if want is Access.ADMIN and status != 403:
            problems.append(f"{method} {path}: agent got {status}, not 403")
        if want is Access.AGENT and status in REFUSED:
            problems.append(f"{method} {path}: agent refused with {status}")
        status = await send(client, method, path, admin)
        if status in REFUSED:
            problems.append(f"{method} {path}: admin refused with {status}")
    assert problems == []


async def test_cookie_writes_need_the_csrf_header_everywhere(
    client: TestClient[Any, Any],
) -> None:
    await add_agent(client.app[SERVICES].sessionmaker, "root@x.test", role="admin")
    resp = await client.post(
        "/api/v1/auth/login", json={"email": "root@x.test", "password": PASSWORD}
    )
    assert resp.status == 200
    writes = [
        (m, path)
        for m, canonical, path, _ in routes(client.app)
        if m not in ("GET", "HEAD") and not is_public(canonical)
    ]
    assert writes
    for method, path in writes:
        assert await send(client, method, path) == 403, (method, path)
