"""The web chat widget against a scripted WebSocket peer.

The peer speaks the web chat protocol frame by frame, so the widget's own duties can
be checked exactly: the hello/welcome handshake and token storage, optimistic
messages and their dedupe, quick replies, errors, the typing indicator, reconnect with
a queue, and recovery from an invalid token. No omnidesk service is started here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from playwright.async_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

STATIC = Path(__file__).resolve().parents[2] / "omnidesk" / "channels" / "webchat" / "static"
FRAME_TIMEOUT_S = 10.0
HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>host</title></head>
<body><h1>Host page</h1>
<script src="/webchat/widget.js" data-open="true" data-title="Test Support" defer></script>
</body></html>"""


class Peer:
    """The server side of the web chat socket, driven by the test."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[tuple[web.WebSocketResponse, dict[str, Any]]] = asyncio.Queue()
        self.sockets: list[web.WebSocketResponse] = []

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await self.frames.put((ws, json.loads(message.data)))
        return ws

    async def expect_frame(self, kind: str) -> tuple[web.WebSocketResponse, dict[str, Any]]:
        """The next frame from the widget, which must be of type ``kind``."""
        ws, frame = await asyncio.wait_for(self.frames.get(), FRAME_TIMEOUT_S)
        assert frame.get("type") == kind, frame
        return ws, frame

    async def send(self, frame: dict[str, Any], ws: web.WebSocketResponse | None = None) -> None:
        await (ws or self.sockets[-1]).send_json(frame)

    async def handshake(
        self, history: list[dict[str, Any]] | None = None, token: str = "tok-1"
    ) -> dict[str, Any]:
        """Answers the widget's hello with a welcome; returns the hello."""
        ws, hello = await self.expect_frame("hello")
        await self.send(
            {
                "type": "welcome",
                "token": token,
                "visitor": "v-1",
                "title": "Server Title",
                "history": history or [],
            },
            ws,
        )
        return hello


def message(
    ident: int, author: str, text: str, *, client_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": ident,
        "author": author,
        "author_name": extra.get("author_name"),
        "text": text,
        "buttons": extra.get("buttons", []),
        "citations": extra.get("citations", []),
        "confidence": extra.get("confidence"),
        "created_at": "2024-05-01T10:00:00+00:00",
        "client_id": client_id,
    }


@pytest.fixture
async def peer(aiohttp_server: Callable[..., Awaitable[Any]]) -> AsyncIterator[tuple[Peer, str]]:
    """A scripted peer and the URL of a host page that embeds the widget."""
    scripted = Peer()

    async def host_page(_: web.Request) -> web.Response:
        return web.Response(text=HOST_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", host_page)
    app.router.add_get("/webchat/widget.js", lambda _: web.FileResponse(STATIC / "widget.js"))
    app.router.add_get("/webchat/widget.css", lambda _: web.FileResponse(STATIC / "widget.css"))
    app.router.add_get("/webchat/ws", scripted.handler)
    server = await aiohttp_server(app)
    yield scripted, str(server.make_url("/"))
    for ws in scripted.sockets:
        await ws.close()


async def open_page(browser: Browser, url: str) -> Page:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url)
    return page


async def test_handshake_history_and_token(browser: Browser, peer: tuple[Peer, str]) -> None:
    scripted, url = peer
    page = await open_page(browser, url)
    hello = await scripted.handshake(
        [message(1, "bot", "Hi! Ask me anything."), message(2, "contact", "earlier question")]
    )
    assert hello == {"type": "hello", "token": None}
    await expect(page.locator(".od-status")).to_have_attribute("data-state", "online")
    await expect(page.locator(".od-msg")).to_have_count(2)
    await expect(page.locator(".od-msg.od-bot .od-text")).to_have_text("Hi! Ask me anything.")
    await expect(page.locator(".od-msg.od-contact .od-text")).to_have_text("earlier question")
    # data-title on the script tag wins over the server's title.
    await expect(page.locator(".od-title")).to_have_text("Test Support")
    assert await page.evaluate("localStorage.getItem('omnidesk.token')") == "tok-1"

    # A reload says hello with the stored token.
    await page.reload()
    hello = await scripted.handshake([message(1, "bot", "Hi! Ask me anything.")])
    assert hello["token"] == "tok-1"
    await expect(page.locator(".od-msg")).to_have_count(1)


async def test_send_is_optimistic_and_deduplicated(
    browser: Browser, peer: tuple[Peer, str]
) -> None:
    scripted, url = peer
    page = await open_page(browser, url)
    await scripted.handshake()
    box = page.locator("textarea.od-input")
    await box.fill("first line")
    await box.press("Shift+Enter")
    await box.press_sequentially("second line")
    await expect(box).to_have_value("first line\nsecond line")
    await box.press("Enter")

    ws, sent = await scripted.expect_frame("message")
    assert sent["text"] == "first line\nsecond line"
    assert len(sent["id"]) == 36
    pending = page.locator(".od-msg.od-contact.od-pending")
    await expect(pending).to_have_count(1)
    await expect(pending.locator(".od-text")).to_have_text("first line\nsecond line")

    await scripted.send({"type": "ack", "id": sent["id"], "duplicate": False}, ws)
    echo = message(7, "contact", sent["text"], client_id=sent["id"])
    await scripted.send({"type": "message", "message": echo}, ws)
    await scripted.send({"type": "message", "message": echo}, ws)  # the same id again
    await expect(page.locator(".od-msg.od-contact[data-id='7']")).to_have_count(1)
    await expect(page.locator(".od-msg")).to_have_count(1)
    await expect(page.locator(".od-pending")).to_have_count(0)


