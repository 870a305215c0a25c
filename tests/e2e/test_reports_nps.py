"""The NPS in the console's Reports, end to end in Chromium: on a service with the NPS
survey on, over the generated March plus the hand-worked survey sends of
``tests/reports/test_nps.py``, the admin sees the NPS chart drawn and its figures as
text. (With the survey off the chart stays hidden: ``test_reports.py``.)"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from omnidesk.bot.migrate import upgrade
from omnidesk.config import Settings
from omnidesk.db import create_engine, sessionmaker
from tests.e2e.conftest import Server, running_service
from tests.e2e.test_reports import DRAWN_JS, open_reports
from tests.e2e.test_webchat_console import UI_TIMEOUT_MS
from tests.reports.history import write_history
from tests.reports.test_nps import write_surveys

pytestmark = pytest.mark.e2e


async def _seed(data_dir: Path) -> None:
    engine = create_engine(Settings(data_dir=data_dir).effective_database_url)
    try:
        await upgrade(engine)
        async with sessionmaker(engine)() as session:
            await write_history(session)
            await write_surveys(session, dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def nps_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("omnidesk-reports-nps")
    asyncio.run(_seed(workdir / "data"))
    with running_service(workdir, {"OMNIDESK_ESCALATION__NPS_ENABLED": "true"}) as base_url:
        yield Server(base_url)


async def test_admin_sees_the_nps_chart_and_figures(nps_server: Server, browser: Browser) -> None:
    page, errors = await open_reports(browser, nps_server)
    section = page.locator(".oc-admin[data-view='reports']")
    await expect(section.locator(".oc-reports-row")).to_have_count(31, timeout=UI_TIMEOUT_MS)
    figure = section.locator(".oc-reports-nps-figure")
    await expect(figure).to_be_visible()
    assert await section.locator("canvas.oc-reports-nps").evaluate(DRAWN_JS), "blank NPS chart"
    totals = section.locator(".oc-reports-totals")
    await expect(totals).to_contain_text("30 (5 promoters, 3 passives, 2 detractors")
    await expect(totals).to_contain_text("10 of 12 answered")
    assert not errors, errors
