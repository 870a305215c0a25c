"""Data rights in the console, end to end in headless Chromium: an admin exports a
visitor's data from the contact panel (a zip with their words) and erases them after
typing the contact's number; afterwards the API and search hold none of their words.
An agent sees neither button."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, Dialog, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_console_work import open_conversation
from tests.e2e.test_webchat_console import (
    UI_TIMEOUT_MS,
    api,
    escalate,
    find_conversation,
    open_chat,
    open_console,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


async def test_admin_exports_and_erases_a_contact_from_the_panel(
    server: Server, browser: Browser
) -> None:
    widget = await open_chat(browser, server)
    marker = uuid.uuid4().hex[:8]
    await escalate(widget, f"please forget me, my code is zq{marker}")
    conversation = await find_conversation(widget, server, marker)
    contact_id = conversation["contact"]["id"]

    agent = await open_console(browser, server, "Kim")
    await open_conversation(agent, conversation["id"])
    await expect(agent.locator(".oc-contact-panel .oc-earlier-item")).to_have_count(
        1, timeout=UI_TIMEOUT_MS
    )
    await expect(agent.locator(".oc-erase-contact")).to_have_count(0)

    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    console = await context.new_page()
    await sign_in(console, server, server.admin)
    await open_conversation(console, conversation["id"])
    panel = console.locator(".oc-contact-panel")
    async with console.expect_download() as waiting:
        await panel.locator(".oc-export-contact").click()
    download = await waiting.value
    assert download.suggested_filename == f"contact-{contact_id}.zip"
    body = await asyncio.to_thread(Path(await download.path()).read_bytes)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["contact"]["id"] == contact_id
    texts = [m["text"] for c in data["conversations"] for m in c["messages"]]
    assert any(f"zq{marker}" in t for t in texts)

    asked: list[str] = []

    async def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept(str(contact_id))

    console.on("dialog", answer)
    await panel.locator(".oc-erase-contact").click()
    await expect(panel.locator(".oc-erased")).to_be_visible(timeout=UI_TIMEOUT_MS)
    assert asked and f"Type {contact_id} to confirm" in asked[0]
    await expect(console.locator(".oc-messages")).not_to_contain_text(
        f"zq{marker}", timeout=UI_TIMEOUT_MS
    )

    detail = await api(widget, server, "GET", f"/conversations/{conversation['id']}")
    assert not any(marker in (m.get("text") or "") for m in detail["messages"])
    found = await api(widget, server, "GET", f"/search?q=zq{marker}")
    assert found == {"messages": [], "contacts": []}
    await context.close()
