"""The admin runs the team from the console, end to end in headless Chromium against the
real service: a team and an agent (with that team and a skill) made in the UI show up;
a keyword handoff rule made in the UI hands a web chat visitor who uses the word over to
a person with the rule's reason; an SLA target and a business calendar edited in the UI
are saved (a reload shows them); the server's refusals show in the form; the audit log
shows who made those changes, filters them and exports them as CSV; an agent sees
none of these views and is refused on their routes, but has "My account" (password,
API tokens shown once).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import Account, sign_in
from tests.e2e.test_accounts import page_fetch
from tests.e2e.test_admin_console import admin_api, open_console
from tests.e2e.test_webchat_console import (
    ANSWER_TIMEOUT_MS,
    HANDOFF,
    UI_TIMEOUT_MS,
    find_conversation,
    open_chat,
    replies,
    say,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

ADMIN_VIEWS = ("agents", "teams", "rules", "sla", "audit", "reports", "webhooks")


def accept_dialogs(page: Page) -> None:
    """Say yes to every confirm() the page asks."""

    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)


async def admin_console(browser: Browser, server: Server, view: str) -> Page:
    """The admin's console on ``view``; confirm() dialogs are accepted."""
    page = await open_console(browser, server, server.admin)
    accept_dialogs(page)
    await expect(page.locator(".oc-nav")).to_be_visible(timeout=UI_TIMEOUT_MS)
    await page.locator(f".oc-nav-btn[data-view='{view}']").click()
    await expect(page.locator(f".oc-admin[data-view='{view}']")).to_be_visible()
    return page


