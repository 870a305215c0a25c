"""The web chat WebSocket against the real app: answers, history on reconnect, agent
replies, and every kind of bad frame a stranger can send."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from omnidesk.bot.app import SERVICES, create_app
from omnidesk.channels.webchat import VisitorTokens
from omnidesk.config import Settings
from omnidesk.helpdesk import InboxItem, Message, TimelineEvent
from tests.accounts import bearer, client_bearer


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: object
) -> AsyncIterator[TestClient[Any, Any]]:
    yield await aiohttp_client(create_app(settings))


class Socket:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def frame(self, timeout: float = 20.0) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type == WSMsgType.TEXT, msg
        data: dict[str, Any] = json.loads(msg.data)
        return data

    async def until(self, predicate: Any, timeout: float = 20.0) -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            while True:
                frame = await self.frame(timeout)
                if predicate(frame):
                    return frame

        return await asyncio.wait_for(wait(), timeout)

    async def say(self, text: str, client_id: str | None = None) -> dict[str, Any]:
        cid = client_id or str(uuid.uuid4())
        await self.ws.send_json({"type": "message", "id": cid, "text": text})
        return await self.until(lambda f: f["type"] == "ack" and f["id"] == cid)


async def connect(
    client: TestClient[Any, Any], token: str | None = None
) -> tuple[Socket, dict[str, Any]]:
    ws = await client.ws_connect("/webchat/ws")
    sock = Socket(ws)
    await ws.send_json({"type": "hello", "token": token})
    welcome = await sock.frame()
    return sock, welcome


def bot_message(frame: dict[str, Any]) -> bool:
    return frame["type"] == "message" and frame["message"]["author"] in ("bot", "system")


async def test_question_answered_with_citation_then_history_on_reconnect(
    client: TestClient[Any, Any],
) -> None:
    sock, welcome = await connect(client)
    assert welcome["type"] == "welcome" and welcome["history"] == []
    ack = await sock.say("how do I reset my password?", "c-1")
    assert ack["duplicate"] is False
    answer = (await sock.until(bot_message))["message"]
    assert answer["citations"] and "/kb/" in answer["citations"][0]["url"]
    assert answer["confidence"] > 0
    await sock.ws.close()

    again, welcome2 = await connect(client, welcome["token"])
    assert welcome2["visitor"] == welcome["visitor"]
    history = welcome2["history"]
    assert [m["author"] for m in history] == ["contact", "bot"]
    assert history[0]["text"] == "how do I reset my password?"
    assert history[0]["client_id"] == "c-1"
    assert history[1]["citations"] == answer["citations"]
    await again.ws.close()


async def test_forged_token_is_refused(client: TestClient[Any, Any]) -> None:
    forged = VisitorTokens("not-the-server-secret").sign("someone-else")
    sock, frame = await connect(client, forged)
    assert frame == {
        "type": "error",
        "code": "invalid_token",
        "message": "this visitor token is not valid",
    }
    msg = await sock.ws.receive(timeout=5)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert sock.ws.close_code == 4401


async def test_visitors_never_see_each_other(client: TestClient[Any, Any]) -> None:
    alice, welcome_a = await connect(client)
    await alice.say("how do I reset my password?")
    await alice.until(bot_message)
    bob, welcome_b = await connect(client)
    assert welcome_b["visitor"] != welcome_a["visitor"]
    assert welcome_b["history"] == []
    # Bob hears nothing of Alice's next exchange.
    await alice.say("where is my parcel?")
    await alice.until(bot_message)
    with pytest.raises(asyncio.TimeoutError):
        await bob.frame(timeout=1.0)
    await alice.ws.close()
    await bob.ws.close()


async def test_replayed_client_id_gets_no_second_reply(client: TestClient[Any, Any]) -> None:
    sock, _ = await connect(client)
    first = await sock.say("how do I reset my password?", "same-id")
    await sock.until(bot_message)
    second = await sock.say("how do I reset my password?", "same-id")
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    with pytest.raises(asyncio.TimeoutError):
        await sock.until(bot_message, timeout=1.5)
    services = client.app[SERVICES]
    async with services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 1
        bot_count = await session.scalar(
            select(func.count()).select_from(Message).where(Message.author == "bot")
        )
    assert bot_count == 1
    await sock.ws.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        ('{"type": "message", "text": "no id"}', "bad_frame"),
        ('{"type": "message", "id": "x", "text": "   "}', "bad_frame"),
        ('{"type": "message", "id": 5, "text": "numeric id"}', "bad_frame"),
        ('{"type": "launch-missiles", "id": "x"}', "bad_frame"),
        ('{"type": "action", "id": "x", "payload": ""}', "bad_frame"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_lives(
    client: TestClient[Any, Any], frame: str, code: str
) -> None:
    sock, _ = await connect(client)
    await sock.ws.send_str(frame)
    error = await sock.frame()
    assert error["type"] == "error" and error["code"] == code and error["message"]
    ack = await sock.say("how do I reset my password?")
    assert ack["duplicate"] is False
    await sock.ws.close()
    services = client.app[SERVICES]
    async with services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 1


async def test_oversized_text_and_frames(client: TestClient[Any, Any], settings: Settings) -> None:
    sock, _ = await connect(client)
    too_long = "x" * (settings.webchat.max_message_chars + 1)
    await sock.ws.send_json({"type": "message", "id": "big", "text": too_long})
    assert (await sock.frame())["code"] == "too_large"
    # Past the hard limit the server closes the socket with 1009 ...
    await sock.ws.send_str("y" * (settings.webchat.max_frame_bytes * 4 + 10))
    msg = await sock.ws.receive(timeout=5)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert sock.ws.close_code == 1009
    # ... nothing was stored, and the server keeps serving.
    services = client.app[SERVICES]
    async with services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 0
    other, welcome = await connect(client)
    assert welcome["type"] == "welcome"
    await other.say("hello")
    await other.ws.close()


async def test_rate_limit(client: TestClient[Any, Any]) -> None:
    sock, _ = await connect(client)
    for n in range(40):
        await sock.ws.send_json({"type": "ping", "id": str(n)})
    frames = [await sock.frame() for _ in range(40)]
    assert any(f["type"] == "error" and f["code"] == "rate_limited" for f in frames)
    await sock.ws.close()


async def test_agent_reply_from_console_reaches_widget(client: TestClient[Any, Any]) -> None:
    sock, _ = await connect(client)
    await sock.say("I want a human")
    handoff = (await sock.until(bot_message))["message"]
    assert handoff["author"] == "system"

    resp = await client.get("/api/v1/conversations?state=queued")
    assert resp.status == 401
    dana = await bearer(client.app[SERVICES].sessionmaker, email="dana@x.test")
    resp = await client.get("/api/v1/conversations?state=queued", headers=dana)
    assert resp.status == 200
    [conversation] = (await resp.json())["conversations"]
    assert conversation["ticket"]["state"] == "open"

    resp = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Hi, <b>Dana</b> here!"},
        headers=dana,
    )
    assert resp.status == 201
    frame = await sock.until(lambda f: f["type"] == "message" and f["message"]["author"] == "agent")
    assert frame["message"]["text"] == "Hi, <b>Dana</b> here!"
    assert frame["message"]["author_name"] == "Dana"

    resp = await client.post(
        f"/api/v1/conversations/{conversation['id']}/resolve",
        json={},
        headers=dana,
    )
    assert resp.status == 200 and (await resp.json())["conversation"]["state"] == "resolved"
    await sock.ws.close()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 400, "bad_json"),
        (b"[]", 400, "bad_json"),
        (b'{"text": ""}', 400, "invalid"),
        (b'{"text": 5}', 400, "invalid"),
        (json.dumps({"text": "x" * 10_001}).encode(), 400, "too_long"),
        (b"x" * (70 * 1024), 413, "too_large"),
    ],
)
async def test_console_api_rejects_bad_bodies(
    client: TestClient[Any, Any], body: bytes, status: int, code: str
) -> None:
    sock, _ = await connect(client)
    await sock.say("I want a human")
    await sock.until(bot_message)
    resp = await client.get(
        "/api/v1/conversations?state=queued", headers=await client_bearer(client)
    )
    [conversation] = (await resp.json())["conversations"]
    resp = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        data=body,
        headers={**(await client_bearer(client)), "Content-Type": "application/json"},
    )
    assert resp.status == status
    assert (await resp.json())["error"]["code"] == code
    services = client.app[SERVICES]
    async with services.sessionmaker() as session:
        agent_messages = await session.scalar(
            select(func.count()).select_from(Message).where(Message.author == "agent")
        )
    assert agent_messages == 0
    await sock.ws.close()


async def test_console_api_unknown_conversation_and_state(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/api/v1/conversations/999999", headers=await client_bearer(client))
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    resp = await client.get(
        "/api/v1/conversations?state=bogus", headers=await client_bearer(client)
    )
    assert resp.status == 400
    resp = await client.get("/api/v1/conversations", headers={"Authorization": "Bearer wrong"})
    assert resp.status == 401


async def test_a_feedback_button_names_the_answer_it_belongs_to(
    client: TestClient[Any, Any],
) -> None:
    sock, _ = await connect(client)
    await sock.say("how do I reset my password?")
    answer = (await sock.until(bot_message))["message"]
    await sock.say("how long does delivery take?")
    await sock.until(bot_message)
    await sock.ws.send_json(
        {
            "type": "action",
            "id": "fb-1",
            "payload": "feedback:not_helpful",
            "label": "Not helpful",
            "message_id": answer["id"],
        }
    )
    await sock.until(lambda f: f["type"] == "ack" and f["id"] == "fb-1")
    await sock.until(bot_message)
    maker = client.app[SERVICES].sessionmaker
    async with maker() as session:
        feedback = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "feedback")
        )
    assert feedback is not None and feedback.data["message_id"] == answer["id"]
    assert feedback.data["question"] == "how do I reset my password?"
    await sock.ws.close()


async def test_welcome_carries_the_look_and_which_buttons_were_answered(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    sock, welcome = await connect(client)
    assert welcome["look"]["color"] == settings.webchat.primary_color
    assert welcome["look"]["title"] == welcome["title"] == settings.webchat.title
    await sock.say("how do I reset my password?")
    answer = (await sock.until(lambda f: bot_message(f) and f["message"]["buttons"]))["message"]
    button = answer["buttons"][0]
    # The widget names a press after the message its button was on.
    cid = f"m{answer['id']}-{uuid.uuid4()}"
    await sock.ws.send_json(
        {"type": "action", "id": cid, "payload": button["payload"], "label": button["label"]}
    )
    await sock.until(
        lambda f: (
            f["type"] == "message" and f["message"].get("client_id") == cid and f["message"]["id"]
        )
    )
    _, again = await connect(client, welcome["token"])
    answered = {m["id"]: m.get("answered") for m in again["history"]}
    assert answered[answer["id"]] == button["label"]


@pytest.mark.parametrize("message_id", [3_000_000_000, -1, 0])
async def test_a_feedback_button_with_an_impossible_message_id(
    client: TestClient[Any, Any], message_id: int
) -> None:
    # Filed on the latest answer, as with no id at all: never a failed turn.
    sock, _ = await connect(client)
    await sock.say("how do I reset my password?")
    await sock.until(bot_message)
    await sock.ws.send_json(
        {
            "type": "action",
            "id": "fb-big",
            "payload": "feedback:not_helpful",
            "label": "Not helpful",
            "message_id": message_id,
        }
    )
    await sock.until(lambda f: f["type"] == "ack" and f["id"] == "fb-big")
    await sock.until(bot_message)
    maker = client.app[SERVICES].sessionmaker
    async with maker() as session:
        feedback = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "feedback")
        )
        parked = await session.scalar(
            select(func.count()).select_from(InboxItem).where(InboxItem.state == "failed")
        )
        failed = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "inbound_failed")
        )
    assert feedback is not None and feedback.data["message_id"] is not None
    assert parked == 0 and failed is None
    await sock.ws.close()
