"""Small aiohttp helpers shared by the helpdesk's HTTP API: JSON errors, bearer auth,
bounded JSON bodies."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

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


def require_token(expected: Callable[[], str], handler: Handler) -> Handler:
    """Wrap ``handler`` so it answers 401 unless the request carries the bearer token."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        given = bearer_token(request)
        if given is None or not hmac.compare_digest(given.encode(), expected().encode()):
            return json_error(401, "unauthorized", "a valid bearer token is required")
        return await handler(request)

    return guarded


async def read_json(request: web.Request, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The request's JSON object body, refusing oversized, malformed or non-object bodies."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise HTTPJSONError(413, "too_large", f"body is larger than {max_bytes} bytes")
    raw = await request.content.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise HTTPJSONError(413, "too_large", f"body is larger than {max_bytes} bytes")
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
