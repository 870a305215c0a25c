"""An admin adds a webhook in the console, end to end in headless Chromium against the real
service, with a receiver this test runs on loopback that checks every request's
signature: the secret is shown once, a test ping arrives signed and is marked sent; an
answer of 410 marks the next one failed with its status, and "Retry" sends it again."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from tests.e2e.test_admin_console import admin_api
from tests.e2e.test_admin_people import admin_console
from tests.e2e.test_webchat_console import UI_TIMEOUT_MS

if TYPE_CHECKING:
    from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e
# The dispatcher sends at once; the console looks again every 1.5 s while one waits.
SENT_TIMEOUT_MS = 20_000


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""
    statuses: list[int] = field(default_factory=list)
    got: list[dict[str, Any]] = field(default_factory=list)
    badly_signed: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers.get("X-Omnidesk-Timestamp", "")
        mac = hmac.new(self.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        if not hmac.compare_digest(
            f"v1={mac.hexdigest()}", request.headers.get("X-Omnidesk-Signature", "")
        ):
            self.badly_signed += 1
            return web.Response(status=401)
        self.got.append(json.loads(body))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/omnidesk", hook.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hook.url = str(server.make_url(f"/omnidesk?run={uuid.uuid4().hex[:8]}"))
    yield hook
    await server.close()


async def test_admin_adds_a_webhook_and_sees_its_deliveries(
    server: Server, browser: Browser, receiver: Receiver, shots_dir: Path
) -> None:
    page = await admin_console(browser, server, "webhooks")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    section = page.locator(".oc-admin[data-view='webhooks']")

    await section.get_by_role("button", name="Add webhook").click()
    form = section.locator(".oc-webhook-form")
    await form.get_by_label("URL").fill("ftp://nowhere.example/")
    await form.get_by_label("Handed to a person").check()
    await form.locator(".oc-webhook-save").click()
    await expect(form.locator(".oc-form-error")).to_contain_text("http or https")
    await form.get_by_label("URL").fill(receiver.url)
    await form.get_by_label("Description").fill("CRM sync")
    await form.get_by_label("Resolved").check()
    await form.locator(".oc-webhook-save").click()
    await expect(form).to_be_hidden(timeout=UI_TIMEOUT_MS)

    secret_box = section.locator(".oc-webhook-secret")
    await expect(secret_box).to_have_value(re.compile(r"^whsec_[\w-]{40,}$"))
    receiver.secret = await secret_box.input_value()
    row = section.locator(".oc-webhook-row").filter(has_text=receiver.url)
    await expect(row).to_contain_text("Handed to a person, Resolved")
    await expect(row).to_contain_text(f"secret ••••{receiver.secret[-4:]}")
    listed = await admin_api(page, server, "GET", "/admin/webhooks")
    mine = next(w for w in listed["webhooks"] if w["url"] == receiver.url)
    assert mine["events"] == ["conversation.handed_off", "conversation.resolved"]
    assert receiver.secret not in json.dumps(listed)  # shown once, masked after

    await row.get_by_role("button", name="Send test").click()
    deliveries = section.locator(".oc-delivery-row[data-event='ping']")
    await expect(deliveries.first).to_have_attribute("data-state", "sent", timeout=SENT_TIMEOUT_MS)
    await expect(deliveries.first.locator(".oc-delivery-answer")).to_have_text("HTTP 200")
    assert receiver.badly_signed == 0
    assert [g["event"] for g in receiver.got] == ["ping"]
    assert receiver.got[0]["data"] == {"webhook_id": mine["id"]}
    await page.screenshot(path=str(shots_dir / "console-admin-webhooks.png"))

    # The endpoint says it is gone: failed for good, with its status; Retry sends again.
    receiver.statuses = [410]
    await row.get_by_role("button", name="Send test").click()
    await expect(deliveries).to_have_count(2)
    newest = deliveries.first
    await expect(newest).to_have_attribute("data-state", "failed", timeout=SENT_TIMEOUT_MS)
    await expect(newest.locator(".oc-delivery-answer")).to_contain_text("HTTP 410")
    await newest.get_by_role("button", name="Retry").click()
    await expect(newest).to_have_attribute("data-state", "sent", timeout=SENT_TIMEOUT_MS)
    assert len(receiver.got) == 3 and receiver.got[1]["id"] == receiver.got[2]["id"]
    assert receiver.badly_signed == 0
    assert errors == []
