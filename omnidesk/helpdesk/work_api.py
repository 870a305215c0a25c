"""The agents' conversation routes: views with filters and counts, one conversation with
its messages, notes and contact, and everything an agent does to it (reply, note,
assign, state, priority, labels, read)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import actions, queries
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, read_json, text_field
from omnidesk.helpdesk.models import Agent, Contact, Priority, Team
from omnidesk.helpdesk.work_http import (
    AgentRoutes,
    caller,
    conversation_of,
    datetime_field,
    int_field,
    query_int,
    refusals,
    string_list,
)

MAX_REPLY_CHARS = 10_000
MAX_FILTER_CHARS = 64
STATES = (*queries.CONVERSATION_STATES, queries.OPEN, queries.ANY, "all")


class WorkAPI(AgentRoutes):
    """Conversation routes for agents (admins may use them too)."""

    def routes(self) -> list[web.AbstractRouteDef]:
        g = self.agent
        one = r"/api/v1/conversations/{id:\d+}"
        return [
            web.get("/api/v1/conversations", g(self.list_conversations)),
            web.get(one, g(self.get_conversation)),
            web.post(one + "/messages", g(self.post_message)),
            web.post(one + "/notes", g(self.post_note)),
            web.post(one + "/assign", g(self.assign)),
            web.post(one + "/resolve", g(self.resolve)),
            web.post(one + "/state", g(self.set_state)),
            web.post(one + "/priority", g(self.set_priority)),
            web.put(one + "/labels", g(self.set_labels)),
            web.post(one + "/read", g(self.read)),
        ]

    async def list_conversations(self, request: web.Request) -> web.Response:
        """``?view=mine|unassigned|teams|all`` (default all) and filters; ``state`` is a
        conversation state, ``open`` (a person's) or ``any``/``all``."""
        view_name = request.query.get("view", "all")
        if view_name not in tuple(queries.View):
            raise HTTPJSONError(400, "invalid", f"unknown view {view_name[:40]!r}")
        state = request.query.get("state") or None
        if state is not None and state not in STATES:
            raise HTTPJSONError(400, "invalid", f"unknown state {state[:40]!r}")
        priority = request.query.get("priority") or None
        if priority is not None and priority not in tuple(Priority):
            raise HTTPJSONError(400, "invalid", f"unknown priority {priority[:40]!r}")
        filters = queries.Filters(
            state=queries.ANY if state == "all" else state,
            channel=_short(request, "channel"),
            priority=priority,
            label=(_short(request, "label") or "").lower() or None,
            assignee_id=query_int(request, "assignee_id"),
            team_id=query_int(request, "team_id"),
        )
        limit = query_int(request, "limit") or 100
        actor = caller(request)
        async with self._sessionmaker() as session:
            rows = await queries.list_view(session, queries.View(view_name), actor, filters, limit)
            counts = await queries.view_counts(session, actor, filters)
        return web.json_response({"conversations": rows, "counts": counts})

    async def get_conversation(self, request: web.Request) -> web.Response:
        actor = caller(request)
        async with self._sessionmaker() as session:
            conversation = await conversation_of(session, request)
            summary = await queries.conversation_summary(session, conversation, actor.agent_id)
            messages = await queries.conversation_messages(
                session, conversation.id, include_private=True
            )
            contact = await session.get_one(Contact, conversation.contact_id)
            panel = await queries.contact_panel(session, contact, actor.agent_id)
        return web.json_response({"conversation": summary, "messages": messages, "contact": panel})

    async def post_message(self, request: web.Request) -> web.Response:
        """A reply to the customer. With ``last_seen_message_id``, 409 ``newer_reply``
        when another person replied after it (the console asks, then sends without)."""
        data = await read_json(request)
        text = text_field(data, "text", max_chars=MAX_REPLY_CHARS)
        last_seen = int_field(data, "last_seen_message_id", required=False)
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await conversation_of(session, request)
            if last_seen is not None:
                newer = await queries.newer_person_reply(
                    session, conversation.id, last_seen, actor.agent_id, actor.name
                )
                if newer is not None:
                    who = newer.author_name or "someone"
                    raise HTTPJSONError(
                        409, "newer_reply", f"{who} replied after the message you last saw"
                    )
            with refusals():
                message = await actions.agent_reply(session, conversation, actor, text)
            body = actions.message_dict(message)
        return web.json_response({"message": body}, status=201)

    async def post_note(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        text = text_field(data, "text", max_chars=MAX_REPLY_CHARS)
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await conversation_of(session, request)
            with refusals():
                note = await actions.add_note(session, conversation, actor, text)
            body = actions.message_dict(note.message)
            mentioned = [n.agent_id for n in note.notifications]
        return web.json_response({"message": body, "mentioned": mentioned}, status=201)

    async def assign(self, request: web.Request) -> web.Response:
        """``{"agent_id": id | null, "team_id"?: id | null}``: to an agent, or with null
        back to the (team's) queue; without ``agent_id``, to the caller."""
        data = await read_json(request)
        actor = caller(request)
        team_id = int_field(data, "team_id", required=False)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await conversation_of(session, request)
            agent = await _assignee(session, data, actor)
            if team_id is not None and await session.get(Team, team_id) is None:
                raise HTTPJSONError(400, "invalid", "no such team")
            with refusals():
                await actions.assign(session, conversation, agent, team_id=team_id, by=actor)
                if agent and agent.agent_id is not None and agent.agent_id != actor.agent_id:
                    await actions.notify(
                        session, agent.agent_id, "assigned", conversation.id, by=actor.name
                    )
            summary = await queries.conversation_summary(session, conversation, actor.agent_id)
        return web.json_response({"conversation": summary})

    async def resolve(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        return await self._change(request, data, actions.Target.RESOLVED)

    async def set_state(self, request: web.Request) -> web.Response:
        """``{"state": open|pending|snoozed|resolved|closed, "snoozed_until"?: iso}``."""
        data = await read_json(request)
        state = data.get("state")
        if state not in tuple(actions.Target):
            raise HTTPJSONError(
                400, "invalid", "'state' must be open, pending, snoozed, resolved or closed"
            )
        return await self._change(request, data, actions.Target(state))

    async def _change(
        self, request: web.Request, data: dict[str, Any], target: actions.Target
    ) -> web.Response:
        until = datetime_field(data, "snoozed_until")
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await conversation_of(session, request)
            with refusals():
                await actions.set_state(session, conversation, target, actor, snoozed_until=until)
            summary = await queries.conversation_summary(session, conversation, actor.agent_id)
        return web.json_response({"conversation": summary})

    async def set_priority(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        priority = data.get("priority")
        if priority not in tuple(Priority):
            raise HTTPJSONError(400, "invalid", "'priority' must be low, normal, high or urgent")
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await conversation_of(session, request)
            await actions.set_priority(session, conversation, Priority(priority), actor)
            summary = await queries.conversation_summary(session, conversation, actor.agent_id)
        return web.json_response({"conversation": summary})

    async def set_labels(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        labels = string_list(data, "labels", max_items=50, max_chars=200)
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await conversation_of(session, request)
            with refusals():
                await actions.set_labels(session, conversation, labels, actor)
            summary = await queries.conversation_summary(session, conversation, actor.agent_id)
        return web.json_response({"conversation": summary})

    async def read(self, request: web.Request) -> web.Response:
        """``{"message_id": id}``: the caller has read up to there. A caller without an
        account has no marker to move; it gets ``null``."""
        data = await read_json(request)
        message_id = int_field(data, "message_id")
        assert message_id is not None
        actor = caller(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            conversation = await conversation_of(session, request)
            if actor.agent_id is None:
                return web.json_response({"last_read_message_id": None})
            with refusals():
                marker = await actions.mark_read(session, conversation, actor.agent_id, message_id)
        return web.json_response({"last_read_message_id": marker})


async def _assignee(session: AsyncSession, data: dict[str, Any], actor: Actor) -> Actor | None:
    if "agent_id" not in data:
        return actor
    agent_id = int_field(data, "agent_id", required=False)
    if agent_id is None:
        return None
    agent = await session.get(Agent, agent_id)
    if agent is None or not agent.active:
        raise HTTPJSONError(400, "invalid", "no such active agent")
    return Actor.of(agent)


def _short(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    if len(value) > MAX_FILTER_CHARS:
        raise HTTPJSONError(400, "too_long", f"'{name}' is longer than {MAX_FILTER_CHARS}")
    return value or None
