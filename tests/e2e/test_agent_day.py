"""An agent's day, end to end in headless Chromium against the real service: the admin
signs in and adds an agent and a canned response; the agent signs in and goes online; a
visitor asks for a person on the web chat and the conversation lands on the agent's
screen live, with no reload; the agent writes a note (never shown to the visitor),
answers with the canned response by its short code, and resolves; the visitor sees the
resolution, rates it and comments; the rating is on the contact's timeline in the
console and on the ticket in the API; the agent signs out and is offline.

The service is this module's own: an agent who is online takes every handoff, which
would change what the other e2e tests see on the shared one.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e.conftest import Account, Server, running_service, sign_in
from tests.e2e.test_accounts import FETCH_JS
from tests.e2e.test_webchat_console import (
    ANSWER_TIMEOUT_MS,
    after,
    open_chat,
    say,
    shown_texts,
    wait_connected,
)

pytestmark = pytest.mark.e2e

UI_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def day_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_service(tmp_path_factory.mktemp("agent-day")) as base_url:
        yield Server(base_url)


async def page_api(page: Page, method: str, path: str, body: Any = None) -> Any:
    """The API as the signed-in page calls it (cookie + CSRF); fails on an error."""
    status, text = await page.evaluate(FETCH_JS, [method, f"/api/v1{path}", body])
    assert 200 <= int(status) < 300, f"{method} {path}: {status} {text}"
    return json.loads(text) if text else None


def admin_call(server: Server, method: str, path: str, body: Any = None) -> Any:
    """The API with the admin's personal token, as a script calls it."""
    request = urllib.request.Request(
        server.url(f"/api/v1{path}"),
        data=json.dumps(body).encode() if body is not None else None,
        headers={**server.bearer(server.admin), "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


def availability_of(server: Server, agent: Account) -> str:
    agents = admin_call(server, "GET", "/agents")["agents"]
    return str(next(a["availability"] for a in agents if a["email"] == agent.email))


def set_offline(server: Server, agent: Account) -> None:
    agents = admin_call(server, "GET", "/agents")["agents"]
    for found in (a for a in agents if a["email"] == agent.email):
        admin_call(server, "PATCH", f"/agents/{found['id']}", {"availability": "offline"})


async def new_page(browser: Browser) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    return context, await context.new_page()


async def admin_prepares(browser: Browser, server: Server, marker: str) -> tuple[Account, str]:
    """The admin signs in on /signin, adds an agent and a canned response with
    placeholders; returns the agent's account and the response's short code."""
    _, admin = await new_page(browser)
    await sign_in(admin, server, server.admin)
    await expect(admin.locator(".oc-nav")).to_be_visible(timeout=UI_TIMEOUT_MS)
    agent = Account(f"dana-{marker}@e2e.test", f"dana-password-{marker}", f"Dana {marker}")
    made = await page_api(
        admin,
        "POST",
        "/agents",
        {"name": agent.name, "email": agent.email, "password": agent.password},
    )
    assert made["agent"]["role"] == "agent"
    code = f"thanks-{marker}"
    body = (
        "Hi {{contact.name|there}}, {{agent.name}} here. Your request is "
        "#{{ticket.id}} and it is sorted now."
    )
    await page_api(admin, "POST", "/canned", {"short_code": code, "body": body})
    await admin.context.close()
    return agent, code


async def agent_signs_in(
    browser: Browser, server: Server, agent: Account
) -> tuple[Page, list[str]]:
    """The agent signs in (offline, as every account starts) and watches the Mine view;
    from then on the page's navigations (there must be none) and toasts are recorded."""
    _, console = await new_page(browser)
    await sign_in(console, server, agent)
    await expect(console.locator(".oc-agent-name")).to_have_value(agent.name)
    await expect(console.locator(".oc-live")).to_have_attribute(
        "data-state", "live", timeout=UI_TIMEOUT_MS
    )
    await expect(console.locator(".oc-availability")).to_have_value("offline")
    await console.locator(".oc-view-tab[data-view='mine']").click()
    await expect(console.locator(".oc-main .oc-empty")).to_be_visible(timeout=UI_TIMEOUT_MS)
    navigations: list[str] = []
    console.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == console.main_frame else None,
    )
    await console.evaluate(RECORD_TOASTS_JS)
    return console, navigations


async def go_online(console: Page) -> None:
    async with console.expect_response(
        lambda r: r.url.endswith("/api/v1/me") and r.request.method == "PATCH"
    ) as patched:
        await console.locator(".oc-availability").select_option("online")
    assert (await (await patched.value).json())["agent"]["availability"] == "online"


async def conversation_of(console: Page, marker: str) -> dict[str, Any]:
    """The conversation whose messages hold ``marker``, as the agent's API sees it."""
    listing = await page_api(console, "GET", "/conversations?state=all")
    for summary in listing["conversations"]:
        detail = await page_api(console, "GET", f"/conversations/{summary['id']}")
        if any(marker in (m.get("text") or "") for m in detail["messages"]):
            return dict(detail["conversation"])
    raise AssertionError(f"no conversation holds {marker!r}")


# Every toast the console shows, kept: a toast leaves after a few seconds, and a loaded
# machine may take longer than that to look.
RECORD_TOASTS_JS = """() => {
  window.__sameDocument = true;
  window.__toasts = [];
  new MutationObserver((changes) => {
    for (const change of changes)
      for (const node of change.addedNodes) window.__toasts.push(node.textContent);
  }).observe(document.querySelector('.oc-toasts'), {childList: true});
}"""


async def shown_without_reload(console: Page, navigations: list[str], conv_id: int) -> Locator:
    """The conversation's row in the Mine view and one "New assignment" toast, on the
    same document: no reload, no navigation."""
    row = console.locator(f".oc-conv[data-id='{conv_id}']")
    await expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    # The toasts about this conversation ("… #12 is yours"): rung, and rung once.
    about_it = """(id) => window.__toasts.filter(
        (t) => t.startsWith('New assignment') && t.includes(`#${id} `))"""
    await console.wait_for_function(
        f"(id) => ({about_it})(id).length > 0", arg=conv_id, timeout=UI_TIMEOUT_MS
    )
    assert len(await console.evaluate(about_it, conv_id)) == 1
    assert await console.evaluate("window.__sameDocument === true")
    assert navigations == []
    return row


async def assigned_live(
    console: Page, navigations: list[str], widget: Page, agent: Account, marker: str
) -> dict[str, Any]:
    """The visitor asks for a person; the online agent gets it at once, live, and the
    visitor is told who will answer."""
    asked = await say(widget, f"I'd like to talk to a person please (order {marker})")
    notice = after(asked, "od-system").filter(has_text=agent.name)
    await expect(notice).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    await expect(notice).to_contain_text("will reply here shortly")
    conversation = await conversation_of(console, marker)
    assert conversation["state"] == "assigned"
    assert conversation["assignee"]["name"] == agent.name
    assert conversation["ticket"]["reason"] == "customer_request"
    row = await shown_without_reload(console, navigations, conversation["id"])
    await row.click()
    await expect(console.locator(".oc-msg.oc-contact").filter(has_text=marker)).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )
    await expect(console.locator(".oc-meta")).to_contain_text(agent.name)
    mine = console.locator(".oc-assign-to option").filter(has_text=agent.name)
    await expect(mine).to_have_text(f"{agent.name} (online)")
    return conversation


