"""The agents' live socket: presence, typing, messages, conversation changes and
notifications as frames; the guard, the Origin check and bad frames; and two processes
on one PostgreSQL database seeing each other's agents."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from omnidesk.helpdesk import Actor, Author, LiveHub, actions, create_bus, emit, unit_of_work
from omnidesk.helpdesk.events import Event, EventBus
from omnidesk.helpdesk.http import ACTOR_KEY, Handler, json_error
from omnidesk.helpdesk.models import Agent, Notification
from omnidesk.helpdesk.pgbus import PgEventBus
from tests.conftest import PG_ENV, Database

Frame = dict[str, Any]


def header_guard(handler: Handler) -> Handler:
    """A stand-in for the real guard: ``X-Test-Agent: <id>:<name>`` says who calls."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        raw = request.headers.get("X-Test-Agent")
        if not raw:
            return json_error(401, "unauthorized", "who are you?")
        agent_id, name = raw.split(":", 1)
        request[ACTOR_KEY] = Actor(name, agent_id=int(agent_id))
        return await handler(request)

    return guarded


class Live:
    """One agent's socket, with helpers to wait for a frame."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def until(self, predicate: Callable[[Frame], bool], timeout: float = 10.0) -> Frame:
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.ws.receive()
                assert msg.type == WSMsgType.TEXT, msg
                frame: Frame = json.loads(msg.data)
                if predicate(frame):
                    return frame

    async def send(self, frame: Frame) -> None:
        await self.ws.send_json(frame)


async def open_live(client: TestClient[Any, Any], agent_id: int, name: str) -> Live:
    ws = await client.ws_connect("/api/v1/live", headers={"X-Test-Agent": f"{agent_id}:{name}"})
    live = Live(ws)
    hello = await live.until(lambda f: True)
    assert hello == {
        "type": "hello",
        "agent": {"id": agent_id, "name": name, "role": "agent", "email": None},
    }
    return live


async def start_hub(db: Database, aiohttp_client: Any) -> tuple[TestClient[Any, Any], LiveHub]:
    bus = create_bus(db.url)
    await bus.start()
    hub = LiveHub(db.sessionmaker, bus)
    await hub.start()
    app = web.Application()
    hub.install(app, header_guard)

    async def stop(_app: web.Application) -> None:
        await hub.stop()
        await bus.stop()

    app.on_cleanup.append(stop)
    return await aiohttp_client(app), hub


async def new_conversation(db: Database, bus: EventBus, visitor: str) -> int:
    async with unit_of_work(db.sessionmaker, bus) as session:
        identity = await actions.resolve_identity(session, "webchat", visitor, name="Ana")
        conversation = await actions.current_conversation(session, identity)
        return conversation.id


async def add_agents(db: Database) -> tuple[int, int]:
    async with db.sessionmaker() as session, session.begin():
        ann = Agent(name="Ann", email="ann@example.com", password_hash="-")
        bob = Agent(name="Bob", email="bob@example.com", password_hash="-")
        session.add_all([ann, bob])
        await session.flush()
        return ann.id, bob.id


def is_type(kind: str, **fields: object) -> Callable[[Frame], bool]:
    return lambda f: f["type"] == kind and all(f.get(k) == v for k, v in fields.items())


async def test_two_agents_see_presence_typing_messages_and_own_notifications(
    db: Database, aiohttp_client: Any
) -> None:
    client, hub = await start_hub(db, aiohttp_client)
    bus = hub._bus
    ann_id, bob_id = await add_agents(db)
    conversation_id = await new_conversation(db, bus, "v-live-1")
    ann, bob = await open_live(client, ann_id, "Ann"), await open_live(client, bob_id, "Bob")

    await ann.send({"type": "view", "conversation_id": conversation_id})
    frame = await bob.until(is_type("presence", conversation_id=conversation_id))
    assert frame["viewers"] == [{"id": ann_id, "name": "Ann"}]
    await bob.send({"type": "view", "conversation_id": conversation_id})
    frame = await ann.until(lambda f: f["type"] == "presence" and len(f.get("viewers", [])) == 2)
    assert frame["viewers"] == [{"id": ann_id, "name": "Ann"}, {"id": bob_id, "name": "Bob"}]

    await ann.send({"type": "typing", "conversation_id": conversation_id, "typing": True})
    frame = await bob.until(is_type("typing"))
    assert frame == {
        "type": "typing",
        "conversation_id": conversation_id,
        "agent": {"id": ann_id, "name": "Ann"},
        "typing": True,
    }

    # A new customer message: both see it, and the conversation's new summary.
    async with unit_of_work(db.sessionmaker, bus) as session:
        conversation = await actions.current_conversation(
            session, await actions.resolve_identity(session, "webchat", "v-live-1")
        )
        message = await actions.record_message(
            session, conversation, Author.CONTACT, "my lamp is off"
        )
        message_id = message.id
    for live in (ann, bob):
        frame = await live.until(is_type("message"))
        assert frame["conversation_id"] == conversation_id
        assert frame["message"]["id"] == message_id
        assert frame["message"]["text"] == "my lamp is off"
        assert frame["message"]["private"] is False
        frame = await live.until(is_type("conversation"))
        assert frame["conversation"]["id"] == conversation_id
        assert frame["conversation"]["last_message"]["text"] == "my lamp is off"

    # A notification for Bob reaches Bob only: Ann's next frame is the marker after it.
    async with unit_of_work(db.sessionmaker, bus) as session:
        note = Notification(
            agent_id=bob_id, kind="mention", conversation_id=conversation_id, data={"by": "Ann"}
        )
        session.add(note)
        await session.flush()
        emit(session, "notification", notification_id=note.id, agent_id=bob_id)
        emit(session, "conversation", conversation_id=conversation_id)
    frame = await bob.until(is_type("notification"))
    assert frame["notification"]["id"] == note.id
    assert frame["notification"]["kind"] == "mention"
    assert frame["notification"]["conversation_id"] == conversation_id
    assert frame["notification"]["data"] == {"by": "Ann"}
    frame = await ann.until(lambda f: f["type"] in ("notification", "conversation"))
    assert frame["type"] == "conversation"

    # Ann signs out (in any process): her socket closes and Bob sees her typing stop
    # and her presence go.
    await bus.publish(Event("sessions_ended", {"agent_id": ann_id}))
    msg = await ann.ws.receive(timeout=10)
    # The close frame carries the code; the client's close_code is only set once its
    # own closing handshake finishes, which a loaded machine may not have reached yet.
    code = msg.data if msg.type == WSMsgType.CLOSE else ann.ws.close_code
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED) and code == 4401
    frame = await bob.until(is_type("typing"))
    assert frame["typing"] is False
    frame = await bob.until(is_type("presence", conversation_id=conversation_id))
    assert frame["viewers"] == [{"id": bob_id, "name": "Bob"}]
    await bob.ws.close()
    async with asyncio.timeout(5):
        while hub.connected():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1]",
        json.dumps({"type": "dance"}),
        json.dumps({"type": "view", "conversation_id": "7"}),
        json.dumps({"type": "view", "conversation_id": True}),
        json.dumps({"type": "typing", "conversation_id": 7}),
        json.dumps({"type": "typing", "conversation_id": -1, "typing": True}),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays(
    db: Database, aiohttp_client: Any, frame: str
) -> None:
    client, _ = await start_hub(db, aiohttp_client)
    live = await open_live(client, 1, "Ann")
    await live.ws.send_str(frame)
    error = await live.until(lambda f: True)
    assert error["type"] == "error" and error["code"] == "bad_frame"
    await live.send({"type": "ping"})
    assert await live.until(lambda f: True) == {"type": "pong"}


async def test_flooding_is_rate_limited_and_big_frames_close_the_socket(
    db: Database, aiohttp_client: Any
) -> None:
    client, _ = await start_hub(db, aiohttp_client)
    live = await open_live(client, 1, "Ann")
    for _ in range(60):
        await live.send({"type": "ping"})
    frame = await live.until(lambda f: f["type"] == "error")
    assert frame["code"] == "rate_limited"
    await live.ws.send_str(json.dumps({"type": "ping", "pad": "x" * 10_000}))
    msg = await live.ws.receive(timeout=10)
    while msg.type == WSMsgType.TEXT:
        msg = await live.ws.receive(timeout=10)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert live.ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_no_actor_no_socket_and_a_foreign_origin_is_refused(
    db: Database, aiohttp_client: Any
) -> None:
    client, _ = await start_hub(db, aiohttp_client)
    response = await client.get("/api/v1/live")
    assert response.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(
            "/api/v1/live",
            headers={"X-Test-Agent": "1:Ann", "Origin": "https://evil.example"},
        )
    assert refused.value.status == 403
    own = str(client.make_url("")).rstrip("/")
    ws = await client.ws_connect("/api/v1/live", headers={"X-Test-Agent": "1:Ann", "Origin": own})
    assert (await ws.receive_json(timeout=10))["type"] == "hello"
    await ws.close()


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")
async def test_two_processes_share_presence_typing_and_messages(
    db: Database, aiohttp_client: Any
) -> None:
    if db.backend != "postgresql":
        pytest.skip("processes share events through PostgreSQL")
    first_client, first = await start_hub(db, aiohttp_client)
    second_client, second = await start_hub(db, aiohttp_client)
    assert isinstance(first._bus, PgEventBus) and isinstance(second._bus, PgEventBus)
    ann_id, bob_id = await add_agents(db)
    conversation_id = await new_conversation(db, first._bus, "v-live-2")
    ann = await open_live(first_client, ann_id, "Ann")
    bob = await open_live(second_client, bob_id, "Bob")

    await ann.send({"type": "view", "conversation_id": conversation_id})
    frame = await bob.until(is_type("presence", conversation_id=conversation_id))
    assert frame["viewers"] == [{"id": ann_id, "name": "Ann"}]
    await ann.send({"type": "typing", "conversation_id": conversation_id, "typing": True})
    frame = await bob.until(is_type("typing"))
    assert frame["agent"] == {"id": ann_id, "name": "Ann"} and frame["typing"] is True

    # A message written through the first process reaches the agent on the second.
    async with unit_of_work(db.sessionmaker, first._bus) as session:
        conversation = await actions.current_conversation(
            session, await actions.resolve_identity(session, "webchat", "v-live-2")
        )
        await actions.record_message(session, conversation, Author.CONTACT, "anyone there?")
    frame = await bob.until(is_type("message"))
    assert frame["message"]["text"] == "anyone there?"
    await ann.ws.close()
    await bob.ws.close()
