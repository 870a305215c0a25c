"""The agent console's daily work, end to end in headless Chromium: a reply that would
cross a colleague's asks first; keyboard shortcuts, labels, priority, state and the
filters; the contact panel merges two visitors and un-merges them with every message
kept."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import Browser, Dialog, Page, Route, expect

from tests.e2e.test_webchat_console import (
    ANSWER_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    after,
    agent_account,
    api,
    escalate,
    find_conversation,
    open_chat,
    open_console,
    say,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


async def handed_off(browser: Browser, server: Server) -> tuple[Page, str, dict[str, Any]]:
    """A visitor whose conversation waits for a person: the page, a marker, the summary."""
    widget = await open_chat(browser, server)
    marker = uuid.uuid4().hex[:8]
    await escalate(widget, f"what is the capital of Mongolia? (ref {marker})")
    return widget, marker, await find_conversation(widget, server, marker)


async def open_conversation(console: Page, conv_id: int, view: str = "all") -> None:
    await console.locator(f".oc-view-tab[data-view='{view}']").click()
    row = console.locator(f".oc-conv[data-id='{conv_id}']")
    await expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    await row.click()
    await expect(console.locator(".oc-conversation")).to_be_visible()
    await expect(console.locator(".oc-messages .oc-msg").first).to_be_visible(timeout=UI_TIMEOUT_MS)


async def test_a_reply_crossing_a_colleagues_asks_first(server: Server, browser: Browser) -> None:
    widget, marker, conversation = await handed_off(browser, server)
    conv_id = conversation["id"]
    # Dana's screen stays as it is (no live socket, no refresh) while Fox answers.
    console = await open_console(browser, server, "Dana", live=False)
    await open_conversation(console, conv_id)

    async def hold_detail(route: Route) -> None:
        if route.request.method == "GET":
            await route.abort()
        else:
            await route.continue_()

    await console.route(re.compile(rf".*/api/v1/conversations/{conv_id}$"), hold_detail)
    fox, _ = await agent_account(widget, server, "Fox")
    answered = await widget.request.fetch(
        server.url(f"/api/v1/conversations/{conv_id}/messages"),
        method="POST",
        headers=server.bearer(fox),
        data={"text": f"Fox here ({marker})"},
    )
    assert answered.status == 201, await answered.text()
    asked: list[str] = []

    async def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    console.on("dialog", accept)
    await console.locator("textarea.oc-reply").fill(f"Dana here ({marker})")
    await console.locator(".oc-send").click()
    await expect(console.locator(".oc-msg.oc-agent").filter(has_text="Dana here")).to_have_count(
        1, timeout=UI_TIMEOUT_MS
    )
    assert len(asked) == 1 and "Fox" in asked[0], asked
    shown = widget.locator(".od-msg.od-agent").filter(has_text=marker)
    await expect(shown).to_have_count(2, timeout=UI_TIMEOUT_MS)


async def test_shortcuts_labels_priority_state_and_filters(
    server: Server, browser: Browser
) -> None:
    _, _, first = await handed_off(browser, server)
    _, _, second = await handed_off(browser, server)
    console = await open_console(browser, server, "Kim")
    errors: list[str] = []
    console.on("pageerror", lambda error: errors.append(str(error)))
    await open_conversation(console, second["id"])
    heading = console.locator(".oc-contact-name")

    # ? shows the help; Escape closes it.
    await console.locator(".oc-messages").click()
    await console.keyboard.press("?")
    await expect(console.locator(".oc-help")).to_be_visible()
    await console.keyboard.press("Escape")
    await expect(console.locator(".oc-help")).to_be_hidden()

    # j / k move through the list (newest first: the second conversation is on top).
    ids = [await b.get_attribute("data-id") for b in await console.locator(".oc-conv").all()]
    at = ids.index(str(second["id"]))
    await console.keyboard.press("j")
    await expect(console.locator(".oc-conv.oc-selected")).to_have_attribute(
        "data-id", ids[min(at + 1, len(ids) - 1)]
    )
    await console.keyboard.press("k")
    await expect(console.locator(".oc-conv.oc-selected")).to_have_attribute(
        "data-id", str(second["id"])
    )
    await expect(heading).not_to_have_text("Loading…")

    # a assigns to me; n opens a note.
    await console.keyboard.press("a")
    await expect(console.locator(".oc-meta")).to_contain_text("Kim", timeout=UI_TIMEOUT_MS)
    await console.keyboard.press("n")
    await expect(console.locator(".oc-mode-note")).to_have_attribute("aria-pressed", "true")
    await expect(console.locator("textarea.oc-reply")).to_be_focused()
    await console.keyboard.press("Escape")
    await console.locator(".oc-mode-reply").click()

    labels = console.locator(".oc-labels-input")
    await labels.fill("VIP, refund")
    await labels.press("Tab")
    row = console.locator(f".oc-conv[data-id='{second['id']}']")
    await expect(row.locator(".oc-label")).to_have_text(["refund", "vip"], timeout=UI_TIMEOUT_MS)
    await console.locator(".oc-priority-select").select_option("urgent")
    await expect(row.locator(".oc-priority-urgent")).to_be_visible(timeout=UI_TIMEOUT_MS)
    await console.locator(".oc-state-select").select_option("pending")
    await expect(console.locator(".oc-meta")).to_contain_text("pending", timeout=UI_TIMEOUT_MS)

    # Filters: the label and the priority narrow the list to that one conversation.
    await console.locator(".oc-filter-label").fill("vip")
    await expect(console.locator(".oc-conv")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    await console.locator(".oc-filter-label").fill("")
    await console.locator(".oc-filter-priority").select_option("urgent")
    await expect(console.locator(".oc-conv")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    await console.locator(".oc-filter-priority").select_option("")
    await expect(console.locator(f".oc-conv[data-id='{first['id']}']")).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )
    # Mine holds it; e resolves it, and it leaves the open views.
    await console.locator(".oc-view-tab[data-view='mine']").click()
    await expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    await console.locator(".oc-messages").click()
    await console.keyboard.press("e")
    await expect(console.locator(".oc-meta")).to_contain_text("resolved", timeout=UI_TIMEOUT_MS)
    await expect(row).to_have_count(0, timeout=UI_TIMEOUT_MS)
    assert errors == []


async def test_merge_and_unmerge_two_visitors_from_the_panel(
    server: Server, browser: Browser
) -> None:
    _, marker, first = await handed_off(browser, server)
    other_page = await open_chat(browser, server)
    other_marker = uuid.uuid4().hex[:8]
    asked = await say(other_page, f"hello there {other_marker}")
    await expect(after(asked, "od-bot").first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    second = await find_conversation(other_page, server, other_marker)
    other_contact = second["contact"]["id"]

    console = await open_console(browser, server, "Lee")
    console.on("dialog", lambda dialog: dialog.accept())
    # Search finds the other visitor's message; a hit opens its conversation.
    await expect(console.locator(".oc-conv").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    await console.keyboard.press("/")
    await expect(console.locator(".oc-search")).to_be_focused()
    await console.keyboard.type(other_marker)
    hit = console.locator(f".oc-search-hit[data-conversation='{second['id']}']")
    await expect(hit).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(hit.locator("mark")).to_have_text(other_marker)
    await hit.click()
    await expect(console.locator(".oc-msg.oc-contact").filter(has_text=other_marker)).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )
    await console.locator(".oc-search").press("Escape")
    await expect(console.locator(".oc-search-results")).to_be_hidden()
    await open_conversation(console, first["id"])
    panel = console.locator(".oc-contact-panel")
    await expect(panel.locator(".oc-earlier-item")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    await panel.locator(".oc-merge-id").fill(str(other_contact))
    await panel.locator(".oc-merge-submit").click()
    await expect(panel.locator(".oc-earlier-item")).to_have_count(2, timeout=UI_TIMEOUT_MS)
    undo = panel.locator(f".oc-merge[data-contact='{other_contact}'] .oc-unmerge")
    await expect(undo).to_be_visible()
    await expect(panel.locator(".oc-timeline")).to_contain_text("contacts merged")

    await undo.click()
    await expect(panel.locator(".oc-earlier-item")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    await expect(panel.locator("li.oc-merge")).to_have_count(0)
    # Each contact has its own conversation and every message back.
    restored = await api(other_page, server, "GET", f"/contacts/{other_contact}")
    assert [c["id"] for c in restored["contact"]["conversations"]] == [second["id"]]
    detail = await api(other_page, server, "GET", f"/conversations/{second['id']}")
    assert any(other_marker in m["text"] for m in detail["messages"])
    mine = await api(other_page, server, "GET", f"/conversations/{first['id']}")
    assert any(marker in m["text"] for m in mine["messages"])


async def test_a_new_assignment_shows_a_notification(server: Server, browser: Browser) -> None:
    widget, _, conversation = await handed_off(browser, server)
    console = await open_console(browser, server, "Robin")
    await expect(console.locator(f".oc-conv[data-id='{conversation['id']}']")).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )
    await expect(console.locator(".oc-toast")).to_have_count(0)
    # Someone else gives it to Robin.
    _, robin = await agent_account(widget, server, "Robin")
    await api(
        widget, server, "POST", f"/conversations/{conversation['id']}/assign", {"agent_id": robin}
    )
    toast = console.locator(".oc-toast").filter(has_text="New assignment")
    await expect(toast).to_be_visible(timeout=UI_TIMEOUT_MS)
    await toast.click()
    await expect(console.locator(".oc-meta")).to_contain_text("Robin", timeout=UI_TIMEOUT_MS)


async def test_two_agents_on_one_conversation_see_each_other(
    server: Server, browser: Browser
) -> None:
    _, _, conversation = await handed_off(browser, server)
    first = await open_console(browser, server, "Dana")
    await expect(first.locator(".oc-live")).to_have_attribute(
        "data-state", "live", timeout=UI_TIMEOUT_MS
    )
    await open_conversation(first, conversation["id"])
    presence = first.locator(".oc-presence")
    await expect(presence).to_be_hidden()  # nobody else yet

    second = await open_console(browser, server, "Fox")
    await open_conversation(second, conversation["id"])
    await expect(presence).to_have_text("Fox is viewing", timeout=UI_TIMEOUT_MS)
    await expect(second.locator(".oc-presence")).to_have_text(
        "Dana is viewing", timeout=UI_TIMEOUT_MS
    )

    await second.locator("textarea.oc-reply").type("Let me look")
    await expect(presence).to_have_text("Fox is typing…", timeout=UI_TIMEOUT_MS)
    # The second leaves: the first is alone again.
    await second.close()
    await expect(presence).to_be_hidden(timeout=UI_TIMEOUT_MS)
