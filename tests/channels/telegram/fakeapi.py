"""A local server speaking the Bot API subset the adapter uses (getMe, setWebhook,
deleteWebhook, getUpdates, sendMessage, answerCallbackQuery, getFile and file download).

It records every call, keeps an update queue for long polling, refuses getUpdates while
a webhook is set (as Telegram does), and can be told to fail a method with a status,
description and ``parameters.retry_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "7000000001:AAH-test-token_for-omnidesk"
BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Lumen Support",
    "username": "LumenSupportBot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Parameters PTB sends JSON-encoded inside the form body.
JSON_PARAMS = {"reply_markup", "reply_parameters", "allowed_updates", "link_preview_options"}
INT_PARAMS = {"chat_id", "offset", "limit", "timeout"}
# How long getUpdates holds a long poll here, whatever timeout was asked for.
POLL_HOLD_SECONDS = 0.3


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None


@dataclass
class RemoteFile:
    file_id: str
    file_unique_id: str
    content: bytes
    path: str
    declare_size: bool = True


@dataclass
class FakeTelegram:
    base: str = ""
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, RemoteFile] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)
    webhook_url: str | None = None
    failures: dict[str, list[Failure]] = field(default_factory=lambda: defaultdict(list))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    # -- test controls ---------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        return app

    @property
    def api_base_url(self) -> str:
        return f"{self.base}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.base}/file/bot"

    def fail(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        self.failures[method].extend(
            Failure(status, description, retry_after) for _ in range(times)
        )

    def push(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._arrived.set()

    def add_file(
        self, file_id: str, unique_id: str, content: bytes, *, declare_size: bool = True
    ) -> None:
        self.files[file_id] = RemoteFile(
            file_id, unique_id, content, f"documents/file_{len(self.files)}.bin", declare_size
        )

    def to(self, method: str, *, ok_only: bool = True) -> list[dict[str, Any]]:
        return [
            c.params for c in self.calls if c.method == method and (c.status == 200 or not ok_only)
        ]

    def attempts(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # -- the API ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        pending = self.failures.get(method)
        if pending:
            failure = pending.pop(0)
            self.calls.append(Call(method, params, failure.status))
            extra = {"retry_after": failure.retry_after} if failure.retry_after else None
            return _error(failure.status, failure.description, extra)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        response: web.Response = await handler(params)
        self.calls.append(Call(method, params, response.status))
        return response

    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        return _ok(BOT_USER)

    async def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook_url = params.get("url") or None
        return _ok(True)

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook_url = None
        return _ok(True)

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = params.get("offset")
        if offset:
            # Telegram forgets every update below the offset it was asked for.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and params.get("timeout"):
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), POLL_HOLD_SECONDS)
        return _ok(self.updates[: params.get("limit") or 100])

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        chat_id = params["chat_id"]
        message = {
            "message_id": next(self._message_ids),
            "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": {"id": chat_id, "type": "private", "first_name": "Mira"},
            "date": int(time.time()),
            "text": params["text"],
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return _ok(message)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _m_getFile(self, params: dict[str, Any]) -> web.Response:
        remote = self.files.get(params.get("file_id", ""))
        if remote is None:
            return _error(400, "Bad Request: invalid file_id")
        result: dict[str, Any] = {
            "file_id": remote.file_id,
            "file_unique_id": remote.file_unique_id,
            "file_path": remote.path,
        }
        if remote.declare_size:
            result["file_size"] = len(remote.content)
        return _ok(result)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        self.downloads.append(path)
        for remote in self.files.values():
            if remote.path == path:
                # Streamed without a length, so only a bounded read protects the reader.
                response = web.StreamResponse()
                response.enable_chunked_encoding()
                await response.prepare(request)
                for start in range(0, len(remote.content), 1024):
                    await response.write(remote.content[start : start + 1024])
                await response.write_eof()
                return response
        return _error(404, "Not Found")


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data) if isinstance(data, dict) else {}
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if not isinstance(value, str):
            continue
        if key in JSON_PARAMS:
            params[key] = json.loads(value)
        elif key in INT_PARAMS:
            params[key] = int(value)
        else:
            params[key] = value
    params.update({k: v for k, v in request.query.items() if k not in params})
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
