"""The web chat widget and the agent console, end to end in headless Chromium.

Each test is one visitor with a fresh browser context (so a fresh visitor token)
talking to the real service: retrieval answers with citations, hand-off to a person,
history across reloads, an agent replying from the console, and user text that
must never be interpreted as HTML.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Locator, Page, expect

from tests.e2e.conftest import Account, sign_in

if TYPE_CHECKING:
    from conftest import Server

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT_MS = 30_000
UI_TIMEOUT_MS = 10_000
QUIET_PERIOD_S = 2.5
NOT_SURE = re.compile(
    r"not sure|n't know|do not know|couldn't find|could not find|not certain|"
    r"no answer|don't have|do not have|didn't find|did not find",
    re.IGNORECASE,
)
HANDOFF = re.compile(r"person|human|agent|colleague|team", re.IGNORECASE)


# -- helpers ---------------------------------------------------------------------------


async def open_chat(browser: Browser, server: Server) -> Page:
    """A new visitor on the demo page, with the widget open and connected."""
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    await page.goto(server.url("/"))
    await wait_connected(page)
    return page


async def wait_connected(page: Page) -> None:
    await expect(page.locator("#omnidesk-widget .od-panel")).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(page.locator(".od-status")).to_have_attribute(
        "data-state", "online", timeout=UI_TIMEOUT_MS
    )


async def say(page: Page, text: str) -> Locator:
    """Types ``text`` and presses Enter; returns the visitor's message once the server has it."""
    box = page.locator("textarea.od-input")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")
    # The echo from the server carries an id; the optimistic bubble does not.
    sent = page.locator(".od-msg.od-contact[data-id]").filter(has_text=text.strip().splitlines()[0])
    await expect(sent.last).to_be_visible(timeout=UI_TIMEOUT_MS)
    return sent.last


def after(message: Locator, css_class: str) -> Locator:
    """Messages of one kind (od-bot, od-agent, od-system) shown after ``message``."""
    return message.locator(
        f"xpath=following-sibling::*[contains(concat(' ', normalize-space(@class), ' '), "
        f"' {css_class} ')]"
    )


def replies(message: Locator) -> Locator:
    """Bot and system messages shown after ``message``."""
    return message.locator(
        "xpath=following-sibling::*[contains(concat(' ', normalize-space(@class), ' '), "
        "' od-bot ') or contains(concat(' ', normalize-space(@class), ' '), ' od-system ')]"
    )


async def shown_texts(page: Page) -> list[str]:
    return await page.locator(".od-msg[data-id] .od-text").all_text_contents()


async def api(page: Page, server: Server, method: str, path: str, body: Any = None) -> Any:
    """Calls the agent API from the browser context, with the agent's API token."""
    response = await page.request.fetch(
        server.url(f"/api/v1{path}"),
        method=method,
        headers=server.bearer(server.agent),
        data=body,
    )
    assert response.ok, f"{method} {path}: {response.status} {await response.text()}"
    return await response.json()


async def find_conversation(page: Page, server: Server, marker: str) -> dict[str, Any]:
    """The conversation (from the agent API) whose history contains ``marker``."""
    listing = await api(page, server, "GET", "/conversations?state=all")
    for conversation in listing["conversations"]:
        detail = await api(page, server, "GET", f"/conversations/{conversation['id']}")
        if any(marker in (m.get("text") or "") for m in detail["messages"]):
            return detail["conversation"]
    raise AssertionError(f"no conversation contains {marker!r}")


async def escalate(page: Page, question: str) -> Locator:
    """Asks something out of scope and presses "Talk to a person"; returns the hand-off."""
    asked = await say(page, question)
    unsure = after(asked, "od-bot").first
    await expect(unsure).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    await expect(unsure.locator(".od-text")).to_have_text(NOT_SURE)
    talk = unsure.locator(".od-buttons button", has_text=re.compile("talk to a person", re.I))
    await expect(talk).to_have_count(1)
    await talk.click()
    # Once pressed, every quick reply of that message is disabled.
    for button in await unsure.locator(".od-buttons button").all():
        await expect(button).to_be_disabled()
    handoff = replies(unsure).filter(has_text=HANDOFF).last
    await expect(handoff).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    return handoff


# -- tests -----------------------------------------------------------------------------


async def test_answer_cites_the_password_article(
    server: Server, browser: Browser, shots_dir: Path
) -> None:
    page = await open_chat(browser, server)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    asked = await say(page, "how do I reset my password?")

    answer = after(asked, "od-bot").first
    await expect(answer).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    link = answer.locator(".od-citation a").filter(has_text=re.compile("password", re.I)).first
    await expect(link).to_be_visible()
    href = await link.get_attribute("href")
    assert href is not None and "/kb/" in href, href
    assert await link.get_attribute("target") == "_blank"
    assert "noopener" in (await link.get_attribute("rel") or "")
    # The typing indicator is only shown while the bot is working.
    await expect(page.locator(".od-typing")).to_be_hidden(timeout=UI_TIMEOUT_MS)
    await page.screenshot(path=str(shots_dir / "widget-answer.png"))
    assert errors == []