async def test_bot_answer_buttons_citations_and_typing(
    browser: Browser, peer: tuple[Peer, str]
) -> None:
    scripted, url = peer
    page = await open_page(browser, url)
    await scripted.handshake()

    await scripted.send({"type": "typing", "on": True})
    await expect(page.locator(".od-typing")).to_be_visible()
    await scripted.send({"type": "typing", "on": False})
    await expect(page.locator(".od-typing")).to_be_hidden()

    answer = message(
        3,
        "bot",
        "I'm not sure. One of these?",
        buttons=[
            {"label": "Track an order", "payload": "article:track-order"},
            {"label": "Talk to a person", "payload": "handoff"},
        ],
        citations=[
            {"slug": "track-order", "title": "Track your order", "url": "/kb/track-order"},
            {"slug": "evil", "title": "Evil", "url": "javascript:alert(1)"},
        ],
    )
    await scripted.send({"type": "message", "message": answer})
    bot = page.locator(".od-msg.od-bot[data-id='3']")
    links = bot.locator(".od-citation a")
    await expect(links).to_have_count(1)  # the javascript: link is dropped
    await expect(links).to_have_text("Track your order")
    assert (await links.get_attribute("href") or "").endswith("/kb/track-order")
    assert await links.get_attribute("target") == "_blank"

    await bot.locator(".od-buttons button", has_text="Talk to a person").click()
    _, action = await scripted.expect_frame("action")
    assert action["payload"] == "handoff"
    assert action["label"] == "Talk to a person"
    for button in await bot.locator(".od-buttons button").all():
        await expect(button).to_be_disabled()

    await scripted.send(
        {"type": "message", "message": message(4, "agent", "Hello, Dana here.", author_name="Dana")}
    )
    await scripted.send({"type": "message", "message": message(5, "agent", "And me.")})
    await expect(page.locator(".od-agent[data-id='4'] .od-author")).to_have_text("Dana")
    await expect(page.locator(".od-agent[data-id='5'] .od-author")).to_have_text("Agent")


async def test_error_frame_is_shown_and_not_fatal(browser: Browser, peer: tuple[Peer, str]) -> None:
    scripted, url = peer
    page = await open_page(browser, url)
    await scripted.handshake()
    await scripted.send({"type": "error", "code": "rate_limited", "message": "Slow down, please."})
    await expect(page.locator(".od-error")).to_have_text("Slow down, please.")
    await expect(page.locator(".od-error")).to_be_visible()
    await expect(page.locator(".od-status")).to_have_attribute("data-state", "online")
    await page.locator("textarea.od-input").fill("still here")
    await page.locator(".od-send").click()
    ws, sent = await scripted.expect_frame("message")

    # A refusal without an id belongs to the oldest unacknowledged frame.
    await scripted.send({"type": "error", "code": "too_large", "message": "Too long."}, ws)
    failed = page.locator(".od-contact.od-failed")
    await expect(failed).to_have_count(1)
    await failed.locator(".od-retry").click()
    _, again = await scripted.expect_frame("message")
    assert again == sent  # the same client id, so the server can dedupe it
    await scripted.send({"type": "ack", "id": sent["id"], "duplicate": False}, ws)
    await expect(page.locator(".od-contact.od-failed, .od-contact.od-pending")).to_have_count(0)


async def test_invalid_token_reconnects_fresh(browser: Browser, peer: tuple[Peer, str]) -> None:
    scripted, url = peer
    context = await browser.new_context()
    await context.add_init_script("localStorage.setItem('omnidesk.token', 'stale')")
    page = await context.new_page()
    await page.goto(url)
    ws, hello = await scripted.expect_frame("hello")
    assert hello["token"] == "stale"
    await scripted.send({"type": "error", "code": "invalid_token", "message": "unknown"}, ws)
    hello = await scripted.handshake(token="tok-new")
    assert hello["token"] is None
    await expect(page.locator(".od-status")).to_have_attribute("data-state", "online")
    assert await page.evaluate("localStorage.getItem('omnidesk.token')") == "tok-new"


async def test_reconnects_and_sends_what_was_queued(
    browser: Browser, peer: tuple[Peer, str]
) -> None:
    scripted, url = peer
    page = await open_page(browser, url)
    await scripted.handshake()
    await expect(page.locator(".od-status")).to_have_attribute("data-state", "online")

    await scripted.sockets[-1].close()
    await expect(page.locator(".od-status")).not_to_have_attribute("data-state", "online")
    box = page.locator("textarea.od-input")
    await box.fill("typed while offline")
    await box.press("Enter")
    await expect(page.locator(".od-contact.od-pending")).to_have_count(1)

    # The widget comes back by itself (back-off starts at well under a second).
    hello = await scripted.handshake(token="tok-1")
    assert hello["token"] == "tok-1"
    ws, sent = await scripted.expect_frame("message")
    assert sent["text"] == "typed while offline"
    # The welcome's history did not have it, so it stays on screen until the echo.
    await expect(page.locator(".od-contact.od-pending")).to_have_count(1)
    echo = message(9, "contact", sent["text"], client_id=sent["id"])
    await scripted.send({"type": "message", "message": echo}, ws)
    await expect(page.locator(".od-contact")).to_have_count(1)
    await expect(page.locator(".od-contact[data-id='9']")).to_have_count(1)
