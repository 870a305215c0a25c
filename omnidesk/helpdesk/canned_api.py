"""Agents' routes beside conversations: canned responses (list, write, render for a
conversation), the caller's notifications, and the directory of agents and teams the
console assigns to."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import actions
from omnidesk.helpdesk.events import unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, read_json, text_field
from omnidesk.helpdesk.models import (
    Agent,
    CannedResponse,
    Conversation,
    Notification,
    Team,
)
from omnidesk.helpdesk.work_http import AgentRoutes, caller, int_field, path_id, refusals

MAX_NOTIFICATIONS = 100


class CannedAPI(AgentRoutes):
    def routes(self) -> list[web.AbstractRouteDef]:
        g = self.agent
        one = r"/api/v1/canned/{id:\d+}"
        return [
            web.get("/api/v1/canned", g(self.list_canned)),
            web.post("/api/v1/canned", g(self.create)),
            web.patch(one, g(self.update)),
            web.delete(one, g(self.delete)),
            web.post(one + "/render", g(self.render)),
            web.get("/api/v1/notifications", g(self.notifications)),
            web.post("/api/v1/notifications/read", g(self.read_notifications)),
            web.get("/api/v1/directory", g(self.directory)),
        ]

    async def list_canned(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            rows = await session.scalars(select(CannedResponse).order_by(CannedResponse.short_code))
            canned = [actions.canned_dict(r) for r in rows.all()]
        return web.json_response({"canned": canned})

    async def create(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        fields = _fields(data, required=True)
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            with refusals():
                row = await actions.create_canned(
                    session, fields["short_code"], fields["body"], actor, title=fields["title"]
                )
            body = actions.canned_dict(row)
        return web.json_response({"canned": body}, status=201)

    async def update(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        fields = _fields(data, required=False)
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            row = await _canned(session, request)
            with refusals():
                await actions.update_canned(
                    session,
                    row,
                    actor,
                    short_code=fields.get("short_code"),
                    title=fields.get("title"),
                    body=fields.get("body"),
                )
            body = actions.canned_dict(row)
        return web.json_response({"canned": body})

    async def delete(self, request: web.Request) -> web.Response:
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            row = await _canned(session, request)
            await actions.delete_canned(session, row, actor)
        return web.json_response({"deleted": True})

    async def render(self, request: web.Request) -> web.Response:
        """``{"conversation_id": id}`` → ``{"text"}``: the response filled for it."""
        data = await read_json(request)
        conversation_id = int_field(data, "conversation_id")
        actor = caller(request)
        async with self._sessionmaker() as session:
            row = await _canned(session, request)
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                raise HTTPJSONError(404, "not_found", "no such conversation")
            text = await actions.render_for(session, row, conversation, actor)
        return web.json_response({"text": text})

    async def notifications(self, request: web.Request) -> web.Response:
        """The caller's newest notifications (``?unread=1`` for unread ones only)."""
        actor = caller(request)
        if actor.agent_id is None:
            return web.json_response({"notifications": [], "unread": 0})
        query = select(Notification).where(Notification.agent_id == actor.agent_id)
        if request.query.get("unread") in ("1", "true"):
            query = query.where(Notification.read_at.is_(None))
        async with self._sessionmaker() as session:
            rows = await session.scalars(
                query.order_by(Notification.id.desc()).limit(MAX_NOTIFICATIONS)
            )
            items = [actions.notification_dict(n) for n in rows.all()]
        unread = sum(1 for n in items if n["read_at"] is None)
        return web.json_response({"notifications": items, "unread": unread})

    async def read_notifications(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        ids = data.get("ids")
        if not isinstance(ids, list) or len(ids) > 1000:
            raise HTTPJSONError(400, "invalid", "'ids' must be a list of at most 1000 ids")
        checked = [int_field({"id": i}, "id") for i in ids]
        actor = caller(request)
        if actor.agent_id is None:
            return web.json_response({"read": 0})
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            changed = await actions.read_notifications(
                session, actor.agent_id, [i for i in checked if i is not None]
            )
        return web.json_response({"read": changed})

    async def directory(self, request: web.Request) -> web.Response:
        """Active agents and teams, for assigning and for @mentions."""
        async with self._sessionmaker() as session:
            agents = (
                await session.scalars(
                    select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)
                )
            ).all()
            teams = (await session.scalars(select(Team).order_by(Team.name))).all()
            body = {
                "agents": [
                    {"id": a.id, "name": a.name, "email": a.email, "availability": a.availability}
                    for a in agents
                ],
                "teams": [{"id": t.id, "name": t.name} for t in teams],
            }
        return web.json_response(body)


def _fields(data: dict[str, Any], *, required: bool) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, limit in (("short_code", 64), ("title", 200), ("body", 10_000)):
        if name in data or (required and name != "title"):
            found[name] = text_field(data, name, max_chars=limit, required=name != "title")
    if required:
        found.setdefault("title", "")
    return found


async def _canned(session: AsyncSession, request: web.Request) -> CannedResponse:
    row = await session.get(CannedResponse, path_id(request))
    if row is None:
        raise HTTPJSONError(404, "not_found", "no such canned response")
    return row