async def note_and_canned_reply(
    console: Page, widget: Page, agent: Account, code: str, ticket_id: int, marker: str
) -> str:
    """A note the visitor never sees, then the canned response by its short code."""
    box = console.locator("textarea.oc-reply")
    await console.locator(".oc-mode-note").click()
    await box.fill(f"note-{marker}: refund approved by finance")
    await console.locator(".oc-send").click()
    note = console.locator(".oc-msg.oc-note").filter(has_text=f"note-{marker}")
    await expect(note).to_have_count(1, timeout=UI_TIMEOUT_MS)

    await console.locator(".oc-mode-reply").click()
    await box.fill("")
    await box.type(f"/{code[:8]}")
    await expect(console.locator(f".oc-canned-item[data-code='{code}']")).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )
    await box.press("Enter")
    reply = f"Hi there, {agent.name} here. Your request is #{ticket_id} and it is sorted now."
    await expect(box).to_have_value(reply, timeout=UI_TIMEOUT_MS)
    await box.press("Enter")
    await expect(box).to_have_value("", timeout=UI_TIMEOUT_MS)
    await expect(console.locator(".oc-msg.oc-agent").filter(has_text=reply)).to_have_count(1)

    shown = widget.locator(".od-msg.od-agent").filter(has_text=f"{agent.name} here")
    await expect(shown).to_have_count(1, timeout=UI_TIMEOUT_MS)
    assert await shown.locator(".od-text").text_content() == reply
    await expect(shown.locator(".od-author")).to_have_text(agent.name)
    return reply


