"""Small aiohttp helpers shared by the helpdesk's HTTP API: JSON errors, bearer auth with
roles, bounded JSON and text bodies."""

from __future__ import annotations

import enum
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.models import AgentRole

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_JSON_BYTES = 64 * 1024


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class HTTPJSONError(web.HTTPException):
    """An HTTP error whose body is our JSON error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status_code = status
        super().__init__(
            text=json.dumps({"error": {"code": code, "message": message}}),
            content_type="application/json",
        )


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class Role(enum.StrEnum):
    """Who a bearer token belongs to. An admin may do everything an agent may."""

    AGENT = "agent"
    ADMIN = "admin"


class Roles:
    """The bearer token of each role, read on every request so a rotated secret applies."""

    def __init__(
        self, agent: Callable[[], str], admin: Callable[[], str | None] | None = None
    ) -> None:
        self._agent = agent
        self._admin = admin or (lambda: None)

    def of(self, request: web.Request) -> Role | None:
        """The role of the request's bearer token; None without a known one."""
        given = bearer_token(request)
        if given is None:
            return None
        # Both compared, in constant time, whatever the first gives.
        admin = self._admin()
        is_admin = bool(admin) and hmac.compare_digest(given.encode(), (admin or "").encode())
        is_agent = hmac.compare_digest(given.encode(), self._agent().encode())
        if is_admin:
            return Role.ADMIN
        return Role.AGENT if is_agent else None


ACTOR_KEY = web.RequestKey("actor", Actor)


def actor_of(request: web.Request) -> Actor:
    """Who is calling: set by the route guard before any handler runs."""
    actor = request.get(ACTOR_KEY)
    if not isinstance(actor, Actor):
        raise HTTPJSONError(401, "unauthorized", "sign in first")
    return actor


def require_role(roles: Roles, role: Role, handler: Handler) -> Handler:
    """Wrap ``handler``: 401 without a known token, 403 when an agent calls an admin route."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        given = roles.of(request)
        if given is None:
            return json_error(401, "unauthorized", "a valid bearer token is required")
        if role == Role.ADMIN and given != Role.ADMIN:
            return json_error(403, "forbidden", "this needs the admin token")
        request[ACTOR_KEY] = Actor("Agent", role=AgentRole(given))
        return await handler(request)

    return guarded


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The whole request body, refused with 413 once it passes ``max_bytes``."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise HTTPJSONError(413, "too_large", f"body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    # read(n) returns what has arrived so far, so a large body takes several reads.
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise HTTPJSONError(413, "too_large", f"body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_text(request: web.Request, max_bytes: int) -> str:
    """The request body as UTF-8 text, refusing oversized or undecodable bodies."""
    raw = await read_body(request, max_bytes)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPJSONError(400, "invalid", "body is not UTF-8 text") from None


async def read_json(request: web.Request, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The request's JSON object body, refusing oversized, malformed or non-object bodies."""
    raw = await read_body(request, max_bytes)
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise HTTPJSONError(400, "bad_json", "body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPJSONError(400, "bad_json", "body must be a JSON object")
    return data


def text_field(data: dict[str, Any], name: str, *, max_chars: int, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise HTTPJSONError(400, "invalid", f"'{name}' must be a non-empty string")
    if len(value) > max_chars:
        raise HTTPJSONError(400, "too_long", f"'{name}' is longer than {max_chars} characters")
    return value.strip()
