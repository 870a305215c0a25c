"""Contact import rate from CSV, on SQLite and PostgreSQL: the real job
(``omnidesk.helpdesk.contacts_csv.run_import``: parse, clean every cell through
``actions.fields``, match by email then phone, write in batches with progress) over a
generated file of N contacts (name, email, phone, company, two tags, notes, a typed
attribute), three times: into an empty book (all created), the same file again (all
unchanged) and the file with every name changed (all updated).

    python bench/contacts_import.py --rows 5000
    python bench/contacts_import.py --pg-url postgresql+asyncpg://postgres@127.0.0.1/bench

The PostgreSQL database's public schema is DROPPED and rebuilt through the migrations.
Prints a table and writes JSON (default bench/results/contacts_import.json).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import table, write_result
from omnidesk.bot.migrate import upgrade
from omnidesk.db import create_engine, sessionmaker
from omnidesk.helpdesk import SYSTEM, Actor, actions, unit_of_work
from omnidesk.helpdesk.contacts_csv import attribute_definitions, parse, run_import
from omnidesk.helpdesk.models import AgentRole, AttributeDefinition

BY = Actor("bench", role=AgentRole.ADMIN)
assert BY is not SYSTEM  # the audit entry is written, as for a person


def generate(rows: int, suffix: str = "") -> str:
    lines = ["name,email,phone,company,tags,notes,plan"]
    for i in range(rows):
        lines.append(
            f"Customer {i}{suffix},customer{i}@bench.example.com,+4420794{i:05d},"
            f'Company {i % 97},"tier-{i % 3}; region-{i % 7}",Met at the fair in {2000 + i % 25},'
            f"{('free', 'pro')[i % 2]}"
        )
    return "\n".join(lines) + "\n"


async def one_run(maker: Any, text: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    async with maker() as session:
        sheet = parse(text.encode(), await attribute_definitions(session))
    async with unit_of_work(maker) as session:
        job = await actions.queue_contact_import(
            session, filename="bench.csv", content=text, total=len(sheet.rows), by=BY
        )
    result = await run_import(maker, None, job.id)
    assert result is not None and result["status"] == "done", result
    return result, time.perf_counter() - started


async def bench(backend: str, url: str, rows: int) -> list[dict[str, Any]]:
    if backend == "postgresql":
        from tests.conftest import reset_postgres

        await reset_postgres(url)
    engine = create_engine(url)
    await upgrade(engine)
    maker = sessionmaker(engine)
    async with unit_of_work(maker) as session:
        session.add(
            AttributeDefinition(key="plan", label="Plan", type="list", options=["free", "pro"])
        )
    out = []
    try:
        for name, text, expect in (
            ("empty book: created", generate(rows), "created"),
            ("same file: unchanged", generate(rows), "unchanged"),
            ("names changed: updated", generate(rows, " (new)"), "updated"),
        ):
            result, seconds = await one_run(maker, text)
            assert result[expect] == rows, result
            out.append(
                {
                    "backend": backend,
                    "run": name,
                    "rows": rows,
                    "seconds": seconds,
                    "rows_per_s": rows / seconds,
                }
            )
            print(f"{backend} {name}: {rows / seconds:.0f} rows/s", flush=True)
    finally:
        await engine.dispose()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--pg-url", default=os.environ.get("OMNIDESK_BENCH_PG_URL"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        results += await bench("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.rows)
    if args.pg_url:
        results += await bench("postgresql", args.pg_url, args.rows)
    columns = [
        ("backend", "backend", ""),
        ("run", "run", ""),
        ("rows", "rows", "d"),
        ("seconds", "seconds", ".2f"),
        ("rows_per_s", "rows/s", ".0f"),
    ]
    print(table(results, columns))
    path = write_result("contacts_import", {"results": results}, args.out)
    print(f"written to {path}")


if __name__ == "__main__":
    asyncio.run(main())
