"""Telegram fixtures: a local Bot API server, settings pointing PTB at it, the real app,
and helpers to load captured-shape updates and to wait (boundedly) for effects."""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from omnidesk.bot.app import create_app
from omnidesk.config import Settings, TelegramSettings
from tests.channels.telegram.fakeapi import TOKEN, FakeTelegram

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
SECRET = "wh-secret_7d1c0b9e"
WEBHOOK = "/telegram/webhook"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHAT_ID = 5123456789


def load(name: str) -> dict[str, Any]:
    """A captured-shape update from ``tests/fixtures/telegram``."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return copy.deepcopy(data)


def variant(
    name: str,
    update_id: int,
    *,
    message_id: int | None = None,
    text: str | None = None,
    chat_id: int | None = None,
) -> dict[str, Any]:
    """A fixture with its ids (and text) changed, so tests do not collide."""
    update = load(name)
    update["update_id"] = update_id
    body = update.get("message") or update.get("edited_message")
    if body is not None:
        if message_id is not None:
            body["message_id"] = message_id
        if text is not None:
            body["text"] = text
            body.pop("entities", None)
        if chat_id is not None:
            body["chat"]["id"] = body["from"]["id"] = chat_id
    return update


async def wait_until(
    predicate: Callable[[], object], timeout: float = 20.0, what: str = ""
) -> None:
    """Poll ``predicate`` (plain or async, any truthy result) until it holds; fail after
    ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def tg(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> FakeTelegram:
    api = FakeTelegram()
    server = await aiohttp_server(api.app())
    api.base = str(server.make_url("")).rstrip("/")
    return api


def telegram_settings(tg: FakeTelegram, **changes: Any) -> TelegramSettings:
    values: dict[str, Any] = {
        "bot_token": SecretStr(TOKEN),
        "mode": "webhook",
        "webhook_secret": SecretStr(SECRET),
        "webhook_url": "https://support.example.com/telegram/webhook",
        "api_base_url": tg.api_base_url,
        "file_base_url": tg.file_base_url,
    }
    values.update(changes)
    return TelegramSettings(**values)


@pytest.fixture
def tg_settings(settings: Settings, tg: FakeTelegram) -> Settings:
    settings.telegram = telegram_settings(tg, max_file_bytes=20_000)
    return settings


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    tg_settings: Settings,
    db: object,
) -> AsyncIterator[TestClient[Any, Any]]:
    yield await aiohttp_client(create_app(tg_settings))


@pytest.fixture
async def polling_client(
    tg: FakeTelegram, aiohttp_client: Callable[..., Any], settings: Settings, db: object
) -> TestClient[Any, Any]:
    """The real app in long-polling mode against the local Bot API server."""
    # Asking for ``tg`` first keeps the fake API up until the app has stopped polling.
    tg.webhook_url = "https://old.example.com/hook"  # left over: getUpdates would be refused
    settings.telegram = telegram_settings(tg, mode="polling", webhook_secret=None)
    assert settings.telegram.enabled
    polling: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    return polling


def fixture(path: str) -> dict[str, Any]:
    """A corpus update by its path under ``tests/fixtures/telegram``."""
    data: dict[str, Any] = json.loads((FIXTURES / path).read_text(encoding="utf-8"))
    return data


async def post_update(
    client: TestClient[Any, Any], update: dict[str, Any], secret: str | None = SECRET
) -> int:
    headers = {HEADER: secret} if secret is not None else {}
    resp = await client.post(WEBHOOK, json=update, headers=headers)
    return resp.status
