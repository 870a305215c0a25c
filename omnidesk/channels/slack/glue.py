"""Glue between our aiohttp server and slack-bolt: two small pure functions, shaped like
bolt's own ``slack_bolt.adapter.aiohttp`` but taking the body already read, because the
signature check needs the exact bytes before bolt sees them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from omnidesk import untrusted

_CHARSET = re.compile(r";\s*charset=utf-8", re.IGNORECASE)


def unreadable(body: bytes, content_type: str) -> str | None:
    """Why bolt could not read a signed body (it would fail with a 500), or None.

    Events come as a JSON object; interactivity as a form whose ``payload`` is one."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode("utf-8", errors="replace"))
            if "payload" not in form:
                return None  # a slash command: plain form fields
            value = untrusted.loads(form["payload"][0])
        else:
            value = untrusted.loads(body)
    except untrusted.UntrustedInput as exc:
        return exc.reason
    return None if isinstance(value, dict) else "not a JSON object"


def to_bolt_request(request: web.Request, body: bytes) -> AsyncBoltRequest:
    """The bolt request for an aiohttp request whose body is ``body``."""
    headers: dict[str, str | Sequence[str]] = {
        name: request.headers.getall(name) for name in set(request.headers.keys())
    }
    return AsyncBoltRequest(
        # Slack sends UTF-8; a stray invalid byte must not turn into a 500.
        body=body.decode("utf-8", errors="replace"),
        query=request.query_string,
        headers=headers,
    )


def to_aiohttp_response(bolt_response: BoltResponse) -> web.Response:
    """The aiohttp response for what bolt answered."""
    headers = bolt_response.first_headers_without_set_cookie()
    default_type = "application/json" if bolt_response.body.startswith("{") else "text/plain"
    content_type = headers.pop("content-type", default_type)
    return web.Response(
        status=bolt_response.status,
        body=bolt_response.body.encode(),
        headers=headers,
        content_type=_CHARSET.sub("", content_type),
        charset="utf-8",
    )
