"""Accessibility in headless Chromium: axe-core finds no violations in the web chat widget
(closed and open, with a conversation), the agent console and the KB pages, and a whole
conversation works with the keyboard alone.

axe-core is vendored under ``tests/e2e/vendor`` for these tests only; the app never serves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.widget_pages import axe_violations, business_site, new_page, report

if TYPE_CHECKING:
    from conftest import Server

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT_MS = 30_000
UI_TIMEOUT_MS = 10_000
# Nothing known: every rule must pass in the console too.
CONSOLE_KNOWN: dict[str, str] = {}


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
    # A visitor's conversation, so the list and the open conversation have content.
    visitor = await new_page(browser)
    await visitor.goto(server.url("/"))
    await expect(visitor.locator(".od-status")).to_have_attribute(
        "data-state", "online", timeout=UI_TIMEOUT_MS
    )
    await visitor.locator("textarea.od-input").fill("How do I reset my password?")
    await visitor.locator("textarea.od-input").press("Enter")
    await expect(visitor.locator(".od-msg.od-bot").last).to_be_visible(timeout=ANSWER_TIMEOUT_MS)

    page = await new_page(browser)
    await sign_in(page, server, server.agent)
    await page.locator(".oc-view-tab[data-view='all']").click()
    await page.locator(".oc-filter-state").select_option("any")
    row = page.locator(".oc-conv").first
    await expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    assert (found := await axe_violations(page, known=CONSOLE_KNOWN)) == [], report(found)
    await row.click()
    await expect(page.locator(".oc-messages .oc-msg").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    assert (found := await axe_violations(page, known=CONSOLE_KNOWN)) == [], report(found)


async def focused_class(page: Page) -> str:
    return str(await page.evaluate("() => document.activeElement?.className || ''"))


async def test_a_conversation_by_keyboard_alone(browser: Browser, server: Server) -> None:
    page = await new_page(browser)
    async with business_site(server) as site:
        await page.goto(site)
        await keyboard_conversation(page)


async def keyboard_conversation(page: Page) -> None:
    launcher = page.locator("#omnidesk-widget .od-launcher")
    await expect(launcher).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(launcher).to_have_attribute("aria-label", "Open chat")

    await page.keyboard.press("Tab")
    assert "od-launcher" in await focused_class(page)
    await page.keyboard.press("Enter")
    panel = page.locator("#omnidesk-widget .od-panel")
    await expect(panel).to_be_visible()
    await expect(launcher).to_have_attribute("aria-expanded", "true")
    # Focus moved into the widget, onto the message box.
    assert "od-input" in await focused_class(page)
    await expect(page.locator(".od-status")).to_have_attribute(
        "data-state", "online", timeout=UI_TIMEOUT_MS
    )

    await page.keyboard.type("How do I reset my password?")
    await page.keyboard.press("Enter")
    # The answer lands in the polite log, which screen readers announce.
    log = page.locator("#omnidesk-widget [role='log'][aria-live='polite']")
    await expect(log.locator(".od-msg.od-contact[data-id]")).to_have_count(1)
    answer = log.locator(".od-msg.od-bot[data-id]")
    await expect(answer.first).to_contain_text("password", timeout=ANSWER_TIMEOUT_MS)
    assert await log.get_attribute("aria-busy") is None

    await page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()
    await expect(launcher).to_have_attribute("aria-expanded", "false")
    assert "od-launcher" in await focused_class(page)


async def test_reduced_motion_stops_the_animations(browser: Browser, server: Server) -> None:
    page = await new_page(browser, reduced_motion="reduce")
    async with business_site(server) as site:
        await page.goto(site)
        await page.locator("#omnidesk-widget .od-launcher").click()
        panel = page.locator("#omnidesk-widget .od-panel")
        await expect(panel).to_be_visible()
        assert await panel.evaluate("(el) => getComputedStyle(el).animationName") == "none"


async def test_touch_targets_are_at_least_44_px(browser: Browser, server: Server) -> None:
    # Without motion: the panel's opening scale would shrink what is measured.
    page = await new_page(browser, reduced_motion="reduce")
    async with business_site(server) as site:
        await page.goto(site)
        await page.locator("#omnidesk-widget .od-launcher").click()
        for selector in (".od-launcher", ".od-close", ".od-send", ".od-input"):
            box = await page.locator(f"#omnidesk-widget {selector}").bounding_box()
            assert box and box["width"] >= 44 and box["height"] >= 44, (selector, box)


async def test_on_a_phone_the_panel_follows_the_visual_viewport(
    browser: Browser, server: Server
) -> None:
    context = await browser.new_context(
        viewport={"width": 390, "height": 640},
        is_mobile=True,
        has_touch=True,
        reduced_motion="reduce",  # measured without the opening animation
    )
    page = await context.new_page()
    async with business_site(server) as site:
        await page.goto(site)
        await page.locator("#omnidesk-widget .od-launcher").click()
        panel = page.locator("#omnidesk-widget .od-panel")
        await expect(panel).to_be_visible()
        await measure_against_the_viewport(page)
        # A keyboard coming up shrinks the viewport; the panel follows, the input stays.
        await page.set_viewport_size({"width": 390, "height": 360})
        await page.wait_for_timeout(200)
        await measure_against_the_viewport(page)


async def measure_against_the_viewport(page: Page) -> None:
    """The widget sizes the panel to the visual viewport (what the keyboard shrinks)."""
    sizes = await page.evaluate(
        """() => {
                const panel = document.querySelector("#omnidesk-widget .od-panel");
                const input = document.querySelector("#omnidesk-widget .od-input");
                return {
                    viewport: visualViewport.height,
                    panel: panel.getBoundingClientRect().height,
                    inputBottom: input.getBoundingClientRect().bottom,
                    set: getComputedStyle(panel).height,
                };
            }"""
    )
    assert abs(sizes["panel"] - sizes["viewport"]) < 1, sizes
    assert sizes["inputBottom"] <= sizes["viewport"], sizes