async def test_admin_adds_a_team_and_an_agent(
    server: Server, browser: Browser, shots_dir: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    team_name, name, email = f"Billing {marker}", f"Ada {marker}", f"ada-{marker}@e2e.test"
    page = await admin_console(browser, server, "teams")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    await page.locator(".oc-team-new").click()
    form = page.locator(".oc-team-form")
    await form.get_by_label("Name").fill(team_name)
    await form.get_by_label("Assignment").select_option("least_busy")
    await form.locator(".oc-team-save").click()
    team = page.locator(".oc-team-row").filter(has_text=team_name)
    await expect(team).to_contain_text("least busy", timeout=UI_TIMEOUT_MS)
    await expect(form).to_be_hidden()

    await page.locator(".oc-nav-btn[data-view='agents']").click()
    await page.locator(".oc-agent-new").click()
    form = page.locator(".oc-agent-form")
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill("a-new-agent-password")
    await form.get_by_label("Skills").fill("Billing, refunds")
    await form.get_by_label("Capacity").fill("4")
    await form.get_by_label(team_name).check()
    await form.locator(".oc-agent-save").click()
    row = page.locator(f".oc-agent-row[data-email='{email}']")
    await expect(row).to_contain_text(name, timeout=UI_TIMEOUT_MS)
    await expect(row.locator(".oc-agent-teams")).to_have_text(team_name)
    await expect(row.locator(".oc-agent-skills")).to_have_text("billing, refunds")
    await expect(row.locator(".oc-agent-capacity")).to_have_text("4")
    await page.screenshot(path=str(shots_dir / "console-admin-agents.png"))

    # The same email again: the server's refusal shows in the form, which keeps its input.
    await page.locator(".oc-agent-new").click()
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill("another-password-123")
    await form.locator(".oc-agent-save").click()
    await expect(form.locator(".oc-form-error")).to_contain_text("exists")
    await expect(form.get_by_label("Email")).to_have_value(email)
    await form.locator(".oc-agent-cancel").click()

    # Edit: the form opens filled in; the row shows the change.
    await row.get_by_role("button", name=f"Edit {name}").click()
    await expect(form.get_by_label("Skills")).to_have_value("billing, refunds")
    await expect(form.get_by_label(team_name)).to_be_checked()
    await form.get_by_label("Skills").fill("billing, vip")
    await form.get_by_label("Capacity").fill("6")
    await form.locator(".oc-agent-save").click()
    await expect(row.locator(".oc-agent-skills")).to_have_text("billing, vip")
    await expect(row.locator(".oc-agent-capacity")).to_have_text("6")

    # Disable, then enable again, from the row.
    await row.get_by_role("button", name=f"Disable {name}").click()
    await expect(row.locator(".oc-agent-state")).to_have_text("disabled")
    await row.get_by_role("button", name=f"Enable {name}").click()
    await expect(row.locator(".oc-agent-state")).to_contain_text("active")

    listed = await admin_api(page, server, "GET", "/agents")
    agent = next(a for a in listed["agents"] if a["email"] == email)
    assert agent["skills"] == ["billing", "vip"]
    assert [t["name"] for t in agent["teams"]] == [team_name]
    assert agent["active"] is True
    assert errors == []


async def test_keyword_rule_made_in_the_console_hands_over(
    server: Server, browser: Browser, shots_dir: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    keyword, reason = f"zq{marker}", f"e2e_rule_{marker}"
    page = await admin_console(browser, server, "rules")
    await page.locator(".oc-rule-new").click()
    form = page.locator(".oc-rule-form")
    await form.get_by_label("Name").fill(f"Rule {marker}")
    await expect(form.get_by_label("When")).to_have_value("keyword")
    await form.get_by_label("Keywords", exact=True).fill(f"{keyword}, other{marker}")
    await form.get_by_label("Reason").fill(reason)
    await form.get_by_label("Priority").select_option("high")
    await form.locator(".oc-rule-save").click()
    rule = page.locator(".oc-rule-row").filter(has_text=f"Rule {marker}")
    await expect(rule).to_contain_text(keyword, timeout=UI_TIMEOUT_MS)
    await expect(rule).to_contain_text(reason)
    await page.screenshot(path=str(shots_dir / "console-admin-rules.png"))

    widget = await open_chat(browser, server)
    asked = await say(widget, f"Something is wrong with my {keyword.upper()} order")
    await expect(replies(asked).filter(has_text=HANDOFF).first).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS
    )
    conversation = await find_conversation(widget, server, keyword.upper())
    assert conversation["state"] in ("queued", "assigned")
    assert conversation["ticket"]["reason"] == reason
    assert conversation["ticket"]["priority"] == "high"

    # Off and on again from the row's check box.
    toggle = rule.get_by_label(f"Rule Rule {marker} enabled")
    await toggle.uncheck()
    await expect(rule).to_have_class(re.compile(r"\boc-off\b"), timeout=UI_TIMEOUT_MS)
    rules = await admin_api(page, server, "GET", "/admin/rules")
    assert [r["enabled"] for r in rules["rules"] if r["reason"] == reason] == [False]
    await toggle.check()
    await expect(rule).not_to_have_class(re.compile(r"\boc-off\b"), timeout=UI_TIMEOUT_MS)

    await rule.get_by_role("button", name=f"Delete rule Rule {marker}").click()
    await expect(rule).to_have_count(0, timeout=UI_TIMEOUT_MS)
    rules = await admin_api(page, server, "GET", "/admin/rules")
    assert all(r["reason"] != reason for r in rules["rules"])


async def test_sla_target_and_calendar_are_saved(
    server: Server, browser: Browser, shots_dir: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    page = await admin_console(browser, server, "sla")
    try:
        urgent = page.get_by_label("urgent: first response (minutes)")
        await expect(urgent).to_be_visible(timeout=UI_TIMEOUT_MS)
        await urgent.fill("27")
        await page.locator(".oc-sla-save").click()
        await expect(page.locator(".oc-sla-saved")).to_be_visible(timeout=UI_TIMEOUT_MS)

        # A time the server cannot read: its message shows in the calendar form.
        await page.locator(".oc-calendar-new").click()
        form = page.locator(".oc-calendar-form")
        await form.get_by_label("Name").fill(f"Office {marker}")
        await form.get_by_label("Time zone").fill("Europe/Berlin")
        await form.get_by_label("Monday").fill("09:00-17:00")
        await form.get_by_label("Tuesday").fill("9am-5pm")
        await form.locator(".oc-calendar-save").click()
        await expect(form.locator(".oc-form-error")).to_contain_text("HH:MM")
        await form.get_by_label("Tuesday").fill("09:00-12:00, 13:00-17:00")
        await form.get_by_label("Holidays").fill("2026-12-25")
        await form.locator(".oc-calendar-save").click()
        calendar = page.locator(".oc-calendar-row").filter(has_text=f"Office {marker}")
        await expect(calendar).to_contain_text("Europe/Berlin", timeout=UI_TIMEOUT_MS)
        await expect(calendar).to_contain_text("tue 09:00-12:00, 13:00-17:00")

        # After a reload the console opens on the same view, showing what was saved.
        await page.reload()
        urgent = page.get_by_label("urgent: first response (minutes)")
        await expect(urgent).to_have_value("27", timeout=UI_TIMEOUT_MS)
        urgent_row = page.locator(".oc-sla-row[data-priority='urgent']")
        await expect(urgent_row).to_contain_text("set here")
        await expect(page.locator(".oc-sla-row[data-priority='low']")).to_contain_text(
            "from settings"
        )
        await expect(calendar).to_contain_text("2026-12-25")
        await page.screenshot(path=str(shots_dir / "console-admin-sla.png"))
        sla = await admin_api(page, server, "GET", "/admin/sla")
        by_priority = {p["priority"]: p for p in sla["policies"]}
        assert by_priority["urgent"]["first_response_minutes"] == 27

        # A team counts its SLA clocks in that calendar's hours.
        await page.locator(".oc-nav-btn[data-view='teams']").click()
        await page.locator(".oc-team-new").click()
        team_form = page.locator(".oc-team-form")
        await team_form.get_by_label("Name").fill(f"Berlin {marker}")
        await team_form.get_by_label("Business hours").select_option(label=f"Office {marker}")
        await team_form.locator(".oc-team-save").click()
        team_row = page.locator(".oc-team-row").filter(has_text=f"Berlin {marker}")
        await expect(team_row).to_contain_text(f"hours: Office {marker}", timeout=UI_TIMEOUT_MS)
        teams = (await admin_api(page, server, "GET", "/teams"))["teams"]
        [team] = [t for t in teams if t["name"] == f"Berlin {marker}"]
        calendars = (await admin_api(page, server, "GET", "/admin/calendars"))["calendars"]
        [office] = [c for c in calendars if c["name"] == f"Office {marker}"]
        assert team["calendar_id"] == office["id"]
        await admin_api(page, server, "DELETE", f"/teams/{team['id']}")
        await page.locator(".oc-nav-btn[data-view='sla']").click()

        await calendar.get_by_role("button", name=f"Delete calendar Office {marker}").click()
        await expect(calendar).to_have_count(0, timeout=UI_TIMEOUT_MS)
    finally:
        # Other tests hand conversations over too: back to the settings' targets.
        await admin_api(page, server, "PUT", "/admin/sla", {"policies": []})


async def test_admin_reads_filters_and_exports_the_audit_log(
    server: Server, browser: Browser, shots_dir: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    page = await admin_console(browser, server, "teams")
    await page.locator(".oc-team-new").click()
    form = page.locator(".oc-team-form")
    await form.get_by_label("Name").fill(f"Audit {marker}")
    await form.locator(".oc-team-save").click()
    team = page.locator(".oc-team-row").filter(has_text=f"Audit {marker}")
    await expect(team).to_be_visible(timeout=UI_TIMEOUT_MS)
    teams = await admin_api(page, server, "GET", "/teams")
    team_id = next(t["id"] for t in teams["teams"] if t["name"] == f"Audit {marker}")

    await page.locator(".oc-nav-btn[data-view='audit']").click()
    section = page.locator(".oc-admin[data-view='audit']")
    row = section.locator(".oc-audit-row[data-action='team.created']", has_text=f"Audit {marker}")
    await expect(row).to_contain_text(f"team:{team_id}", timeout=UI_TIMEOUT_MS)
    await expect(row).to_contain_text("127.0.0.1")
    await page.screenshot(path=str(shots_dir / "console-admin-audit.png"))

    await section.get_by_label("Action").select_option("session.")
    await section.get_by_role("button", name="Show").click()
    await expect(section.locator(".oc-audit-row").first).to_have_attribute(
        "data-action", re.compile(r"^session\.")
    )
    await expect(section.locator(".oc-audit-row[data-action='team.created']")).to_have_count(0)

    await section.get_by_label("Action").select_option("team.")
    await section.get_by_role("button", name="Show").click()
    await expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    async with page.expect_download() as waiting:
        await section.get_by_role("button", name="Export CSV").click()
    download = await waiting.value
    saved = Path(await download.path()).read_text(encoding="utf-8")
    assert saved.startswith("id,at,actor_id,actor_name,actor_role,ip,action,target,data")
    assert f"team:{team_id}" in saved
    assert "session.signed_in" not in saved  # the filter holds for the export too


async def test_agent_sees_no_admin_views_and_is_refused(server: Server, browser: Browser) -> None:
    page = await open_console(browser, server, server.agent)
    await expect(page.locator(".oc-main")).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(page.locator(".oc-nav")).to_be_hidden()
    # Even asking for an admin view by its saved name lands on the conversations.
    await page.evaluate("sessionStorage.setItem('omnidesk.console_view', 'agents')")
    await page.reload()
    await expect(page.locator(".oc-main")).to_be_visible(timeout=UI_TIMEOUT_MS)
    for view in ADMIN_VIEWS:
        await expect(page.locator(f".oc-admin[data-view='{view}']")).to_be_hidden()
    for method, path, body in (
        ("GET", "/api/v1/admin/rules", None),
        ("POST", "/api/v1/admin/rules", {"name": "x", "trigger": "keyword"}),
        ("PUT", "/api/v1/admin/sla", {"policies": []}),
        ("GET", "/api/v1/admin/calendars", None),
        ("GET", "/api/v1/admin/audit", None),
        ("GET", "/api/v1/admin/audit.csv", None),
        ("GET", "/api/v1/reports/overview", None),
        ("GET", "/api/v1/reports/agents.csv", None),
        ("GET", "/api/v1/admin/webhooks", None),
        ("POST", "/api/v1/admin/webhooks", {"url": "http://127.0.0.1/", "events": ["ping"]}),
        ("POST", "/api/v1/agents", {"email": "x@e2e.test", "password": "long-enough-1"}),
        ("PATCH", "/api/v1/agents/1", {"role": "admin"}),
        ("POST", "/api/v1/teams", {"name": "Sneaky"}),
    ):
        assert await page_fetch(page, method, path, body) == 403, (method, path)


async def test_my_account_changes_the_password_and_makes_tokens(
    server: Server, browser: Browser
) -> None:
    marker = uuid.uuid4().hex[:8]
    account = Account(f"me-{marker}@e2e.test", "first-password-123", f"Me {marker}")
    admin = await open_console(browser, server, server.admin)
    body = {"email": account.email, "name": account.name, "password": account.password}
    await admin_api(admin, server, "POST", "/agents", body)

    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    accept_dialogs(page)
    await sign_in(page, server, account)
    await page.locator(".oc-account-open").click()
    section = page.locator(".oc-admin[data-view='account']")
    await expect(section).to_be_visible(timeout=UI_TIMEOUT_MS)

    form = page.locator(".oc-password-form")
    await form.get_by_label("Current password").fill("not-my-password")
    await form.get_by_label("New password", exact=True).fill("second-password-456")
    await form.get_by_label("New password again").fill("second-password-456")
    await form.locator(".oc-password-save").click()
    await expect(form.locator(".oc-form-error")).to_contain_text("current password is wrong")
    await form.get_by_label("Current password").fill(account.password)
    await form.locator(".oc-password-save").click()
    await expect(form.locator(".oc-password-done")).to_be_visible(timeout=UI_TIMEOUT_MS)

    tokens = page.locator(".oc-token-form")
    await tokens.get_by_label("Token name").fill(f"script {marker}")
    await tokens.locator(".oc-token-create").click()
    secret_box = tokens.get_by_label("New token")
    await expect(secret_box).to_have_value(re.compile(r"^odk_"), timeout=UI_TIMEOUT_MS)
    secret = await secret_box.input_value()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert (await page.request.get(server.url("/api/v1/me"), headers=bearer)).status == 200
    row = tokens.locator(".oc-token-row").filter(has_text=f"script {marker}")
    await row.get_by_role("button", name=f"Revoke token script {marker}").click()
    await expect(row).to_contain_text("revoked", timeout=UI_TIMEOUT_MS)
    assert (await page.request.get(server.url("/api/v1/me"), headers=bearer)).status == 401

    await section.locator(".oc-account-close").click()
    await expect(page.locator(".oc-main")).to_be_visible()
    await context.close()
