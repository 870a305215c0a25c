"""Small aiohttp helpers shared by the helpdesk's HTTP API: JSON errors, who may call a
route (``public``/``agents_only``/``admin_only``; the auth middleware enforces it), who
calls (``actor_of``), bounded JSON and text bodies."""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from omnidesk import untrusted
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


class Access(enum.StrEnum):
    """Who may call a route. Unmarked routes need a signed-in agent (see ``access_of``)."""

    PUBLIC = "public"
    AGENT = "agent"
    ADMIN = "admin"


ACCESS_ATTR = "__omnidesk_access__"


def _mark(access: Access, handler: Handler) -> Handler:
    # A wrapper, not an attribute on ``handler``: bound methods take no attributes.
    @functools.wraps(handler)
    async def marked(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    setattr(marked, ACCESS_ATTR, access)
    return marked


def public(handler: Handler) -> Handler:
    """Anyone may call this route, signed in or not."""
    return _mark(Access.PUBLIC, handler)


def agents_only(handler: Handler) -> Handler:
    """A signed-in agent or admin may call this route (the default for unmarked ones)."""
    return _mark(Access.AGENT, handler)


def admin_only(handler: Handler) -> Handler:
    """Only a signed-in admin may call this route; an agent gets 403."""
    return _mark(Access.ADMIN, handler)


def require_role(role: AgentRole, handler: Handler) -> Handler:
    """Mark ``handler`` for ``role``: the auth middleware enforces it."""
    return admin_only(handler) if role == AgentRole.ADMIN else agents_only(handler)


@dataclass(frozen=True, slots=True)
class Identity:
    """How the caller signed in: a browser session (with its CSRF token) or an API token."""

    actor: Actor
    session_id: str | None = None
    csrf_token: str | None = None
    api_token_id: int | None = None


ACTOR_KEY = web.RequestKey("actor", Actor)
IDENTITY_KEY = web.RequestKey("identity", Identity)


def actor_of(request: web.Request) -> Actor:
    """Who is calling: set by the auth middleware before any guarded handler runs."""
    actor = request.get(ACTOR_KEY)
    if not isinstance(actor, Actor):
        raise HTTPJSONError(401, "unauthorized", "sign in first")
    return actor


def identity_of(request: web.Request) -> Identity:
    identity = request.get(IDENTITY_KEY)
    if not isinstance(identity, Identity):
        raise HTTPJSONError(401, "unauthorized", "sign in first")
    return identity


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
        return untrusted.clean_text(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise HTTPJSONError(400, "invalid", "body is not UTF-8 text") from None


async def read_json(request: web.Request, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The request's JSON object body, refusing oversized, malformed or non-object bodies."""
    raw = await read_body(request, max_bytes)
    try:
        data = untrusted.loads(raw or b"{}")
    except untrusted.UntrustedInput as exc:
        raise HTTPJSONError(400, "bad_json", f"body is not usable JSON: {exc.reason}") from None
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
