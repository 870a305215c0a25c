"""An admin imports contacts from a CSV in the console, end to end in headless Chromium
against the real service: the file goes up, the service's worker runs it in batches, the
progress bar reaches 100% with the counts, the rows that failed are listed with their
reasons, and the export downloads what was imported."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_admin_people import admin_console
from tests.e2e.test_webchat_console import UI_TIMEOUT_MS

if TYPE_CHECKING:
    from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e
ROWS = 600  # more than two batches, so the bar moves
DONE_TIMEOUT_MS = 60_000


async def test_admin_imports_a_csv_and_sees_progress_and_row_errors(
    server: Server, browser: Browser, shots_dir: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    lines = ["Name,Email,Phone,Tags"]
    lines += [f"Person {i},p{i}-{marker}@e2e.test,,csv-{marker}" for i in range(ROWS)]
    lines.insert(101, f"Nobody {marker},,,")
    lines.insert(301, f"Broken {marker},not-an-address,,")
    body = ("\n".join(lines) + "\n").encode()

    page = await admin_console(browser, server, "contacts_csv")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    section = page.locator(".oc-admin[data-view='contacts_csv']")
    await section.locator(".oc-csv-file").set_input_files(
        files=[{"name": f"people-{marker}.csv", "mimeType": "text/csv", "buffer": body}]
    )
    await section.get_by_role("button", name="Import").click()

    progress = section.locator(".oc-csv-progress")
    await expect(section.locator(".oc-csv-job")).to_have_attribute(
        "data-status", "done", timeout=DONE_TIMEOUT_MS
    )
    total = ROWS + 2
    await expect(progress).to_have_js_property("max", total)
    await expect(progress).to_have_js_property("value", total)
    status = section.locator(".oc-csv-status")
    await expect(status).to_contain_text(f"Done: {total} of {total} rows (100%)")
    await expect(status).to_contain_text(f"{ROWS} created, 0 updated, 0 unchanged, 2 failed")
    failed = section.locator(".oc-csv-error-row")
    await expect(failed).to_have_count(2)
    await expect(failed.nth(0)).to_contain_text("no email address or phone number")
    await expect(failed.nth(0)).to_contain_text(f"Nobody {marker}")
    await expect(failed.nth(1)).to_contain_text("must be an email address")
    await page.screenshot(path=str(shots_dir / "console-admin-contacts-csv.png"))

    await section.get_by_label("Tag").fill(f"csv-{marker}")
    async with page.expect_download(timeout=UI_TIMEOUT_MS) as waiting:
        await section.get_by_role("button", name="Export CSV").click()
    download = await waiting.value
    exported = Path(await download.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(exported) == ROWS + 1
    assert f"p0-{marker}@e2e.test" in exported[1]
    assert errors == []
