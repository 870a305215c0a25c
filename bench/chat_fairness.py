"""Fairness under a flood: an unrelated web chat visitor's answer time, quiet and while
many flooding visitors each push a burst of messages without waiting for answers, in
one run against a real server on loopback.

    python bench/chat_fairness.py --flooders 50 --burst 20

The target (issue 12): the unrelated visitor's p50 during the flood at most 2x its quiet
p50. Prints a table and writes JSON (default bench/results/chat_fairness.json).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import pct, table, write_result
from bench._server import running_server
from bench.chat_latency import questions, visitor


async def flooder(session: aiohttp.ClientSession, base: str, burst: int, text: str) -> int:
    """One visitor sending ``burst`` messages at once; returns how many were acked."""
    ws = await session.ws_connect(base.replace("http", "ws", 1) + "/webchat/ws")
    await ws.send_json({"type": "hello", "token": None})
    await ws.receive_json(timeout=60)
    for i in range(burst):
        await ws.send_json({"type": "message", "id": uuid.uuid4().hex, "text": f"{text} {i}"})
    acked = 0
    deadline = time.monotonic() + 120
    while acked < burst and time.monotonic() < deadline:
        try:
            frame = await ws.receive_json(timeout=5)
        except TimeoutError:
            break
        acked += frame.get("type") == "ack"
    await ws.close()
    return acked


async def victim(base: str, asks: list[str]) -> list[float]:
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        await visitor(session, base, asks, latencies)
    return latencies


async def measure(base: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    pool = questions()
    asks = pool[: args.questions]
    await victim(base, pool[-2:])  # warm-up: the model loads once
    quiet = await victim(base, asks)
    async with aiohttp.ClientSession() as session:
        flood = [
            asyncio.create_task(flooder(session, base, args.burst, pool[i % len(pool)]))
            for i in range(args.flooders)
        ]
        await asyncio.sleep(args.head_start)  # the flood is queued before the victim asks
        started = time.perf_counter()
        during = await victim(base, asks)
        victim_s = time.perf_counter() - started
        acked = sum(await asyncio.gather(*flood))
    rows = [_row("quiet", quiet), _row("during flood", during)]
    rows[1]["flood_messages_acked"] = acked
    rows[1]["victim_seconds"] = victim_s
    rows[1]["ratio_p50"] = rows[1]["p50_ms"] / rows[0]["p50_ms"] if rows[0]["p50_ms"] else None
    return rows


def _row(when: str, latencies: list[float]) -> dict[str, Any]:
    return {
        "when": when,
        "answers": len(latencies),
        "p50_ms": pct(latencies, 50) * 1000 if latencies else None,
        "p99_ms": pct(latencies, 99) * 1000 if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flooders", type=int, default=50)
    parser.add_argument("--burst", type=int, default=20, help="messages per flooder")
    parser.add_argument("--questions", type=int, default=5, help="the victim's questions")
    parser.add_argument("--head-start", type=float, default=2.0, help="seconds of flood first")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "data") as base:
        rows = asyncio.run(measure(base, args))
    columns = [
        ("when", "when", "s"),
        ("answers", "answers", "d"),
        ("p50_ms", "p50 ms", ".0f"),
        ("p99_ms", "p99 ms", ".0f"),
        ("ratio_p50", "p50 / quiet p50", ".2f"),
        ("flood_messages_acked", "flood acked", "d"),
    ]
    print(table(rows, columns))
    config = {"flooders": args.flooders, "burst": args.burst, "questions": args.questions}
    path = write_result("chat_fairness", {"config": config, "rows": rows}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
