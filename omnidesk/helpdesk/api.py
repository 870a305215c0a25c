"""The agent console's HTTP API (``/api/v1/conversations``) and its static pages; every
route needs a signed-in agent (the auth middleware checks it)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk import actions, queries
from omnidesk.helpdesk.events import EventBus, unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, actor_of, agents_only, read_json, text_field
from omnidesk.helpdesk.models import Contact, Conversation

CONSOLE_DIR = Path(__file__).parent / "console"
MAX_REPLY_CHARS = 10_000


class ConsoleAPI:
    """Handlers for agents (an admin may do everything an agent may)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        uploads_dir: Path | None = None,
    ) -> None:
        self._uploads_dir = uploads_dir
        self._sessionmaker = sessionmaker
        self._bus = bus

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/api/v1/conversations", agents_only(self.list_conversations)),
            web.get(r"/api/v1/conversations/{id:\d+}", agents_only(self.get_conversation)),
            web.post(r"/api/v1/conversations/{id:\d+}/messages", agents_only(self.post_message)),
            web.post(r"/api/v1/conversations/{id:\d+}/assign", agents_only(self.assign)),
            web.post(r"/api/v1/conversations/{id:\d+}/resolve", agents_only(self.resolve)),
            web.get(r"/api/v1/contacts/{id:\d+}/timeline", agents_only(self.timeline)),
            web.post(r"/api/v1/contacts/{id:\d+}/merge", agents_only(self.merge)),
            web.get(r"/api/v1/attachments/{name:[A-Za-z0-9._-]+}", agents_only(self.attachment)),
            web.get("/console", self.console_page),
            web.get("/console/", self.console_page),
            web.static("/console", CONSOLE_DIR, show_index=False),
        ]

    async def console_page(self, request: web.Request) -> web.StreamResponse:
        # Reached only signed in (the middleware sends strangers to /signin).
        return web.FileResponse(CONSOLE_DIR / "index.html")

    async def list_conversations(self, request: web.Request) -> web.Response:
        state = request.query.get("state", "queued")
        if state != "all" and state not in queries.CONVERSATION_STATES:
            raise HTTPJSONError(400, "invalid", f"unknown state {state!r}")
        async with self._sessionmaker() as session:
            rows = await queries.list_conversations(session, state)
        return web.json_response({"conversations": rows})

    async def get_conversation(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            conversation = await _conversation(session, request)
            summary = await queries.conversation_summary(session, conversation)
            messages = await queries.conversation_messages(session, conversation.id)
        return web.json_response({"conversation": summary, "messages": messages})

    async def post_message(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        text = text_field(data, "text", max_chars=MAX_REPLY_CHARS)
        agent = actor_of(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await _conversation(session, request)
            try:
                message = await actions.agent_reply(session, conversation, agent, text)
            except actions.ActionError as exc:
                raise HTTPJSONError(409, exc.code, exc.message) from None
            body = actions.message_dict(message)
        return web.json_response({"message": body}, status=201)

    async def assign(self, request: web.Request) -> web.Response:
        await read_json(request)
        agent = actor_of(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await _conversation(session, request)
            try:
                await actions.assign(session, conversation, agent)
            except actions.ActionError as exc:
                raise HTTPJSONError(409, exc.code, exc.message) from None
            summary = await queries.conversation_summary(session, conversation)
        return web.json_response({"conversation": summary})

    async def resolve(self, request: web.Request) -> web.Response:
        await read_json(request)
        agent = actor_of(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await _conversation(session, request)
            await actions.resolve(session, conversation, agent)
            summary = await queries.conversation_summary(session, conversation)
        return web.json_response({"conversation": summary})

    async def merge(self, request: web.Request) -> web.Response:
        """Link two contacts that are one person: body ``{"contact_id": other}``."""
        data = await read_json(request)
        other_id = data.get("contact_id")
        if not isinstance(other_id, int) or isinstance(other_id, bool):
            raise HTTPJSONError(400, "invalid", "'contact_id' must be an integer")
        agent = actor_of(request).name
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            keep = await session.get(Contact, int(request.match_info["id"]))
            other = await session.get(Contact, other_id)
            if keep is None or other is None:
                raise HTTPJSONError(404, "not_found", "no such contact")
            try:
                await actions.merge_contacts(session, keep, other, agent)
            except actions.ActionError as exc:
                raise HTTPJSONError(409, exc.code, exc.message) from None
            keep_id = keep.id
        async with self._sessionmaker() as session:
            events = await queries.contact_timeline(session, keep_id)
        return web.json_response({"contact_id": keep_id, "events": events})

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        """A file a customer sent, stored by its channel under the uploads folder."""
        name = request.match_info["name"]
        if self._uploads_dir is None or name.startswith("."):
            raise HTTPJSONError(404, "not_found", "no such attachment")
        path = (self._uploads_dir / name).resolve()
        if path.parent != self._uploads_dir.resolve() or not path.is_file():
            raise HTTPJSONError(404, "not_found", "no such attachment")
        return web.FileResponse(
            path,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Content-Security-Policy": "sandbox",
            },
        )

    async def timeline(self, request: web.Request) -> web.Response:
        contact_id = int(request.match_info["id"])
        async with self._sessionmaker() as session:
            events = await queries.contact_timeline(session, contact_id)
        return web.json_response({"contact_id": contact_id, "events": events})


async def _conversation(session: AsyncSession, request: web.Request) -> Conversation:
    conversation = await session.get(Conversation, int(request.match_info["id"]))
    if conversation is None:
        raise HTTPJSONError(404, "not_found", "no such conversation")
    return conversation
