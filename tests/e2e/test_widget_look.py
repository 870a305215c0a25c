"""The business's look and words in headless Chromium: a service configured through the
environment shows its name, colour, greeting and position; a script tag's data-
attributes win; a light colour gets dark text and still passes axe; and Helpful / Not
helpful buttons once pressed stay shown as used after a reload."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import Server, running_service
from tests.e2e.widget_pages import axe_violations, business_site, new_page, report

if TYPE_CHECKING:
    from conftest import Server as SessionServer

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT_MS = 30_000
UI_TIMEOUT_MS = 10_000
HELPFUL = re.compile(r"^\s*Helpful\s*$")
# Angle brackets and quotes: the name and greeting must show as text, never as markup.
TITLE = 'Acme <b>Help</b> & "Care"'
GREETING = "Hello! <img src=x onerror=alert(1)> Ask us about your order."
LOOK = {
    "OMNIDESK_WEBCHAT__TITLE": TITLE,
    "OMNIDESK_WEBCHAT__PRIMARY_COLOR": "#0A7D32",
    "OMNIDESK_WEBCHAT__POSITION": "left",
    "OMNIDESK_WEBCHAT__GREETING": GREETING,
    "OMNIDESK_WEBCHAT__OFFLINE_TEXT": "Back soon.",
}


@pytest.fixture(scope="module")
def branded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A service of its own, with the business's look in its environment."""
    with running_service(tmp_path_factory.mktemp("omnidesk-look"), LOOK) as base_url:
        yield Server(base_url)


async def open_widget(page: Page) -> None:
    await page.locator("#omnidesk-widget .od-launcher").click()
    await expect(page.locator(".od-status")).to_have_attribute(
        "data-state", "online", timeout=UI_TIMEOUT_MS
    )


async def test_configured_name_colour_greeting_and_position(
    browser: Browser, branded: Server
) -> None:
    page = await new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    async with business_site(branded) as site:
        await page.goto(site)
        await open_widget(page)
        widget = page.locator("#omnidesk-widget")
        await expect(widget.locator(".od-title")).to_have_text(TITLE)
        await expect(widget.locator(".od-greeting")).to_have_text(GREETING)
        assert await widget.locator(".od-greeting img, .od-title b").count() == 0
        header = widget.locator(".od-header")
        await expect(header).to_have_css("background-color", "rgb(10, 125, 50)")
        await expect(header).to_have_css("color", "rgb(255, 255, 255)")
        await expect(widget).to_have_attribute("data-position", "left")
        box = await widget.locator(".od-launcher").bounding_box()
        assert box is not None and box["x"] < 100
        # The greeting is the widget's own: the conversation holds no such message.
        await expect(widget.locator(".od-msg[data-id]")).to_have_count(0)
        assert (found := await axe_violations(page, "#omnidesk-widget")) == [], report(found)
    assert errors == []


async def test_the_script_tags_attributes_win(browser: Browser, branded: Server) -> None:
    page = await new_page(browser)
    attributes = " ".join(
        f'data-{name}="{html.escape(value)}"'
        for name, value in {
            "title": "Corner Shop",
            # Light: text on it must turn dark to keep 4.5:1.
            "color": "#ffd166",
            "position": "right",
            "greeting": "Hi from the tag",
            "avatar": "https://tracker.example/pixel.png",
        }.items()
    )
    async with business_site(branded, attributes) as site:
        await page.goto(site)
        await open_widget(page)
        widget = page.locator("#omnidesk-widget")
        await expect(widget.locator(".od-title")).to_have_text("Corner Shop")
        await expect(widget.locator(".od-greeting")).to_have_text("Hi from the tag")
        await expect(widget).to_have_attribute("data-position", "right")
        header = widget.locator(".od-header")
        await expect(header).to_have_css("background-color", "rgb(255, 209, 102)")
        await expect(header).to_have_css("color", "rgb(0, 0, 0)")
        # Another host's image would tell it about every visitor: not shown.
        await expect(widget.locator(".od-avatar")).to_be_hidden()
        assert (found := await axe_violations(page, "#omnidesk-widget")) == [], report(found)


