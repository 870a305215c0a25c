"""``GET /api/v1/search?q=&limit=``: agents search messages (notes included) and contacts."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk.http import HTTPJSONError, agents_only
from omnidesk.helpdesk.search import parse_query, search_contacts, search_messages

MAX_QUERY_CHARS = 200
DEFAULT_LIMIT = 20
MAX_LIMIT = 50


class SearchAPI:
    """The search route, for agents and admins."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/api/v1/search", agents_only(self.search))]

    async def search(self, request: web.Request) -> web.Response:
        """``{messages: [{conversation_id, message, snippet}], contacts: [...]}``."""
        query = request.query.get("q", "").strip()
        if not query:
            raise HTTPJSONError(400, "invalid", "'q' must be a non-empty search")
        if len(query) > MAX_QUERY_CHARS:
            raise HTTPJSONError(400, "too_long", f"'q' is longer than {MAX_QUERY_CHARS} characters")
        limit = _limit(request.query.get("limit"))
        terms = parse_query(query)
        async with self._sessionmaker() as session:
            messages = await search_messages(session, terms, limit=limit, agent_visible=True)
            contacts = await search_contacts(session, terms, limit=limit)
        return web.json_response({"messages": messages, "contacts": contacts})


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise HTTPJSONError(400, "invalid", f"'limit' must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)
