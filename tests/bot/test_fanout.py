"""Fan-out across processes: two services on one PostgreSQL database stand for two
``omnidesk serve`` processes. The visitor's socket is held by one, the inbox and outbox
work is done by the other, and the visitor and the agent's live socket see it all; and
on one process (SQLite too) a customer's web chat message reaches the live socket."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from omnidesk.bot.app import SERVICES, create_app
from omnidesk.bot.services import Services
from omnidesk.config import Settings
from tests.accounts import bearer, client_bearer
from tests.conftest import Database

Frame = dict[str, Any]


async def until(
    ws: aiohttp.ClientWebSocketResponse, predicate: Callable[[Frame], bool], timeout: float = 20
) -> Frame:
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            assert msg.type == WSMsgType.TEXT, msg
            frame: Frame = json.loads(msg.data)
            if predicate(frame):
                return frame


async def visitor(client: TestClient[Any, Any]) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello", "token": None})
    assert (await ws.receive_json(timeout=20))["type"] == "welcome"
    return ws


async def say(ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
    cid = uuid.uuid4().hex
    await ws.send_json({"type": "message", "id": cid, "text": text})
    await until(ws, lambda f: f["type"] == "ack" and f["id"] == cid)


async def live(client: TestClient[Any, Any]) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect("/api/v1/live", headers=await client_bearer(client))
    assert (await ws.receive_json(timeout=20))["type"] == "hello"
    return ws


def authored(author: str) -> Callable[[Frame], bool]:
    return lambda f: f["type"] == "message" and f["message"]["author"] == author


@pytest.fixture
async def two_processes(
    settings: Settings, db: Database, tmp_path: Path, aiohttp_client: Any
) -> AsyncIterator[tuple[Services, TestClient[Any, Any], Services, TestClient[Any, Any]]]:
    if db.backend != "postgresql":
        pytest.skip("processes share events through PostgreSQL")
    other = settings.model_copy(update={"data_dir": tmp_path / "other"})
    first, second = Services(settings, workers=False), Services(other, workers=False)
    async with first, second:
        yield (
            first,
            await aiohttp_client(create_app(settings, first)),
            second,
            await aiohttp_client(create_app(other, second)),
        )


async def test_work_done_by_one_process_reaches_sockets_held_by_the_other(
    two_processes: tuple[Services, TestClient[Any, Any], Services, TestClient[Any, Any]],
) -> None:
    worker, worker_client, _, holder_client = two_processes
    agent = await live(worker_client)
    ws = await visitor(holder_client)
    await say(ws, "I want a human")

    # The worker process handles the message the holder accepted...
    assert await worker.inbox.drain() == 1
    echo = await until(ws, authored("contact"))
    assert echo["message"]["text"] == "I want a human"
    # ...and its outbox sends the handoff notice to a socket it does not hold.
    assert await worker.outbox.dispatch_ready() == 1
    handoff = await until(ws, authored("system"))
    assert handoff["message"]["text"]

    frame = await until(agent, authored("contact"))
    conversation_id = frame["conversation_id"]
    frame = await until(
        agent, lambda f: f["type"] == "conversation" and f["conversation"]["state"] == "queued"
    )
    assert frame["conversation"]["id"] == conversation_id

    resp = await worker_client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "Hi, Dana here"},
        headers=await bearer(worker_client.app[SERVICES].sessionmaker, email="dana@x.test"),
    )
    assert resp.status == 201
    assert await worker.outbox.dispatch_ready() == 1
    reply = await until(ws, authored("agent"))
    assert reply["message"]["text"] == "Hi, Dana here"
    assert reply["message"]["author_name"] == "Dana"
    await ws.close()
    await agent.close()


@pytest.fixture
async def client(settings: Settings, db: Database, aiohttp_client: Any) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(settings))


async def test_a_web_chat_message_reaches_the_agents_live_socket(
    client: TestClient[Any, Any],
) -> None:
    agent = await live(client)
    ws = await visitor(client)
    await say(ws, "I want a human")
    frame = await until(agent, authored("contact"))
    assert frame["message"]["text"] == "I want a human"
    conversation_id = frame["conversation_id"]
    frame = await until(
        agent, lambda f: f["type"] == "conversation" and f["conversation"]["state"] == "queued"
    )
    assert frame["conversation"]["id"] == conversation_id
    await ws.close()
    await agent.close()


async def test_the_live_socket_wants_the_token_and_a_matching_origin(
    client: TestClient[Any, Any],
) -> None:
    for headers in ({}, {"Authorization": "Bearer odk_wrong"}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/api/v1/live", headers=headers)
        assert refused.value.status == 401
    auth = await client_bearer(client)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/api/v1/live", headers={**auth, "Origin": "http://evil.example"})
    assert refused.value.status == 403
    ws = await client.ws_connect("/api/v1/live", headers=auth)
    assert (await ws.receive_json(timeout=20))["type"] == "hello"
    await ws.close()