async def test_out_of_scope_question_hands_off_to_a_person(
    server: Server, browser: Browser
) -> None:
    page = await open_chat(browser, server)
    await escalate(page, "what is the capital of Mongolia?")

    # A person owns the conversation now: the bot stays silent.
    asked = await say(page, "are you still there?")
    await asyncio.sleep(QUIET_PERIOD_S)
    await expect(after(asked, "od-bot")).to_have_count(0)


async def test_reload_resumes_the_conversation(server: Server, browser: Browser) -> None:
    page = await open_chat(browser, server)
    asked = await say(page, "how do I reset my password?")
    await expect(after(asked, "od-bot").first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    await asyncio.sleep(0.5)  # let any trailing frame of this turn arrive
    before = await shown_texts(page)
    assert "how do I reset my password?" in before

    await page.reload()
    await wait_connected(page)
    await expect(page.locator(".od-msg[data-id]")).to_have_count(len(before))
    assert await shown_texts(page) == before


async def agent_account(page: Page, server: Server, name: str) -> tuple[Account, int]:
    """The agent account called ``name`` and its id, made by the admin through the API
    the first time a test asks for it."""
    account = Account(f"{name.lower()}@e2e.test", f"{name}-e2e-password-2c41f0", name)
    response = await page.request.fetch(
        server.url("/api/v1/agents"),
        method="POST",
        headers=server.bearer(server.admin),
        data={"name": name, "email": account.email, "password": account.password},
    )
    assert response.status in (201, 409), await response.text()
    directory = await api(page, server, "GET", "/directory")
    [agent_id] = [a["id"] for a in directory["agents"] if a["email"] == account.email]
    return account, agent_id


async def open_console(browser: Browser, server: Server, name: str, *, live: bool = True) -> Page:
    """The console of the agent called ``name``, signed in on the sign-in page; with
    ``live=False`` the page has no WebSocket and refreshes on its own."""
    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    if not live:
        await context.add_init_script("window.WebSocket = undefined;")
    console = await context.new_page()
    account, _ = await agent_account(console, server, name)
    await sign_in(console, server, account)
    await expect(console.locator(".oc-view-tab[data-view='unassigned']")).to_have_attribute(
        "aria-selected", "true", timeout=UI_TIMEOUT_MS
    )
    await expect(console.locator(".oc-agent-name")).to_have_value(name)
    return console


async def test_agent_replies_from_the_console(
    server: Server, browser: Browser, shots_dir: Path
) -> None:
    widget = await open_chat(browser, server)
    marker = uuid.uuid4().hex[:8]
    await escalate(widget, f"what is the capital of Mongolia? (ref {marker})")
    await widget.screenshot(path=str(shots_dir / "widget.png"))

    conversation = await find_conversation(widget, server, marker)
    assert conversation["state"] == "queued"
    conv_id = str(conversation["id"])
    code = f"capital-{marker}"
    await api(
        widget,
        server,
        "POST",
        "/canned",
        {"short_code": code, "body": f"{{{{agent.name}}}} here: Ulaanbaatar ({marker})."},
    )

    console = await open_console(browser, server, "Dana")
    errors: list[str] = []
    console.on("pageerror", lambda error: errors.append(str(error)))
    row = console.locator(f".oc-conv[data-id='{conv_id}']")
    await expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(row.locator(".oc-unread")).to_be_visible()  # the customer wrote, unread
    await row.click()
    await expect(console.locator(".oc-msg.oc-contact").filter(has_text=marker).first).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )
    # Opened, it is read: the badge goes.
    await expect(row.locator(".oc-unread")).to_have_count(0, timeout=UI_TIMEOUT_MS)

    # An internal note: shown to agents, styled apart, never sent to the visitor.
    secret = f"internal-{marker} <b>not for the customer</b>"
    await console.locator(".oc-mode-note").click()
    await console.locator("textarea.oc-reply").fill(secret)
    await console.locator(".oc-send").click()
    note = console.locator(".oc-msg.oc-note").filter(has_text=f"internal-{marker}")
    await expect(note).to_have_count(1, timeout=UI_TIMEOUT_MS)
    assert await note.locator(".oc-msg-text").text_content() == secret

    await console.locator(".oc-assign").click()
    await expect(console.locator(".oc-meta")).to_contain_text("assigned", timeout=UI_TIMEOUT_MS)
    await expect(console.locator(".oc-meta")).to_contain_text("Dana")

    # A canned response: "/" and its short code, Enter inserts it filled in.
    await console.locator(".oc-mode-reply").click()
    box = console.locator("textarea.oc-reply")
    await box.fill("")
    await box.type(f"/{code[:10]}")
    item = console.locator(f".oc-canned-item[data-code='{code}']")
    await expect(item).to_be_visible(timeout=UI_TIMEOUT_MS)
    await box.press("Enter")
    canned = f"Dana here: Ulaanbaatar ({marker})."
    await expect(box).to_have_value(canned, timeout=UI_TIMEOUT_MS)
    reply = f"{canned}\nHi, this is Dana <b>from support</b>."
    await box.fill(reply)
    await console.locator(".oc-send").click()
    await expect(console.locator(".oc-msg.oc-agent").filter(has_text=marker)).to_have_count(1)
    await expect(box).to_have_value("")

    shown = widget.locator(".od-msg.od-agent").filter(has_text=marker)
    await expect(shown).to_have_count(1, timeout=UI_TIMEOUT_MS)
    assert await shown.locator(".od-text").text_content() == reply
    await expect(shown.locator(".od-author")).to_have_text("Dana")
    await widget.screenshot(path=str(shots_dir / "widget-agent.png"))
    await console.screenshot(path=str(shots_dir / "console.png"))

    await console.locator(".oc-resolve").click()
    await expect(console.locator(".oc-meta")).to_contain_text("resolved", timeout=UI_TIMEOUT_MS)
    await expect(console.locator(".oc-resolve")).to_be_disabled()
    detail = await api(widget, server, "GET", f"/conversations/{conv_id}")
    assert detail["conversation"]["state"] == "resolved"
    # Gone from the open views.
    await console.locator(".oc-view-tab[data-view='mine']").click()
    await expect(row).to_have_count(0, timeout=UI_TIMEOUT_MS)

    # The note never reached the visitor: not live, not after a reload.
    assert f"internal-{marker}" not in " ".join(await shown_texts(widget))
    await widget.reload()
    await wait_connected(widget)
    await expect(widget.locator(".od-msg.od-agent").filter(has_text=marker)).to_have_count(1)
    assert f"internal-{marker}" not in " ".join(await shown_texts(widget))
    assert errors == []


