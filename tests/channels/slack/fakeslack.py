"""A local Slack: the Web API methods the adapter and bolt call (``auth.test``,
``users.info``, ``chat.postMessage``, ``conversations.replies``,
``apps.connections.open``) and a Socket Mode WebSocket, on loopback. It records every
call and can be told to answer a method with a rate limit, a server error or
``ok: false``. Requests to it are what the SDK sends; its answers are shaped like
Slack's documented responses."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import inspect
import itertools
import json
import time
import urllib.parse
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"

BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
APP_TOKEN = "xapp-1-A0OMNIDESK-1234567890123-0123456789abcdef"
SIGNING_SECRET = "8f742231b10e8888abc7d4a8dee1ee4d"
TEAM_ID = "T0LUMEN01"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
ALICE = "U0ALICE01"
BOB = "U0BOB0001"


def fixture(name: str, **event: Any) -> dict[str, Any]:
    """A captured payload from ``tests/fixtures/slack``; keyword arguments replace keys of
    its ``event`` (``event_id`` replaces the envelope's). A new ``text`` drops the
    rich-text blocks, which would still say the old one."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    if "event_id" in event:
        data["event_id"] = event.pop("event_id")
    if "text" in event:
        data["event"].pop("blocks", None)
    if event:
        data["event"].update(event)
    return data


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature, written out here rather than imported from the code under
    test, so a mistake there cannot hide in both."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(secret, ts, body)}


def interactivity_body(payload: dict[str, Any]) -> bytes:
    """How Slack posts an interaction: a form with one ``payload`` field of JSON."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


async def eventually(
    probe: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05
) -> Any:
    """Poll ``probe`` (plain or async) until it returns something truthy, for at most
    ``timeout`` seconds, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float
    answer: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    # Do the work (a post is stored) and then answer as scripted: the answer got lost.
    acts: bool = False


def _user(uid: str, name: str, real_name: str, email: str | None) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "real_name": real_name,
        "display_name": name,
        "real_name_normalized": real_name,
        "display_name_normalized": name,
        "team": TEAM_ID,
    }
    if email:
        profile["email"] = email
    return {
        "id": uid,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "tz": "Europe/Amsterdam",
        "is_admin": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": 1690000000,
        "profile": profile,
    }


class FakeSlack:
    """The peer. ``base_url`` is set once its server runs."""

    def __init__(self) -> None:
        self.base_url = ""
        # Who the app's bot is (auth.test): a captured payload names its own bot.
        self.bot_user_id = BOT_USER_ID
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {
            ALICE: _user(ALICE, "alice", "Alice Doe", "Alice@Example.com"),
            BOB: _user(BOB, "bob", "Bob Stone", None),
        }
        # (channel, thread ts) -> messages, as conversations.replies returns them.
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        # channel -> top-level messages, newest first, as conversations.history returns them.
        self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_frames: list[dict[str, Any]] = []
        self._script: dict[str, deque[Scripted]] = defaultdict(deque)
        self._ts = itertools.count(1)

    # -- control ---------------------------------------------------------------------------

    def script(
        self,
        method: str,
        *,
        status: int = 200,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        acts: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` this way instead (``acts``: after
        doing what the call asked, as when Slack posts but the answer never arrives)."""
        for _ in range(times):
            self._script[method].append(
                Scripted(status, body if body is not None else {"ok": False}, headers or {}, acts)
            )

    def add_user(self, uid: str, real_name: str, email: str | None = None) -> None:
        """A person ``users.info`` knows, as Slack describes one."""
        self.users[uid] = _user(uid, real_name.split()[0].lower(), real_name, email)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(self) -> list[dict[str, Any]]:
        """Arguments of every chat.postMessage Slack accepted."""
        return [
            c.args for c in self.calls_to("chat.postMessage") if c.status == 200 and c.answer["ok"]
        ]

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the connected app."""
        await self.sockets[-1].send_json(envelope)

    # -- the server ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._socket)
        return app

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(await request.post())
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        call = Call(method, copy.deepcopy(args), token, time.monotonic())
        self.calls.append(call)
        if self._script[method]:
            scripted = self._script[method].popleft()
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if scripted.acts and handler is not None:
                handler(request, args)
            call.status, call.answer = scripted.status, scripted.body
            return web.json_response(
                scripted.body, status=scripted.status, headers=scripted.headers
            )
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            call.answer = {"ok": False, "error": "invalid_auth"}
        else:
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            unknown = {"ok": False, "error": "unknown_method"}
            call.answer = handler(request, args) if handler else unknown
        return web.json_response(call.answer)

    def _auth_test(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://lumen.slack.com/",
            "team": "Lumen",
            "user": "lumen_support",
            "team_id": TEAM_ID,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_info(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _chat_postMessage(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = f"{1800000000 + next(self._ts)}.000100"
        message = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": ts,
            "bot_id": BOT_ID,
            "app_id": "A0OMNIDESK",
            "text": args.get("text", ""),
            "team": TEAM_ID,
            "blocks": args.get("blocks", []),
        }
        metadata = args.get("metadata")
        if isinstance(metadata, str):  # form-encoded calls send it as JSON text
            metadata = json.loads(metadata)
        if metadata:
            message["metadata"] = metadata
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
            self.threads[(channel, str(args["thread_ts"]))].append(message)
        else:
            self.history[channel].insert(0, message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_replies(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        messages = self.threads.get((str(args.get("channel")), str(args.get("ts"))), [])
        return {"ok": True, "messages": messages, "has_more": False}

    def _conversations_history(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        messages = self.history.get(str(args.get("channel")), [])
        return {"ok": True, "messages": messages[: int(args.get("limit") or 100)]}

    def _apps_connections_open(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://{request.host}/link/?ticket=a1b2c3d4"}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-local", "approximate_connection_time": 18060},
                "connection_info": {"app_id": "A0OMNIDESK"},
            }
        )
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.socket_frames.append(json.loads(msg.data))
        return ws
