"""Accounts end to end in headless Chromium: a logged-out browser sees only the sign-in
page; the admin signs in and adds an agent through the API from the console's own
session (cookie + CSRF); that agent signs in, works, is refused on admin routes, and
signs out."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import Account, sign_in

if TYPE_CHECKING:
    from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

UI_TIMEOUT_MS = 15_000

# fetch() from the page itself: the session cookie and the CSRF token from /api/v1/me.
FETCH_JS = """async ([method, path, body]) => {
  const me = await fetch('/api/v1/me', {credentials: 'same-origin'});
  const csrf = me.ok ? (await me.json()).csrf_token : '';
  const init = {method, credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}};
  if (body !== null) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  return [response.status, await response.text()];
}"""


async def page_fetch(page: Page, method: str, path: str, body: Any = None) -> int:
    status, _ = await page.evaluate(FETCH_JS, [method, path, body])
    return int(status)


async def test_logged_out_browser_sees_only_the_sign_in_page(
    server: Server, browser: Browser
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    for path in ("/console", "/console/console.js"):
        await page.goto(server.url(path))
        await expect(page).to_have_url(server.url(f"/signin?next={path}"))
        await expect(page.locator(".si-form")).to_be_visible()
    for path in ("/api/v1/conversations", "/api/v1/agents", "/api/v1/me", "/api/v1/articles"):
        response = await page.request.get(server.url(path))
        assert response.status == 401, path
    # A wrong password keeps the browser on the sign-in page with a message.
    await page.locator("#si-email").fill(server.agent.email)
    await page.locator("#si-password").fill("not-the-password")
    await page.locator(".si-submit").click()
    await expect(page.locator(".si-error")).to_have_text("Wrong email or password.")
    assert "/signin" in page.url
    await context.close()


async def test_admin_adds_an_agent_who_signs_in_and_is_kept_off_admin_routes(
    server: Server, browser: Browser
) -> None:
    admin_context = await browser.new_context()
    admin = await admin_context.new_page()
    await sign_in(admin, server, server.admin)
    await expect(admin.locator(".oc-nav")).to_be_visible(timeout=UI_TIMEOUT_MS)

    suffix = uuid.uuid4().hex[:6]
    new = Account(f"kim-{suffix}@e2e.test", f"kim-password-{suffix}", f"Kim {suffix}")
    body = {"name": new.name, "email": new.email, "password": new.password}
    assert await page_fetch(admin, "POST", "/api/v1/agents", body) == 201
    # Without the CSRF header the same session cannot write.
    response = await admin.request.post(server.url("/api/v1/teams"), data={"name": "x"})
    assert response.status == 403

    agent_context = await browser.new_context()
    agent = await agent_context.new_page()
    errors: list[str] = []
    agent.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(agent, server, new)
    await expect(agent.locator(".oc-agent-name")).to_have_value(new.name)
    await expect(agent.locator(".oc-view-tab[data-view='unassigned']")).to_have_attribute(
        "aria-selected", "true", timeout=UI_TIMEOUT_MS
    )
    await expect(agent.locator(".oc-nav")).to_be_hidden()  # no admin views offered
    assert await page_fetch(agent, "GET", "/api/v1/conversations?state=all") == 200
    assert await page_fetch(agent, "POST", "/api/v1/agents", body) == 403
    assert await page_fetch(agent, "PATCH", "/api/v1/articles/reset-password", {}) == 403
    assert await page_fetch(agent, "GET", "/api/v1/kb/gaps") == 403

    # Sign out: back to the sign-in page, and the console is closed again.
    await agent.locator(".oc-logout").click()
    await expect(agent).to_have_url(server.url("/signin?next=/console"))
    await expect(agent.locator(".si-form")).to_be_visible()
    await agent.goto(server.url("/console"))
    await expect(agent).to_have_url(server.url("/signin?next=/console"))
    assert errors == []
    await agent_context.close()
    await admin_context.close()
