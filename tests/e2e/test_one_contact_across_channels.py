"""One person writes on email, then Slack, then Telegram, against the real service and
local peers that speak each platform's protocol: the email address joins email and
Slack on its own, an agent links Telegram, and the contact has one timeline with all
three conversations."""

from __future__ import annotations

import asyncio
import copy
import json
import smtplib
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from tests.channels.email.peers import SmtpPeer
from tests.channels.slack.fakeslack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    fixture,
    signed_headers,
)
from tests.channels.telegram.fakeapi import TOKEN as TELEGRAM_TOKEN
from tests.channels.telegram.fakeapi import FakeTelegram
from tests.e2e.conftest import ADMIN, _free_port, api_token, running_service

pytestmark = pytest.mark.e2e

T = TypeVar("T")
SUPPORT = "support@lumen.example"
TELEGRAM_SECRET = "e2e-telegram-secret"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Peers:
    """The platforms' stand-ins, on their own event loop in a thread, so they answer
    while the test waits on the service synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.smtp = SmtpPeer()
        self.slack = FakeSlack()
        self.telegram = FakeTelegram()
        self.runners: list[web.AppRunner] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    async def _serve(self, app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self.run(self.smtp.start())
        self.slack.base_url = self.run(self._serve(self.slack.app())) + "/api/"
        self.telegram.base = self.run(self._serve(self.telegram.app()))

    def stop(self) -> None:
        async def close() -> None:
            await self.smtp.stop()
            for runner in self.runners:
                await runner.cleanup()

        self.run(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def peers() -> Iterator[Peers]:
    p = Peers()
    p.start()
    yield p
    p.stop()


def api(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """The agent API as a script calls it: with a personal API token of the admin."""
    if base not in TOKENS:
        TOKENS[base] = api_token(base, ADMIN)
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {TOKENS[base]}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


TOKENS: dict[str, str] = {}


def mine(conversations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This test's conversations: on PostgreSQL the session's web chat ones share the
    database."""
    return [c for c in conversations if c["channel"] != "webchat"]


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def wait_until(check: Callable[[], T], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def test_same_person_on_three_channels_has_one_timeline(peers: Peers, tmp_path: Path) -> None:
    smtp_port = _free_port()
    env = {
        "OMNIDESK_EMAIL__ADDRESS": SUPPORT,
        "OMNIDESK_EMAIL__INBOUND_SMTP_PORT": str(smtp_port),
        "OMNIDESK_EMAIL__SMTP_HOST": "127.0.0.1",
        "OMNIDESK_EMAIL__SMTP_PORT": str(peers.smtp.port),
        "OMNIDESK_EMAIL__SMTP_STARTTLS": "false",
        "OMNIDESK_SLACK__BOT_TOKEN": BOT_TOKEN,
        "OMNIDESK_SLACK__SIGNING_SECRET": SIGNING_SECRET,
        "OMNIDESK_SLACK__API_BASE_URL": peers.slack.base_url,
        "OMNIDESK_TELEGRAM__BOT_TOKEN": TELEGRAM_TOKEN,
        "OMNIDESK_TELEGRAM__WEBHOOK_SECRET": TELEGRAM_SECRET,
        "OMNIDESK_TELEGRAM__API_BASE_URL": peers.telegram.api_base_url,
        "OMNIDESK_TELEGRAM__FILE_BASE_URL": peers.telegram.file_base_url,
    }
    with running_service(tmp_path, env) as base:
        # 1. Email, through the service's own SMTP server.
        mail = EmailMessage()
        mail["From"] = "Alice Doe <alice@example.com>"
        mail["To"] = SUPPORT
        mail["Subject"] = "Password"
        mail["Message-ID"] = "<first@mail.example.com>"
        mail.set_content("How do I reset my password?")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.send_message(mail)
        [answer] = peers.run(peers.smtp.wait_for(1))
        assert answer.rcpt_tos == ["alice@example.com"]
        assert "In-Reply-To: <first@mail.example.com>" in answer.message.as_string()

        # 2. Slack: users.info gives the same email, so it is the same contact.
        event = fixture("message_im", event_id="Ev0E2E0000001")
        body = json.dumps(event).encode()
        assert post(base + "/slack/events", body, signed_headers(body)) == 200
        wait_until(lambda: peers.slack.posts())
        assert peers.slack.posts()[0]["thread_ts"] == event["event"]["ts"]

        # 3. Telegram, as another identity until an agent links it.
        update = copy.deepcopy(
            json.loads((FIXTURES / "telegram" / "text_message.json").read_text())
        )
        update["message"]["text"] = "where is my parcel?"
        status = post(
            base + "/telegram/webhook",
            json.dumps(update).encode(),
            {
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
            },
        )
        assert status == 200
        wait_until(lambda: peers.telegram.to("sendMessage"))

        conversations = mine(api(base, "/api/v1/conversations?state=all")["conversations"])
        by_channel = {c["channel"]: c for c in conversations}
        assert set(by_channel) == {"email", "slack", "telegram"}
        alice = by_channel["email"]["contact"]["id"]
        assert by_channel["slack"]["contact"]["id"] == alice
        other = by_channel["telegram"]["contact"]["id"]
        assert other != alice

        merged = api(base, f"/api/v1/contacts/{alice}/merge", {"contact_id": other})
        timeline = merged["events"]
        started = [e for e in timeline if e["kind"] == "conversation_started"]
        assert sorted(e["data"]["channel"] for e in started) == ["email", "slack", "telegram"]
        messages = [e for e in timeline if e["kind"] == "message"]
        assert {e["data"]["channel"] for e in messages} == {"email", "slack", "telegram"}
        assert any(e["kind"] == "contacts_merged" for e in timeline)
        conversations = mine(api(base, "/api/v1/conversations?state=all")["conversations"])
        assert {c["contact"]["id"] for c in conversations} == {alice}
