"""Web chat answer latency: N concurrent visitors over WebSockets against a real server
on loopback, next to the cost of query embedding plus index search alone, in one run.

    python bench/chat_latency.py --visitors 1 8 32 --questions 20

Prints a table and writes JSON (default bench/results/chat_latency.json).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import pct
from bench._server import running_server

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "omnidesk" / "knowledge" / "sample" / "eval.csv"


def questions() -> list[str]:
    with EVAL.open(newline="") as fh:
        return [row["question"] for row in csv.DictReader(fh)]


async def visitor(
    session: aiohttp.ClientSession, base: str, asks: list[str], latencies: list[float]
) -> int:
    lost = 0
    ws_url = base.replace("http", "ws", 1) + "/webchat/ws"
    ws = await session.ws_connect(ws_url)
    await ws.send_json({"type": "hello", "token": None})
    await ws.receive_json(timeout=30)
    for text in asks:
        started = time.perf_counter()
        await ws.send_json({"type": "message", "id": str(uuid.uuid4()), "text": text})
        try:
            while True:
                frame = await ws.receive_json(timeout=30)
                if frame["type"] == "message" and frame["message"]["author"] in ("bot", "system"):
                    latencies.append(time.perf_counter() - started)
                    if frame["message"]["author"] == "system":
                        # Handed to a person: the bot is silent now, so start a new visitor.
                        await ws.close()
                        ws = await session.ws_connect(ws_url)
                        await ws.send_json({"type": "hello", "token": None})
                        await ws.receive_json(timeout=30)
                    break
        except TimeoutError:
            lost += 1
    await ws.close()
    return lost


async def load(base: str, n: int, per_visitor: int, pool: list[str]) -> dict[str, Any]:
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        lost = await asyncio.gather(
            *(
                visitor(
                    session,
                    base,
                    [pool[(i * per_visitor + j) % len(pool)] for j in range(per_visitor)],
                    latencies,
                )
                for i in range(n)
            )
        )
        elapsed = time.perf_counter() - started
    return {
        "visitors": n,
        "answered": len(latencies),
        "lost": sum(lost),
        "p50_ms": pct(latencies, 50) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
        "answers_per_s": len(latencies) / elapsed,
    }


async def search_alone(data_dir: Path, pool: list[str]) -> dict[str, Any]:
    from omnidesk.bot.services import Services
    from omnidesk.config import Settings

    settings = Settings(data_dir=data_dir)
    async with Services(settings, workers=False) as svc:
        await svc.kb.search(pool[0])
        times = []
        for q in pool:
            started = time.perf_counter()
            await svc.kb.search(q, k=5)
            times.append(time.perf_counter() - started)
    return {"p50_ms": pct(times, 50) * 1000, "p99_ms": pct(times, 99) * 1000, "n": len(times)}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    pool = questions()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        with running_server(data_dir) as base:
            # One warm-up exchange so model loading is not measured.
            await load(base, 1, 2, pool)
            rows = [await load(base, n, args.questions, pool) for n in args.visitors]
            alone = await search_alone(data_dir, pool)
    return {"chat": rows, "embed_plus_search": alone}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--questions", type=int, default=10, help="questions per visitor")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "chat_latency.json"
    )
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    alone = result["embed_plus_search"]
    print(f"{'visitors':>8} {'answered':>8} {'lost':>5} {'p50 ms':>8} {'p99 ms':>8} {'ans/s':>7}")
    for row in result["chat"]:
        print(
            f"{row['visitors']:>8} {row['answered']:>8} {row['lost']:>5} "
            f"{row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['answers_per_s']:>7.1f}"
        )
    print(
        f"query embedding + search alone (n={alone['n']}): "
        f"p50 {alone['p50_ms']:.1f} ms, p99 {alone['p99_ms']:.1f} ms"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
