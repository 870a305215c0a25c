"""The live socket in a real browser against the real service: a customer's web chat
message appears on an agent's page at once, with no polling; a page from another
origin cannot open the socket."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from tests.e2e.conftest import Server, sign_in

OPEN_LIVE = """
(path) => new Promise((resolve, reject) => {
  window.frames_ = [];
  const ws = new WebSocket(`ws://${location.host}${path}`);
  ws.onmessage = (e) => {
    const f = JSON.parse(e.data);
    window.frames_.push(f);
    if (f.type === "hello") resolve(f);
  };
  ws.onclose = (e) => reject(new Error("closed " + e.code));
})
"""


async def test_a_customer_message_appears_on_the_agents_page(server: Server, browser: Any) -> None:
    page = await browser.new_page()
    await sign_in(page, server, server.agent)  # the socket rides on the session cookie
    await page.goto(server.url("/healthz"))  # a quiet page on the same origin
    hello = await page.evaluate(OPEN_LIVE, "/api/v1/live")
    assert hello["type"] == "hello" and hello["agent"]["role"] in ("agent", "admin")

    text = "I want a human"  # the page's frames start empty: only this test's message
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.url("/webchat/ws").replace("http", "ws", 1))
        await ws.send_json({"type": "hello", "token": None})
        await ws.receive_json(timeout=30)
        await ws.send_json({"type": "message", "id": uuid.uuid4().hex, "text": text})
        handle = await page.wait_for_function(
            """(text) => window.frames_.find(
                 (f) => f.type === "message" && f.message.text === text)""",
            arg=text,
            timeout=30_000,
        )
        frame = await handle.json_value()
        assert frame["message"]["author"] == "contact"
        await page.wait_for_function(
            """(id) => window.frames_.some((f) => f.type === "conversation"
                 && f.conversation.id === id && f.conversation.state === "queued")""",
            arg=frame["conversation_id"],
            timeout=30_000,
        )
        await ws.close()
    await page.close()


async def test_a_page_from_another_origin_cannot_open_the_socket(server: Server) -> None:
    async with aiohttp.ClientSession() as session:
        try:
            await session.ws_connect(
                server.url("/api/v1/live").replace("http", "ws", 1),
                headers={**server.bearer(server.agent), "Origin": "http://evil.example"},
            )
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 403
        else:
            raise AssertionError("a foreign origin opened the live socket")
