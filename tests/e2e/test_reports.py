"""Reports in the console, end to end in Chromium: an admin opens Reports for a
generated month (``tests/reports/history.py``, written into a fresh service's database
before it starts), sees the four charts drawn, the totals and the table per day filled
(Berlin days, as the browser's zone), the article that ended in handoffs, and exports the
figures as CSV."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, expect

from omnidesk.bot.migrate import upgrade
from omnidesk.config import Settings
from omnidesk.db import create_engine, sessionmaker
from tests.e2e.conftest import Server, running_service, sign_in
from tests.e2e.test_webchat_console import UI_TIMEOUT_MS
from tests.reports.history import write_history

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.e2e

CHARTS = ("volume", "rates", "times", "csat")
# Whether a canvas has any pixel drawn on it.
DRAWN_JS = """
(canvas) => {
  const { width, height } = canvas;
  if (!width || !height) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
  return false;
}
"""


async def _seed(data_dir: Path) -> None:
    engine = create_engine(Settings(data_dir=data_dir).effective_database_url)
    try:
        await upgrade(engine)
        async with sessionmaker(engine)() as session:
            await write_history(session)
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def month_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A service of its own whose database holds the generated March 2026."""
    workdir = tmp_path_factory.mktemp("omnidesk-reports")
    asyncio.run(_seed(workdir / "data"))
    with running_service(workdir) as base_url:
        yield Server(base_url)


async def open_reports(browser: Browser, server: Server) -> tuple[Page, list[str]]:
    """The admin's console on Reports for March 2026, in Berlin; and the page's errors."""
    context = await browser.new_context(
        viewport={"width": 1366, "height": 1000}, timezone_id="Europe/Berlin"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, server, server.admin)
    await page.locator(".oc-nav-btn[data-view='reports']").click()
    section = page.locator(".oc-admin[data-view='reports']")
    await expect(section).to_be_visible(timeout=UI_TIMEOUT_MS)
    await section.get_by_label("From", exact=True).fill("2026-03-01")
    await section.get_by_label("To", exact=True).fill("2026-03-31")
    await section.get_by_role("button", name="Show").click()
    return page, errors


async def test_admin_sees_the_charts_and_figures_of_a_generated_month(
    month_server: Server, browser: Browser, shots_dir: Path
) -> None:
    page, errors = await open_reports(browser, month_server)
    section = page.locator(".oc-admin[data-view='reports']")

    rows = section.locator(".oc-reports-row")
    await expect(rows).to_have_count(31, timeout=UI_TIMEOUT_MS)
    # Two conversations on Sunday 29 March in Berlin, across the change to summer time.
    await expect(section.locator(".oc-reports-row[data-key='2026-03-29'] td").first).to_have_text(
        "2"
    )
    await expect(section.locator(".oc-reports-row[data-key='2026-03-02'] td").nth(4)).to_have_text(
        "150"
    )
    totals = section.locator(".oc-reports-totals")
    await expect(totals).to_contain_text("Conversations")
    # Seen from today, months later, the answer of 31 March has had its 24 quiet hours
    # too (the unit tests look from 31 March noon, when it had not).
    await expect(totals).to_contain_text("30 % (1 confirmed, 2 assumed)")
    await expect(totals).to_contain_text("4 average, 2 ratings")
    await expect(section.locator(".oc-reports-article")).to_contain_text("Refunds (2 handoffs)")
    await expect(section.locator(".oc-reports-topic").first).to_be_visible()

    for name in CHARTS:
        canvas = section.locator(f"canvas.oc-reports-{name}")
        await expect(canvas).to_be_visible()
        assert await canvas.evaluate(DRAWN_JS), f"the {name} chart is blank"
    charted = await page.evaluate(
        "() => [...document.querySelectorAll('.oc-reports-chart canvas')]"
        ".filter((c) => window.Chart && Chart.getChart(c)).length"
    )
    assert charted == len(CHARTS)
    await page.screenshot(path=str(shots_dir / "console-admin-reports.png"), full_page=True)

    async with page.expect_download() as waiting:
        await section.get_by_role("button", name="Export CSV").click()
    saved = Path(await (await waiting.value).path()).read_text(encoding="utf-8")
    assert saved.startswith("key,conversations,messages_contact")
    assert "\n2026-03-29,2," in saved
    assert not errors, errors


async def test_the_chart_library_is_served_here_under_the_console_policy(
    month_server: Server, browser: Browser
) -> None:
    page, errors = await open_reports(browser, month_server)
    await expect(page.locator(".oc-reports-row")).to_have_count(31, timeout=UI_TIMEOUT_MS)
    response = await page.request.get(month_server.url("/console/vendor/chart.umd.min.js"))
    assert response.ok
    assert "Chart.js v4" in (await response.text())[:200]
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy
    loaded = await page.evaluate(
        "() => performance.getEntriesByType('resource').map((e) => e.name)"
        ".filter((n) => n.includes('chart'))"
    )
    assert loaded == [month_server.url("/console/vendor/chart.umd.min.js")]
    assert not errors, errors