async def resolve_and_rate(console: Page, widget: Page, comment: str) -> None:
    """The agent resolves; the visitor sees it, rates 4 with the buttons and comments."""
    await console.locator(".oc-resolve").click()
    await expect(console.locator(".oc-meta")).to_contain_text("resolved", timeout=UI_TIMEOUT_MS)

    resolved = widget.locator(".od-msg.od-system").filter(has_text="marked as resolved")
    await expect(resolved).to_have_count(1, timeout=UI_TIMEOUT_MS)
    question = widget.locator(".od-msg.od-system").filter(has_text="How did we do?")
    await expect(question).to_have_count(1, timeout=UI_TIMEOUT_MS)
    buttons = question.locator(".od-buttons button")
    await expect(buttons).to_have_text(["1", "2", "3", "4", "5"])
    await buttons.filter(has_text="4").click()
    await expect(buttons.filter(has_text="4")).to_have_attribute("aria-pressed", "true")
    thanks = widget.locator(".od-msg.od-system").filter(has_text="Thank you for rating us")
    await expect(thanks).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)

    await say(widget, comment)
    noted = widget.locator(".od-msg.od-system").filter(has_text="passed your comment on")
    await expect(noted).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)


async def test_an_agents_day_from_handoff_to_rating(
    day_server: Server, browser: Browser, shots_dir: Path
) -> None:
    server = day_server
    marker = uuid.uuid4().hex[:6]
    agent, code = await admin_prepares(browser, server, marker)
    console, navigations = await agent_signs_in(browser, server, agent)
    errors: list[str] = []
    console.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await go_online(console)
        widget = await open_chat(browser, server)
        conversation = await assigned_live(console, navigations, widget, agent, marker)
        conv_id = conversation["id"]
        reply = await note_and_canned_reply(
            console, widget, agent, code, conversation["ticket"]["id"], marker
        )
        comment = f"Quick and friendly, thanks ({marker})"
        await resolve_and_rate(console, widget, comment)

        # The rating on the contact's timeline, in the console, with no reload.
        rated = console.locator(".oc-timeline .oc-event-csat")
        await expect(rated).to_contain_text("rated 4/5", timeout=UI_TIMEOUT_MS)
        await expect(rated).to_contain_text(comment)
        await console.screenshot(path=str(shots_dir / "agent-day-console.png"))
        await widget.screenshot(path=str(shots_dir / "agent-day-widget.png"))
        # And on the ticket.
        detail = await page_api(console, "GET", f"/conversations/{conv_id}")
        ticket = detail["conversation"]["ticket"]
        assert ticket["state"] == "resolved"
        assert ticket["csat_score"] == 4
        assert ticket["csat_comment"] == comment
        # The note never reached the visitor: not live, not after a reload.
        texts = " ".join(await shown_texts(widget))
        assert reply in texts and f"note-{marker}" not in texts
        await widget.reload()
        await wait_connected(widget)
        await expect(widget.locator(".od-msg.od-agent")).to_have_count(1, timeout=UI_TIMEOUT_MS)
        await expect(widget.locator(".od-msg").filter(has_text=comment)).to_have_count(1)
        texts = " ".join(await shown_texts(widget))
        assert reply in texts and f"note-{marker}" not in texts
        assert await console.evaluate("window.__sameDocument === true")  # never reloaded
        assert errors == []

        # The day ends: signing out takes the agent offline, so no handoff waits on them.
        await console.locator(".oc-logout").click()
        await expect(console).to_have_url(server.url("/signin?next=/console"))
        assert availability_of(server, agent) == "offline"
    finally:
        # Online agents take every handoff: leave nobody online behind, whatever failed
        # (the database may be shared with other runs on PostgreSQL).
        set_offline(server, agent)


async def test_a_waiting_customer_goes_to_the_agent_who_comes_online(
    day_server: Server, browser: Browser
) -> None:
    """The issue's order: the web chat escalates while nobody is online; the agent signs
    in, goes online, and the conversation is theirs at once, live."""
    server = day_server
    marker = uuid.uuid4().hex[:6]
    agent, _ = await admin_prepares(browser, server, marker)
    widget = await open_chat(browser, server)
    asked = await say(widget, f"can I speak to a human? (parcel {marker})")
    notice = after(asked, "od-system").filter(has_text="A person will reply here shortly")
    await expect(notice).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)

    console, navigations = await agent_signs_in(browser, server, agent)
    try:
        waiting = await conversation_of(console, marker)
        assert (waiting["state"], waiting["assignee"]) == ("queued", None)
        await go_online(console)
        await shown_without_reload(console, navigations, waiting["id"])
        detail = await page_api(console, "GET", f"/conversations/{waiting['id']}")
        assert detail["conversation"]["state"] == "assigned"
        assert detail["conversation"]["assignee"]["name"] == agent.name
    finally:
        set_offline(server, agent)
