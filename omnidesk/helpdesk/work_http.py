"""What the agents' work routes share: the route guard they are given, who calls, bounded
fields of a JSON body, and action refusals turned into 4xx answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from omnidesk.db import MAX_ID
from omnidesk.helpdesk.actions import ActionError
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import EventBus
from omnidesk.helpdesk.http import HTTPJSONError, actor_of
from omnidesk.helpdesk.models import AgentRole, Conversation

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Wraps a handler so only callers with at least that role reach it (``http.require_role``).
Guard = Callable[[AgentRole, Handler], Handler]


class AgentRoutes:
    """What the agents' route groups share: the database, the bus, and the guard that
    marks each of their routes for agents (admins pass too)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus, guard: Guard
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._guard = guard

    def agent(self, handler: Handler) -> Handler:
        return self._guard(AgentRole.AGENT, handler)


_STATUS = {"invalid": 400, "empty": 400, "too_long": 400, "not_found": 404}
# Ids are 32-bit integers in the database; a larger one cannot exist.


@contextmanager
def refusals() -> Iterator[None]:
    """An action's refusal as our JSON error: bad input 400, unknown 404, else 409."""
    try:
        yield
    except ActionError as exc:
        raise HTTPJSONError(_STATUS.get(exc.code, 409), exc.code, exc.message) from None


def caller(request: web.Request) -> Actor:
    """Who calls: the signed-in account the auth middleware found."""
    return actor_of(request)


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ID:
        raise HTTPJSONError(404, "not_found", "no such item")
    return int(raw)


def int_field(data: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    """An integer id field; ``None`` when absent or null and not required."""
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise HTTPJSONError(400, "invalid", f"'{name}' must be a non-negative integer")
    return value


def query_int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ID:
        raise HTTPJSONError(400, "invalid", f"'{name}' must be a non-negative integer")
    return int(raw)


def page_limit(request: web.Request, default: int, most: int) -> int:
    """The ``limit`` query parameter of a paged list: ``default`` when absent, 1 to
    ``most`` else (400 otherwise)."""
    limit = query_int(request, "limit")
    limit = default if limit is None else limit
    if not 1 <= limit <= most:
        raise HTTPJSONError(400, "invalid", f"'limit' must be 1 to {most}")
    return limit


async def newest_page(
    session: AsyncSession,
    request: web.Request,
    query: Select[Any],
    id_column: InstrumentedAttribute[int],
    *,
    default: int,
    most: int,
) -> tuple[list[Any], int | None]:
    """One page of ``query`` (newest first by ``id_column``) as the request's ``limit``
    and ``before_id`` ask: its rows and the ``before_id`` of the next page (None at the
    end)."""
    limit = page_limit(request, default, most)
    if (before_id := query_int(request, "before_id")) is not None:
        query = query.where(id_column < before_id)
    rows = list(await session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def datetime_field(data: dict[str, Any], name: str) -> dt.datetime | None:
    """An ISO 8601 date-time with a time zone, or None when absent."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise HTTPJSONError(400, "invalid", f"'{name}' must be an ISO 8601 date-time")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPJSONError(400, "invalid", f"'{name}' must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise HTTPJSONError(400, "invalid", f"'{name}' needs a time zone")
    return parsed.astimezone(dt.UTC)


def string_list(data: dict[str, Any], name: str, *, max_items: int, max_chars: int) -> list[str]:
    value = data.get(name)
    if not isinstance(value, list) or len(value) > max_items:
        raise HTTPJSONError(400, "invalid", f"'{name}' must be a list of at most {max_items}")
    if not all(isinstance(v, str) and len(v) <= max_chars for v in value):
        raise HTTPJSONError(400, "invalid", f"'{name}' holds strings of {max_chars} at most")
    return list(value)


async def conversation_of(session: AsyncSession, request: web.Request) -> Conversation:
    conversation = await session.get(Conversation, path_id(request))
    if conversation is None:
        raise HTTPJSONError(404, "not_found", "no such conversation")
    return conversation
