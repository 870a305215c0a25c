"""The webhook's HTTP edge: the secret-token check and a bounded, parsed body.

Telegram sends the secret given to setWebhook in ``X-Telegram-Bot-Api-Secret-Token``;
a request without it (401) or with another value (403) is refused before its body is
read, so nothing a stranger sends is stored.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from omnidesk import untrusted

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
# Real updates are a few kilobytes; this leaves room for long texts and their entities.
MAX_UPDATE_BYTES = 256 * 1024


def refusal(given: str | None, expected: str | None) -> web.Response | None:
    """The response refusing a request with a missing or wrong secret, else None."""
    if not given:
        return _error(401, "missing secret token")
    # With no secret configured, nothing can be verified: refuse everything.
    if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
        return _error(403, "invalid secret token")
    return None


async def read_update(request: web.Request) -> dict[str, Any] | web.Response:
    """The request's update as JSON, or the error response for an oversized body or one
    that is no update at all. What is inside is not judged here: an update the library
    cannot read is still Telegram's, acknowledged and parked (see ``convert``), since a
    refusal would only make Telegram send it again for ever."""
    if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
        return _error(413, "update too large")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "update too large")
    if len(body) > MAX_UPDATE_BYTES:
        return _error(413, "update too large")
    try:
        data: Any = untrusted.loads(body)
    except untrusted.UntrustedInput as exc:
        return _error(400, f"body is not an update: {exc.reason}")
    if not isinstance(data, dict):
        return _error(400, "an update is a JSON object")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return _error(400, "an update has an integer update_id")
    return data


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)
