"""The web chat adapter: one WebSocket per browser tab, signed visitor tokens, history
on (re)connect, and delivery of replies to every open tab of a visitor.

Frames are JSON objects; the protocol is described in the README.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from omnidesk import untrusted
from omnidesk.channels.base import (
    DeliveryReceipt,
    InboundMessage,
    InboundResult,
    OnMessage,
    OutboundMessage,
)
from omnidesk.channels.webchat.history import mark_answered
from omnidesk.channels.webchat.tokens import VisitorTokens
from omnidesk.config import WebchatSettings
from omnidesk.ratelimit import Bucket, Buckets, take_all

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
NAME = "webchat"
MAX_CLIENT_ID = 100
MAX_ACTION_CHARS = 300
HELLO_TIMEOUT = 15.0
# Messages per socket and per visitor (all their tabs together): a burst, then a steady
# rate per second. Per address the settings say (a minute's worth at once, then steady).
SOCKET_RATE = (20, 2.0)
VISITOR_RATE = (20, 2.0)

History = Callable[[str], Awaitable[list[dict[str, Any]]]]
# Tells the other processes that a reply went out: (visitor, message id).
Relay = Callable[[str, int], Awaitable[None]]


class FrameError(Exception):
    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


class WebchatChannel:
    """The embeddable web chat."""

    name = NAME

    def __init__(
        self,
        settings: WebchatSettings,
        tokens: VisitorTokens,
        on_message: OnMessage,
        history: History,
        relay: Relay | None = None,
    ) -> None:
        self._settings = settings
        self._relay = relay
        self._tokens = tokens
        self._on_message = on_message
        self._history = history
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._by_visitor = Buckets(*VISITOR_RATE)
        self._by_address = _per_minute(settings.messages_per_address_per_minute)
        self._new_by_address = _per_minute(settings.new_visitors_per_address_per_minute)

    # -- Channel contract ----------------------------------------------------------------

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [
            web.get("/webchat/ws", self.websocket),
            web.static("/webchat", STATIC_DIR, show_index=False),
        ]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        sockets = [ws for group in self._sockets.values() for ws in group]
        for ws in sockets:
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"server shutting down")
        self._sockets.clear()

    async def send(self, message: OutboundMessage) -> DeliveryReceipt:
        # The message is already in the visitor's history; a visitor with no open tab
        # gets it on reconnect, so delivery never fails here.
        await self.show_reply(message)
        if self._relay is not None:
            # The visitor's tabs may be held by other processes; they show it from the row.
            await self._relay(message.recipient_id, message.message_id)
        return DeliveryReceipt(ok=True, external_id=str(message.message_id))

    # -- called by the service -------------------------------------------------------------

    async def show_reply(self, message: OutboundMessage) -> None:
        """Show a reply on the tabs this process holds: typing stops, the message appears."""
        await self.push(message.recipient_id, {"type": "typing", "on": False})
        await self.push(message.recipient_id, {"type": "message", "message": frame_of(message)})

    async def processed(self, visitor: str, message: dict[str, Any], replied: bool) -> None:
        """The visitor's message is stored: echo it to their other tabs, stop typing."""
        await self.push(visitor, {"type": "message", "message": message})
        if not replied:
            await self.push(visitor, {"type": "typing", "on": False})

    async def push(self, visitor: str, frame: dict[str, Any]) -> None:
        for ws in list(self._sockets.get(visitor, ())):
            if ws.closed:
                self._sockets[visitor].discard(ws)
                continue
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json(frame)

    def open_sockets(self) -> int:
        return sum(1 for group in self._sockets.values() for ws in group if not ws.closed)

    def connected(self, visitor: str) -> int:
        return sum(1 for ws in self._sockets.get(visitor, ()) if not ws.closed)

    # -- the socket ------------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        # aiohttp closes with 1009 past this hard limit; below it, a frame over the soft
        # limit gets an error frame and the socket stays open.
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=self._settings.max_frame_bytes * 4)
        await ws.prepare(request)
        address = request.remote or "unknown"
        visitor = await self._hello(ws, address)
        if visitor is None:
            await ws.close(code=4401, message=b"invalid token")
            return ws
        self._sockets[visitor].add(ws)
        bucket = Bucket(*SOCKET_RATE)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        await _error(ws, "bad_frame", "frames must be JSON text")
                    continue
                try:
                    if len(msg.data.encode()) > self._settings.max_frame_bytes:
                        raise FrameError(
                            "too_large",
                            f"frames are limited to {self._settings.max_frame_bytes} bytes",
                        )
                    if not self._allowed(bucket, visitor, address):
                        raise FrameError("rate_limited", "too many messages; slow down")
                    await self._frame(ws, visitor, _parse(msg.data))
                except FrameError as exc:
                    await _error(ws, exc.code, exc.message, exc.client_id)
        finally:
            self._sockets[visitor].discard(ws)
            if not self._sockets[visitor]:
                self._sockets.pop(visitor, None)
        return ws

    def _allowed(self, bucket: Bucket, visitor: str, address: str) -> bool:
        """Whether one more frame fits this socket's, visitor's and address's allowance
        (each is charged only when all of them have room)."""
        return take_all(bucket, self._by_visitor.bucket(visitor), self._by_address.bucket(address))

    async def _hello(self, ws: web.WebSocketResponse, address: str) -> str | None:
        try:
            msg = await ws.receive(timeout=HELLO_TIMEOUT)
        except TimeoutError:
            await _error(ws, "timeout", "send a hello frame first")
            return None
        if msg.type != WSMsgType.TEXT:
            return None
        try:
            frame = _parse(msg.data)
        except FrameError as exc:
            await _error(ws, exc.code, exc.message)
            return None
        if frame.get("type") != "hello":
            await _error(ws, "bad_frame", "the first frame must be a hello")
            return None
        token = frame.get("token")
        if token is None:
            if not self._new_by_address.take(address):
                await _error(ws, "rate_limited", "too many new conversations; try again later")
                return None
            visitor, token = self._tokens.issue()
        else:
            found = self._tokens.verify(token)
            if found is None:
                await _error(ws, "invalid_token", "this visitor token is not valid")
                return None
            # Renewed on every welcome: a returning visitor's token never runs out.
            visitor, token = found, self._tokens.sign(found)
        history = mark_answered(await self._history(visitor))
        await ws.send_json(
            {
                "type": "welcome",
                "token": token,
                "visitor": visitor,
                "title": self._settings.title,
                "look": look_of(self._settings),
                "history": history,
            }
        )
        return visitor

    async def _frame(self, ws: web.WebSocketResponse, visitor: str, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ping":
            await ws.send_json({"type": "pong"})
            return
        if kind not in ("message", "action"):
            raise FrameError("bad_frame", f"unknown frame type {kind!r}")
        client_id = frame.get("id")
        if not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID:
            raise FrameError("bad_frame", "'id' must be a string of 1 to 100 characters")
        if kind == "message":
            text = frame.get("text")
            if not isinstance(text, str) or not text.strip():
                raise FrameError("bad_frame", "'text' must be a non-empty string", client_id)
            if len(text) > self._settings.max_message_chars:
                raise FrameError(
                    "too_large",
                    f"messages are limited to {self._settings.max_message_chars} characters",
                    client_id,
                )
            action = None
        else:
            action = frame.get("payload")
            label = frame.get("label", "")
            if not isinstance(action, str) or not 0 < len(action) <= MAX_ACTION_CHARS:
                raise FrameError("bad_frame", "'payload' must be a short string", client_id)
            if not isinstance(label, str) or len(label) > MAX_ACTION_CHARS:
                raise FrameError("bad_frame", "'label' must be a short string", client_id)
            text = label or action
        raw: dict[str, Any] = {"client_id": client_id}
        # The message whose button it was (feedback belongs to that answer).
        message_id = frame.get("message_id") if kind == "action" else None
        if isinstance(message_id, int) and not isinstance(message_id, bool) and message_id > 0:
            raw["message_id"] = message_id
        inbound = InboundMessage(
            channel=NAME,
            sender_id=visitor,
            # Scoped by visitor, so one visitor's ids can never collide with another's.
            dedupe_key=f"{visitor}:{client_id}",
            text=text.strip(),
            action=action,
            raw=raw,
        )
        result = await self._on_message(inbound)
        await ws.send_json(
            {"type": "ack", "id": client_id, "duplicate": result == InboundResult.DUPLICATE}
        )
        if result == InboundResult.ACCEPTED:
            await self.push(visitor, {"type": "typing", "on": True})


def _per_minute(allowed: int) -> Buckets:
    return Buckets(allowed, allowed / 60)


def _parse(data: str) -> dict[str, Any]:
    try:
        frame = untrusted.loads(data)
    except untrusted.UntrustedInput as exc:
        raise FrameError("bad_frame", f"frames must be JSON objects ({exc.reason})") from None
    if not isinstance(frame, dict):
        raise FrameError("bad_frame", "frames must be JSON objects")
    return frame


async def _error(
    ws: web.WebSocketResponse, code: str, message: str, client_id: str | None = None
) -> None:
    frame = {"type": "error", "code": code, "message": message}
    if client_id is not None:
        frame["id"] = client_id
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_json(frame)


def look_of(settings: WebchatSettings) -> dict[str, str]:
    """The business's look and words, as the widget takes them from the welcome frame
    (it renders every one as text or checks it first; the script tag's attributes win)."""
    return {
        "title": settings.title,
        "color": settings.primary_color,
        "position": settings.position,
        "greeting": settings.greeting,
        "avatar": settings.avatar_url,
        "offline_text": settings.offline_text,
    }


def frame_of(message: OutboundMessage) -> dict[str, Any]:
    """An outbound message in the widget's message shape."""
    return {
        "id": message.message_id,
        "author": message.author,
        "author_name": message.author_name,
        "text": message.text,
        "buttons": [{"label": b.label, "payload": b.payload} for b in message.buttons],
        "citations": [{"slug": c.slug, "title": c.title, "url": c.url} for c in message.citations],
        "confidence": message.confidence,
        "created_at": message.created_at,
        "client_id": None,
    }
