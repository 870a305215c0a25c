"""Helpers for the widget's browser tests: axe-core injected into a page, and a
business's own site (another origin) that embeds the widget with one script tag."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from playwright.async_api import Browser, Page

if TYPE_CHECKING:
    from tests.e2e.conftest import Server

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# WCAG 2.0-2.2 A and AA, plus axe's best practices (landmarks, heading order, ...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


async def axe_violations(
    page: Page, include: str | None = None, known: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """What axe-core finds on ``page`` (or inside the ``include`` selector), less the
    ``known`` ones (rule id -> the element's selector), each left for its owner to fix."""
    await page.add_script_tag(content=AXE.read_text())
    context = json.dumps({"include": [include]} if include else {"exclude": []})
    found: list[dict[str, Any]] = await page.evaluate(
        f"""async (known) => {{
            const result = await axe.run({context}, {{
                runOnly: {{ type: "tag", values: {json.dumps(AXE_TAGS)} }},
            }});
            const skipped = (rule, node) => {{
                const element = known[rule] && document.querySelector(node.target[0]);
                return Boolean(element && element.matches(known[rule]));
            }};
            return result.violations.map((v) => ({{
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes
                    .filter((n) => !skipped(v.id, n))
                    .map((n) => n.target.join(" ") + " :: " + n.failureSummary),
            }}));
        }}""",
        known or {},
    )
    return [v for v in found if v["nodes"]]


def report(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=1)


async def new_page(browser: Browser, **options: Any) -> Page:
    # The app's CSP forbids inline scripts, as it should; axe is injected past it.
    context = await browser.new_context(
        viewport={"width": 1280, "height": 860}, bypass_csp=True, **options
    )
    return await context.new_page()


HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>A shop</h1><p>Nothing to click before the chat.</p></main>
<script src="{widget}" {attributes} defer></script></body></html>"""


@contextlib.asynccontextmanager
async def business_site(server: Server, attributes: str = "") -> AsyncIterator[str]:
    """A business's own site on another origin, embedding the widget with one script tag
    (``attributes`` added to it); yields its address."""
    html = HOST_PAGE.format(widget=server.url("/webchat/widget.js"), attributes=attributes)
    app = web.Application()
    app.router.add_get("/", lambda _: web.Response(text=html, content_type="text/html"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()
