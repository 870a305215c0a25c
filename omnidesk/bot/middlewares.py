"""The app's middlewares, outermost first: response headers every answer carries, the
refusal of URLs no store can hold, and JSON errors with no traceback for a stranger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from omnidesk import untrusted
from omnidesk.helpdesk import HTTPJSONError, json_error

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Pages may use our own scripts, styles (the widget injects its own) and images only, and
# nobody may frame them (the console and the knowledge base included). Pages with a
# stricter policy of their own (sign-in, ratings, attachments) keep theirs.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _secure(request: web.Request, headers: dict[str, str] | object) -> None:
    if not hasattr(headers, "setdefault"):
        return
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    if request.path.startswith("/api/"):
        # Answers about people must not stay in a shared cache or the browser's history.
        headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(request, exc.headers)
        raise
    if not response.prepared:  # a WebSocket or stream has sent its headers already
        _secure(request, response.headers)
    return response


@web.middleware
async def clean_urls(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A path or query with a NUL, a lone surrogate or a control character is refused
    here, before any handler could pass it to the database (which would fail)."""
    if not untrusted.is_clean(request.path) or not all(
        untrusted.is_clean(k) and untrusted.is_clean(v) for k, v in request.query.items()
    ):
        if request.path.startswith("/api/") or not untrusted.is_clean(request.path):
            return json_error(400, "invalid_url", "the address holds characters we refuse")
        raise web.HTTPBadRequest(text="the address holds characters we refuse")
    return await handler(request)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API errors are JSON; nothing unexpected leaks a traceback to a stranger."""
    try:
        return await handler(request)
    except HTTPJSONError:
        raise
    except web.HTTPException as exc:
        if request.path.startswith("/api/"):
            return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
        raise
    except Exception:
        request.app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return json_error(500, "internal", "internal error")
        raise web.HTTPInternalServerError() from None


MIDDLEWARES = (security_headers, clean_urls, json_errors)