async def test_an_avatar_from_the_service_is_shown(browser: Browser, branded: Server) -> None:
    page = await new_page(browser)
    tag = 'data-avatar="/webchat/avatar.png" data-color="green"'
    async with business_site(branded, tag) as site:
        await page.goto(site)
        await open_widget(page)
        # A mistyped colour on the tag: the service's own is used.
        header = page.locator("#omnidesk-widget .od-header")
        await expect(header).to_have_css("background-color", "rgb(10, 125, 50)")
        avatar = page.locator("#omnidesk-widget .od-avatar")
        await expect(avatar).to_have_attribute("src", branded.url("/webchat/avatar.png"))
        await expect(avatar).to_have_attribute("alt", "")


async def test_pressed_feedback_buttons_stay_used_after_a_reload(
    browser: Browser, server: SessionServer
) -> None:
    page = await new_page(browser)
    await page.goto(server.url("/"))
    await expect(page.locator(".od-status")).to_have_attribute(
        "data-state", "online", timeout=UI_TIMEOUT_MS
    )
    box = page.locator("textarea.od-input")
    await box.fill("How do I reset my password?")
    await box.press("Enter")
    answer = page.locator(".od-msg.od-bot[data-id]").filter(
        has=page.locator(".od-buttons button", has_text="Not helpful")
    )
    await expect(answer.first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    answer_id = await answer.first.get_attribute("data-id")
    helpful = answer.first.locator(".od-buttons button", has_text=HELPFUL)
    await helpful.click()
    pressed = page.locator(".od-msg.od-contact[data-id] .od-text").filter(has_text=HELPFUL)
    await expect(pressed).to_have_count(1, timeout=UI_TIMEOUT_MS)

    await page.reload()
    await expect(page.locator(".od-status")).to_have_attribute(
        "data-state", "online", timeout=UI_TIMEOUT_MS
    )
    again = page.locator(f".od-msg.od-bot[data-id='{answer_id}'] .od-buttons button")
    await expect(again).to_have_count(2)
    for button in await again.all():
        await expect(button).to_be_disabled()
    await expect(again.filter(has_text="Not helpful")).not_to_have_attribute("aria-pressed", "true")
    await expect(again.filter(has_text=HELPFUL)).to_have_attribute("aria-pressed", "true")
    await expect(again.filter(has_text=HELPFUL)).to_have_class(re.compile("od-chosen"))


async def test_the_offline_text_shows_while_the_service_cannot_be_reached(
    browser: Browser, branded: Server
) -> None:
    page = await new_page(browser)
    # Every socket is refused, as when the service is down.
    await page.route_web_socket(re.compile(r"/webchat/ws$"), lambda ws: ws.close())
    async with business_site(branded, 'data-offline-text="We are away until 9."') as site:
        await page.goto(site)
        await page.locator("#omnidesk-widget .od-launcher").click()
        notice = page.locator("#omnidesk-widget .od-notice")
        await expect(notice).to_have_text("We are away until 9.", timeout=UI_TIMEOUT_MS)
        await expect(notice).to_be_visible()
        assert (found := await axe_violations(page, "#omnidesk-widget")) == [], report(found)


async def test_the_greeting_shows_before_the_service_answers(
    browser: Browser, branded: Server
) -> None:
    page = await new_page(browser)
    await page.route_web_socket(re.compile(r"/webchat/ws$"), lambda ws: ws.close())
    async with business_site(branded, 'data-greeting="Hello there"') as site:
        await page.goto(site)
        await page.locator("#omnidesk-widget .od-launcher").click()
        log = page.locator("#omnidesk-widget [role='log']")
        await expect(log.locator(".od-greeting")).to_have_text("Hello there")
