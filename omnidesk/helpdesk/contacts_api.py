"""Agents' contact routes: the contact panel, the whole timeline, merging two contacts
that are one person, and undoing a merge."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import actions, queries
from omnidesk.helpdesk.events import unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, read_json
from omnidesk.helpdesk.models import Contact, TimelineEvent
from omnidesk.helpdesk.work_http import AgentRoutes, caller, int_field, path_id, query_int, refusals

MAX_TIMELINE = 5000


class ContactsAPI(AgentRoutes):
    def routes(self) -> list[web.AbstractRouteDef]:
        g = self.agent
        one = r"/api/v1/contacts/{id:\d+}"
        return [
            web.get(one, g(self.get_contact)),
            web.get(one + "/timeline", g(self.timeline)),
            web.post(one + "/merge", g(self.merge)),
            web.post(one + "/unmerge", g(self.unmerge)),
        ]

    async def get_contact(self, request: web.Request) -> web.Response:
        actor = caller(request)
        async with self._sessionmaker() as session:
            contact = await _contact(session, path_id(request))
            panel = await queries.contact_panel(session, contact, actor.agent_id)
        return web.json_response({"contact": panel})

    async def timeline(self, request: web.Request) -> web.Response:
        """The contact's timeline, oldest first; ``?limit=`` keeps the newest ones."""
        contact_id = path_id(request)
        limit = min(query_int(request, "limit") or MAX_TIMELINE, MAX_TIMELINE)
        async with self._sessionmaker() as session:
            await _contact(session, contact_id)
            events = await queries.contact_timeline(session, contact_id, limit)
        return web.json_response({"contact_id": contact_id, "events": events})

    async def merge(self, request: web.Request) -> web.Response:
        """``{"contact_id": other}``: the other contact becomes part of this one."""
        data = await read_json(request)
        other_id = int_field(data, "contact_id")
        assert other_id is not None
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            keep = await _contact(session, path_id(request))
            other = await _contact(session, other_id)
            with refusals():
                event = await actions.merge_contacts(session, keep, other, actor)
            keep_id = keep.id
            event_id = event.id
        async with self._sessionmaker() as session:
            events = await queries.contact_timeline(session, keep_id, MAX_TIMELINE)
        return web.json_response(
            {"contact_id": keep_id, "merge_event_id": event_id, "events": events}
        )

    async def unmerge(self, request: web.Request) -> web.Response:
        """``{"event_id": id}`` or ``{"contact_id": merged}``: undo that merge; the merged
        contact comes back with everything it had."""
        data = await read_json(request)
        event_id = int_field(data, "event_id", required=False)
        merged_id = int_field(data, "contact_id", required=False)
        if event_id is None and merged_id is None:
            raise HTTPJSONError(400, "invalid", "give 'event_id' or 'contact_id'")
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            keep = await _contact(session, path_id(request))
            event = await _merge_event(session, keep.id, event_id, merged_id)
            with refusals():
                restored = await actions.unmerge_contacts(session, keep, event, actor)
            restored_id, keep_id = restored.id, keep.id
        return web.json_response({"contact_id": keep_id, "restored_contact_id": restored_id})


async def _contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise HTTPJSONError(404, "not_found", "no such contact")
    return contact


async def _merge_event(
    session: AsyncSession, keep_id: int, event_id: int | None, merged_id: int | None
) -> TimelineEvent:
    query = select(TimelineEvent).where(
        TimelineEvent.contact_id == keep_id, TimelineEvent.kind == "contacts_merged"
    )
    if event_id is not None:
        query = query.where(TimelineEvent.id == event_id)
    rows = (await session.scalars(query.order_by(TimelineEvent.id.desc()))).all()
    for event in rows:
        data = event.data or {}
        if merged_id is None or data.get("merged_contact_id") == merged_id:
            if merged_id is not None and data.get("unmerged_at"):
                continue
            return event
    raise HTTPJSONError(404, "not_found", "no such merge of this contact")