async def test_html_in_user_text_is_shown_literally(server: Server, browser: Browser) -> None:
    page = await open_chat(browser, server)
    dialogs: list[str] = []

    async def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    text = "<img src=x onerror=alert(1)> and <script>alert(2)</script>\nsecond line"
    sent = await say(page, text)

    assert await sent.locator(".od-text").text_content() == text
    await expect(page.locator("#omnidesk-widget img")).to_have_count(0)
    await expect(page.locator("#omnidesk-widget script")).to_have_count(0)
    # Newlines are kept on screen.
    assert await sent.locator(".od-text").evaluate("e => getComputedStyle(e).whiteSpace") == (
        "pre-wrap"
    )
    await asyncio.sleep(1.0)
    assert dialogs == []


async def test_unknown_token_starts_a_fresh_session(server: Server, browser: Browser) -> None:
    context = await browser.new_context()
    await context.add_init_script(
        "try { localStorage.setItem('omnidesk.token', 'not-a-real-token'); } catch (e) {}"
    )
    page = await context.new_page()
    await page.goto(server.url("/"))
    await wait_connected(page)
    stored = await page.evaluate("localStorage.getItem('omnidesk.token')")
    assert stored and stored != "not-a-real-token"


async def test_widget_embedded_on_another_site(
    server: Server, browser: Browser, aiohttp_server: Any
) -> None:
    """The one-tag embed on a customer's own site: everything comes from the script's origin."""
    host_page = (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        "<title>Shop</title></head><body><h1>Another site</h1>"
        f"<script src='{server.url('/webchat/widget.js')}' defer></script></body></html>"
    )

    async def page_handler(_: web.Request) -> web.Response:
        return web.Response(text=host_page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page_handler)
    site = await aiohttp_server(app)

    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(str(site.make_url("/")))
    launcher = page.locator("#omnidesk-widget .od-launcher")
    await expect(launcher).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(page.locator(".od-panel")).to_be_hidden()  # no data-open: starts closed
    await launcher.click()
    await wait_connected(page)
    await expect(page.locator("textarea.od-input")).to_be_focused()

    asked = await say(page, "how do I reset my password?")
    link = after(asked, "od-bot").first.locator(".od-citation a").first
    await expect(link).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    # Relative article links point at the omnidesk server, not at the host site.
    assert (await link.get_attribute("href") or "").startswith(server.url("/kb/"))

    await page.keyboard.press("Escape")
    await expect(page.locator(".od-panel")).to_be_hidden()
    await expect(launcher).to_be_focused()
