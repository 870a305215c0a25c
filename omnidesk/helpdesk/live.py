"""The agent console's live socket, ``GET /api/v1/live``: one WebSocket per agent tab that
carries conversation changes, messages (private notes included), typing, presence and
the agent's own notifications, as they happen in any process (see ``events``).

Frames are the ones in the HTTP contract; each event is read from the database once per
process and its frame sent to every socket that may see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk import untrusted
from omnidesk.db import is_row_id
from omnidesk.helpdesk import queries
from omnidesk.helpdesk.actions import iso, message_dict
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import Event, EventBus
from omnidesk.helpdesk.http import IDENTITY_KEY, HTTPJSONError, actor_of
from omnidesk.helpdesk.livesocket import AgentSocket, Guard, socket_bucket
from omnidesk.helpdesk.models import Conversation, Message, Notification
from omnidesk.helpdesk.presence import REFRESH_S, Presence

log = logging.getLogger(__name__)

PATH = "/api/v1/live"
MAX_CLIENT_FRAME_BYTES = 4096
MAX_TEXT_CHARS = 20_000  # a longer message is cut in the frame; the API has it whole
HEARTBEAT_S = 30.0
TYPING_REFRESH_S = 3.0
EVENT_QUEUE = 10_000
SIGNED_OUT = 4401  # close code: the agent's sessions ended


class LiveHub:
    """Every live socket of this process, fed by the event bus."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        public_url: str | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._public_origin = _origin_of(public_url) if public_url else None
        self._sockets: dict[str, AgentSocket] = {}
        self._seq = itertools.count(1)
        self._presence = Presence()
        self._events: asyncio.Queue[Event] = asyncio.Queue(EVENT_QUEUE)
        self._tasks: list[asyncio.Task[None]] = []
        self._leaving: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------------

    def install(self, app: web.Application, guard: Guard) -> None:
        """Mount the socket behind ``guard`` and close the sockets when the app stops."""
        app.router.add_get(PATH, guard(self.websocket))
        app.on_shutdown.append(lambda _app: self.close_sockets())

    async def start(self) -> None:
        self._bus.subscribe(self._on_event)
        self._tasks = [
            asyncio.create_task(self._work(), name="live-events"),
            asyncio.create_task(self._refresh(), name="live-presence"),
        ]
        # A process that starts late learns who views what from the others.
        await self._bus.publish(Event("presence_hello"))

    async def stop(self) -> None:
        self._bus.unsubscribe(self._on_event)
        await self.close_sockets()
        if self._leaving:
            await asyncio.wait(self._leaving, timeout=5.0)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def close_sockets(self) -> None:
        for sock in list(self._sockets.values()):
            with contextlib.suppress(Exception):
                await sock.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    async def disconnect_agent(self, agent_id: int, *, keep: str | None = None) -> None:
        """Close an agent's sockets (password changed, disabled), but those of the session
        ``keep``: the console has to sign in again to reconnect."""
        for sock in list(self._sockets.values()):
            if sock.actor.agent_id == agent_id and (keep is None or sock.session_id != keep):
                await self._sign_out(sock)

    async def disconnect_session(self, session_id: str) -> None:
        """Close the sockets a browser session opened (it signed out)."""
        for sock in list(self._sockets.values()):
            if sock.session_id == session_id:
                await self._sign_out(sock)

    @staticmethod
    async def _sign_out(sock: AgentSocket) -> None:
        with contextlib.suppress(Exception):
            await sock.ws.close(code=SIGNED_OUT, message=b"signed out")

    def connected(self) -> int:
        return len(self._sockets)

    # -- the socket ------------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        actor = actor_of(request)
        identity = request.get(IDENTITY_KEY)
        self._check_origin(request)
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_CLIENT_FRAME_BYTES)
        await ws.prepare(request)
        key = f"{self._bus.process_id}:{next(self._seq)}"
        sock = AgentSocket(ws, actor, key, identity.session_id if identity else None)
        self._sockets[sock.key] = sock
        sock.send(_dumps({"type": "hello", "agent": _agent(actor)}))
        for conversation_id in self._presence.conversations():
            sock.send(self._presence_frame(conversation_id))
        bucket = socket_bucket()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if not bucket.take():
                    sock.send(_error("rate_limited", "too many frames; slow down"))
                    continue
                await self._client_frame(sock, msg.data)
        finally:
            del self._sockets[sock.key]
            # aiohttp cancels the handler when the peer goes; the others must still learn.
            leave = asyncio.create_task(self._leave(sock), name=f"live-leave-{sock.key}")
            self._leaving.add(leave)
            leave.add_done_callback(self._leaving.discard)
        return ws

    def _check_origin(self, request: web.Request) -> None:
        """A page on another site must not open a socket with the agent's cookie."""
        origin = request.headers.get("Origin")
        if origin is None:
            return  # not a browser: it had to present a credential of its own
        allowed = {_origin_of(f"{request.scheme}://{request.host}"), self._public_origin}
        if _origin_of(origin) not in allowed:
            raise HTTPJSONError(403, "bad_origin", "this origin may not open the live socket")

    async def _client_frame(self, sock: AgentSocket, data: str) -> None:
        try:
            frame = untrusted.loads(data)
        except untrusted.UntrustedInput:
            frame = None
        if not isinstance(frame, dict):
            sock.send(_error("bad_frame", "frames must be JSON objects"))
            return
        kind = frame.get("type")
        raw_id = frame.get("conversation_id")
        conversation_id = raw_id if isinstance(raw_id, int) and _is_id(raw_id) else None
        if kind == "ping":
            sock.send(_dumps({"type": "pong"}))
        elif kind == "view" and (raw_id is None or conversation_id is not None):
            await self._view(sock, conversation_id)
        elif kind == "typing" and conversation_id and isinstance(frame.get("typing"), bool):
            await self._typing(sock, conversation_id, frame["typing"])
        else:
            sock.send(_error("bad_frame", f"unknown or malformed frame {str(kind)[:40]!r}"))

    async def _view(self, sock: AgentSocket, conversation_id: int | None) -> None:
        if sock.viewing == conversation_id:
            return
        if sock.typing is not None and sock.typing[1]:
            await self._typing(sock, sock.typing[0], False)
        if sock.viewing is not None:
            await self._publish("presence", sock.viewer.as_event(sock.viewing, False))
        sock.viewing = conversation_id
        if conversation_id is not None:
            await self._publish("presence", sock.viewer.as_event(conversation_id, True))

    async def _typing(self, sock: AgentSocket, conversation_id: int, typing: bool) -> None:
        now = time.monotonic()
        last = sock.typing
        if last and last[:2] == (conversation_id, typing) and now - last[2] < TYPING_REFRESH_S:
            return  # nothing new to tell
        if last and last[1] and last[0] != conversation_id:
            await self._typing(sock, last[0], False)
        sock.typing = (conversation_id, typing, now)
        await self._publish(
            "typing",
            {
                "conversation_id": conversation_id,
                "key": sock.key,
                "agent_id": sock.actor.agent_id,
                "name": sock.actor.name[:200],
                "typing": typing,
            },
        )

    async def _leave(self, sock: AgentSocket) -> None:
        try:
            await self._view(sock, None)
        except Exception:
            log.exception("live: leaving %s failed", sock.key)
        await sock.close()

    async def _publish(self, kind: str, data: dict[str, Any]) -> None:
        await self._bus.publish(Event(kind, data))

    # -- events ----------------------------------------------------------------------------

    async def _on_event(self, event: Event) -> None:
        # Never read rows inside the publisher's call: queue, and let our task do it.
        try:
            self._events.put_nowait(event)
        except asyncio.QueueFull:
            log.error("live event queue full; dropped %s", event.kind)

    async def _work(self) -> None:
        while True:
            event = await self._events.get()
            try:
                await self._handle(event)
            except Exception:
                log.exception("live: handling %s failed", event.kind)

    async def _handle(self, event: Event) -> None:
        data, kind = event.data, event.kind
        if kind == "presence":
            changed = self._presence.apply(data)
            if changed is not None:
                self._broadcast(self._presence_frame(changed))
        elif kind == "presence_hello" and event.remote:
            await self._announce()
        elif kind == "typing" and _is_id(data.get("conversation_id")):
            self._typing_frame(data)
        elif kind == "resync":
            self._broadcast(_dumps({"type": "resync"}))
        elif kind == "sessions_ended" and _is_id(data.get("agent_id")):
            keep = data.get("keep")
            await self.disconnect_agent(
                data["agent_id"], keep=keep if isinstance(keep, str) else None
            )
        elif kind == "session_ended" and isinstance(data.get("session_id"), str):
            await self.disconnect_session(data["session_id"])
        elif not self._sockets:
            return  # the rest is for sockets only; nobody here to read rows for
        elif kind == "conversation" and _is_id(data.get("conversation_id")):
            await self._conversation(data["conversation_id"])
        elif kind == "message" and _is_id(data.get("message_id")):
            await self._message(data["message_id"])
        elif kind == "notification" and _is_id(data.get("notification_id")):
            await self._notification(data["notification_id"])

    def _typing_frame(self, data: dict[str, Any]) -> None:
        agent_id = data.get("agent_id")
        frame = _dumps(
            {
                "type": "typing",
                "conversation_id": data["conversation_id"],
                "agent": {
                    "id": agent_id if _is_id(agent_id) else None,
                    "name": str(data.get("name") or "Agent")[:200],
                },
                "typing": bool(data.get("typing")),
            }
        )
        self._broadcast(frame, skip=str(data.get("key")))

    async def _conversation(self, conversation_id: int) -> None:
        async with self._sessionmaker() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                return
            summary = await queries.conversation_summary(session, conversation)
        self._broadcast(_dumps({"type": "conversation", "conversation": summary}))

    async def _message(self, message_id: int) -> None:
        async with self._sessionmaker() as session:
            message = await session.get(Message, message_id)
            if message is None:
                return
            body = message_dict(message)
            body.setdefault("private", message.private)
            if len(body["text"]) > MAX_TEXT_CHARS:
                body["text"], body["truncated"] = body["text"][:MAX_TEXT_CHARS], True
            conversation = await session.get_one(Conversation, message.conversation_id)
            summary = await queries.conversation_summary(session, conversation)
        self._broadcast(
            _dumps({"type": "message", "conversation_id": message.conversation_id, "message": body})
        )
        # The lists show each conversation's latest message.
        self._broadcast(_dumps({"type": "conversation", "conversation": summary}))

    async def _notification(self, notification_id: int) -> None:
        async with self._sessionmaker() as session:
            row = await session.get(Notification, notification_id)
        if row is None:
            return
        frame = _dumps(
            {
                "type": "notification",
                "notification": {
                    "id": row.id,
                    "kind": row.kind,
                    "conversation_id": row.conversation_id,
                    "data": row.data,
                    "created_at": iso(row.created_at),
                },
            }
        )
        for sock in list(self._sockets.values()):
            if sock.actor.agent_id is not None and sock.actor.agent_id == row.agent_id:
                sock.send(frame)

    # -- presence --------------------------------------------------------------------------

    async def _refresh(self) -> None:
        """Re-announce our viewers and forget the others' stale ones, forever."""
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                await self._announce()
                for conversation_id in self._presence.prune():
                    self._broadcast(self._presence_frame(conversation_id))
            except Exception:
                log.exception("live: presence refresh failed")

    async def _announce(self) -> None:
        for sock in list(self._sockets.values()):
            if sock.viewing is not None:
                await self._publish("presence", sock.viewer.as_event(sock.viewing, True))

    def _presence_frame(self, conversation_id: int) -> str:
        viewers = self._presence.viewers(conversation_id)
        return _dumps({"type": "presence", "conversation_id": conversation_id, "viewers": viewers})

    def _broadcast(self, frame: str, skip: str | None = None) -> None:
        for sock in list(self._sockets.values()):
            if sock.key != skip:
                sock.send(frame)


def _agent(actor: Actor) -> dict[str, Any]:
    return {"id": actor.agent_id, "name": actor.name, "role": actor.role, "email": actor.email}


def _is_id(value: object) -> bool:
    return is_row_id(value)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), default=str)


def _error(code: str, message: str) -> str:
    return _dumps({"type": "error", "code": code, "message": message})
