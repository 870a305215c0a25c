"""Console latency: time from a customer's web chat message to its appearance in a
signed-in agent's console (``/console`` in headless Chromium, live over ``/api/v1/live``),
with 1 and 4 ``omnidesk serve`` processes on one PostgreSQL database.

    python bench/console_latency.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

The database's public schema is emptied first. Visitors connect round-robin to every
process, the agent's browser to the first, so with several processes most messages cross
processes through LISTEN/NOTIFY. Each visitor first asks for a person (the bot stays
silent after that), then sends its messages one at a time; a message counts once the
console's page shows it (the All view's last-message line, through the live socket and the
list's refresh). Prints a table and writes JSON (default
bench/results/console_latency.json).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import pct, table, write_result
from bench._server import running_server, sign_in

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_S = 15.0

# Watches the real console for customer messages: each "bench <hex>" text that shows up
# anywhere on the page (the list's last-message line, the open conversation) is handed to
# the benchmark once.
OBSERVE_JS = """
() => {
  const seen = new Set();
  const scan = (node) => {
    const text = node.textContent || "";
    for (const m of text.matchAll(/bench [0-9a-f]{32}/g)) {
      if (!seen.has(m[0])) { seen.add(m[0]); window.arrived(m[0]); }
    }
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "characterData") scan(r.target);
      for (const n of r.addedNodes) scan(n);
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}
"""


async def reset_schema(url: str) -> None:
    from sqlalchemy import text

    from omnidesk.db import create_engine

    engine = create_engine(url, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def visitor(
    session: aiohttp.ClientSession,
    base: str,
    messages: int,
    waiting: dict[str, asyncio.Future[float]],
    latencies: dict[str, list[float]],
) -> int:
    """One customer: asks for a person, then sends and times each message (to the agent's
    browser, and to its own echo: the message stored); returns how many were lost."""
    ws = await session.ws_connect(base.replace("http", "ws", 1) + "/webchat/ws")
    await ws.send_json({"type": "hello", "token": None})
    await ws.receive_json(timeout=30)
    await ws.send_json({"type": "message", "id": uuid.uuid4().hex, "text": "I want a human"})
    while True:  # the handoff notice: from now on every message goes to people only
        frame = await ws.receive_json(timeout=60)
        if frame["type"] == "message" and frame["message"]["author"] == "system":
            break
    lost = 0
    loop = asyncio.get_running_loop()
    for _ in range(messages):
        text = f"bench {uuid.uuid4().hex}"
        arrived = waiting[text] = loop.create_future()
        started = time.perf_counter()
        await ws.send_json({"type": "message", "id": uuid.uuid4().hex, "text": text})
        try:
            async with asyncio.timeout(TIMEOUT_S):
                while True:
                    frame = await ws.receive_json()
                    if frame["type"] == "message" and frame["message"]["text"] == text:
                        latencies["stored"].append(time.perf_counter() - started)
                        break
                latencies["browser"].append(await arrived - started)
        except TimeoutError:
            lost += 1
        waiting.pop(text, None)
    await ws.close()
    return lost


async def measure(bases: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    waiting: dict[str, asyncio.Future[float]] = {}
    latencies: dict[str, list[float]] = {"browser": [], "stored": []}

    def arrived(text: str) -> None:
        future = waiting.get(text)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page()
            await page.expose_function("arrived", arrived)
            # Signed in as the bench admin: the socket rides on the session cookie.
            cookie, _ = await asyncio.to_thread(sign_in, bases[0])
            await page.context.add_cookies(
                [{"name": "omnidesk_session", "value": cookie, "url": bases[0]}]
            )
            await open_console(page, bases[0])
            async with aiohttp.ClientSession() as session:
                lost = await asyncio.gather(
                    *(
                        visitor(session, bases[i % len(bases)], args.messages, waiting, latencies)
                        for i in range(args.visitors)
                    )
                )
        finally:
            with contextlib.suppress(Exception):
                await browser.close()
    shown, stored = latencies["browser"], latencies["stored"]
    return {
        "processes": len(bases),
        "visitors": args.visitors,
        "messages": len(shown),
        "lost": sum(lost),
        "p50_ms": _ms(pct(shown, 50)) if shown else None,
        "p99_ms": _ms(pct(shown, 99)) if shown else None,
        "max_ms": _ms(max(shown)) if shown else None,
        # The inbox and router's share: until the visitor's own tab shows it stored.
        "stored_p50_ms": _ms(pct(stored, 50)) if stored else None,
        "stored_p99_ms": _ms(pct(stored, 99)) if stored else None,
    }


async def open_console(page: Any, base: str) -> None:
    """The agent's console on the All view, its live socket up, watched for messages."""
    await page.goto(base + "/console")
    await page.locator('.oc-view-tab[data-view="all"]').click()
    await page.wait_for_function(
        "() => document.querySelector('.oc-live')?.dataset.state === 'live'", timeout=30_000
    )
    await page.evaluate(OBSERVE_JS)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def run(processes: int, args: argparse.Namespace) -> dict[str, Any]:
    await reset_schema(args.database_url)
    env = {
        "OMNIDESK_DATABASE_URL": args.database_url,
        # Visitor tokens must verify on every process.
        "OMNIDESK_SECRET_KEY": "bench-secret-key",
        "OMNIDESK_INBOX_WORKERS": "2",
    }
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        # The first start migrates and imports the sample articles; the rest join it at once.
        servers = [running_server(Path(tmp) / f"data{n}", env) for n in range(processes)]
        bases = [stack.enter_context(servers[0])]
        for server in servers[1:]:
            stack.push(server.__exit__)
        bases += await asyncio.gather(*(asyncio.to_thread(s.__enter__) for s in servers[1:]))
        return await measure(bases, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--visitors", type=int, default=4)
    parser.add_argument("--messages", type=int, default=10, help="timed messages per visitor")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("OMNIDESK_BENCH_DATABASE_URL")
        or os.environ.get("OMNIDESK_TEST_DATABASE_URL"),
        help="PostgreSQL (emptied first); default $OMNIDESK_BENCH_DATABASE_URL",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("a PostgreSQL --database-url is needed (the database is emptied)")
    rows = [asyncio.run(run(n, args)) for n in args.processes]
    columns = [
        ("processes", "processes", "d"),
        ("visitors", "visitors", "d"),
        ("messages", "messages", "d"),
        ("lost", "lost", "d"),
        ("p50_ms", "browser p50 ms", ".1f"),
        ("p99_ms", "browser p99 ms", ".1f"),
        ("stored_p50_ms", "stored p50 ms", ".1f"),
        ("stored_p99_ms", "stored p99 ms", ".1f"),
    ]
    print(table(rows, columns))
    path = write_result("console_latency", {"rows": rows}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
