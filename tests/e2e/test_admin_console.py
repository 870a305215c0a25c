"""The admin side of the console, end to end in headless Chromium against the real service:
an admin edits an article and the widget's next answer quotes the new text; unanswered
questions show up as gaps and become a draft in one click; the evaluation runs from
the console; an agent sees none of it.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_webchat_console import ANSWER_TIMEOUT_MS, UI_TIMEOUT_MS, after, open_chat, say

if TYPE_CHECKING:
    from tests.e2e.conftest import Account, Server

pytestmark = pytest.mark.e2e

EVAL_TIMEOUT_MS = 90_000


async def open_console(browser: Browser, server: Server, account: Account) -> Page:
    """A fresh browser that signs in on /signin and lands on the console."""
    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    await sign_in(page, server, account)
    return page


async def admin_api(page: Page, server: Server, method: str, path: str, body: Any = None) -> Any:
    response = await page.request.fetch(
        server.url(f"/api/v1{path}"),
        method=method,
        headers=server.bearer(server.admin),
        data=body,
    )
    assert response.ok, f"{method} {path}: {response.status} {await response.text()}"
    return await response.json()


async def test_admin_edit_changes_the_next_answer(
    server: Server, browser: Browser, shots_dir: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    console = await open_console(browser, server, server.admin)
    errors: list[str] = []
    console.on("pageerror", lambda error: errors.append(str(error)))
    await expect(console.locator(".oc-nav")).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(console.locator(".oc-agent-name")).to_have_value(server.admin.name)
    await console.locator(".oc-nav-btn[data-view='articles']").click()

    row = console.locator(".oc-article-row[data-slug='reset-password']")
    await expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    await row.click()
    await expect(console.locator(".oc-in-title")).to_have_value("How to reset your password")
    original = await admin_api(console, server, "GET", "/articles/reset-password")
    try:
        body = console.locator("textarea.oc-in-body")
        await body.fill(
            "To reset your password, open the Lumen app, tap **Forgot password?** on the sign-in "
            f"screen and follow the link we email you. Your reset reference is {marker}.\n"
        )
        # The live preview comes from the server's renderer, a moment after typing stops.
        preview = console.locator(".oc-preview")
        await expect(preview).to_contain_text(marker)
        await expect(preview.locator("strong")).to_have_text(["Forgot password?"])
        await console.locator(".oc-save").click()

        latest = console.locator(".oc-history-item").first
        await expect(latest).to_contain_text(server.admin.name, timeout=UI_TIMEOUT_MS)
        await expect(latest).to_contain_text("body")
        await expect(console.locator(".oc-editor-meta")).to_contain_text(
            str(original["article"]["version"] + 1)
        )
        await console.screenshot(path=str(shots_dir / "console-articles.png"))

        widget = await open_chat(browser, server)
        asked = await say(widget, "how do I reset my password?")
        answer = after(asked, "od-bot").first
        await expect(answer).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        await expect(answer.locator(".od-text")).to_contain_text(marker)
        await expect(answer.locator(".od-text")).to_contain_text("Forgot password?")
    finally:
        # Other tests of the session ask about passwords too: put the article back.
        await admin_api(
            console,
            server,
            "PATCH",
            "/articles/reset-password",
            {"body": original["article"]["body"], "by": "e2e"},
        )
    assert errors == []


async def test_gaps_become_a_draft_and_the_evaluation_runs(
    server: Server, browser: Browser, shots_dir: Path
) -> None:
    marker = uuid.uuid4().hex[:6]
    question = f"how do I descale the kettle model {marker}"
    widget = await open_chat(browser, server)
    asked = await say(widget, question)
    await expect(after(asked, "od-bot").first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)

    console = await open_console(browser, server, server.admin)
    await console.locator(".oc-nav-btn[data-view='gaps']").click()
    topic = console.locator(".oc-gap").filter(has_text=marker)
    await expect(topic).to_have_count(1, timeout=UI_TIMEOUT_MS)
    await expect(topic.locator(".oc-gap-examples li")).to_contain_text([question])
    await console.screenshot(path=str(shots_dir / "console-gaps.png"))

    await topic.locator(".oc-draft").click()
    await expect(console.locator(".oc-articles")).to_be_visible()
    await expect(console.locator(".oc-in-title")).to_have_value(re.compile(marker))
    await expect(console.locator(".oc-in-status")).to_have_value("draft")
    await expect(console.locator("textarea.oc-in-body")).to_have_value(re.compile(marker))
    await expect(console.locator(".oc-preview h2")).to_have_text("Questions customers asked")
    slug = await console.locator(".oc-in-slug").input_value()
    await expect(console.locator(f".oc-article-row[data-slug='{slug}']")).to_be_visible()

    await console.locator(".oc-evaluate").click()
    metrics = console.locator(".oc-eval-metrics")
    await expect(metrics.locator("dd")).to_have_count(3, timeout=EVAL_TIMEOUT_MS)
    for value in await metrics.locator("dd").all_text_contents():
        assert 0.85 <= float(value) <= 1.0, value
    await expect(console.locator(".oc-eval-calibration")).to_contain_text("of those right")
    await console.screenshot(path=str(shots_dir / "console-eval.png"))
    await admin_api(console, server, "DELETE", f"/articles/{slug}")


async def test_agent_sees_no_admin_views(server: Server, browser: Browser) -> None:
    console = await open_console(browser, server, server.agent)
    await expect(console.locator(".oc-view-tab[data-view='unassigned']")).to_have_attribute(
        "aria-selected", "true", timeout=UI_TIMEOUT_MS
    )
    await expect(console.locator(".oc-nav")).to_be_hidden()
    await expect(console.locator(".oc-articles")).to_be_hidden()
    response = await console.request.fetch(
        server.url("/api/v1/articles/reset-password"),
        method="PATCH",
        headers=server.bearer(server.agent),
        data={"title": "Hijacked"},
    )
    assert response.status == 403
