"""Message search latency at a million messages, on SQLite (FTS5) and PostgreSQL.

Builds a fresh database per backend through the real migrations, bulk-loads generated
messages (words drawn from a Zipf distribution over a 50k-word vocabulary, 4-40 words
each, 20 messages per conversation, 5% internal notes) plus fixed needle words planted in
1, 10, 100, 1,000 and 10,000 messages, then times ``search_messages`` (the code behind
``GET /api/v1/search``, limit 20) one query at a time over ~200 queries of varied
selectivity: needles, the most common words (matching most rows: the ranked set is capped
at the newest ``CANDIDATES`` matches), mid and rare words, two-word AND queries, prefixes
and words that match nothing.

    python bench/message_search.py                      # 1,000,000 messages, both backends
    python bench/message_search.py --messages 100000 --backends sqlite

PostgreSQL uses ``--pg-url`` (default ``$OMNIDESK_BENCH_DATABASE_URL``, else the
``$OMNIDESK_TEST_DATABASE_URL`` database), whose public schema is DROPPED and rebuilt.
Prints a table and writes JSON (default bench/results/message_search.json).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ROOT, pct, table, write_result
from omnidesk.bot.migrate import upgrade
from omnidesk.db import create_engine, sessionmaker
from omnidesk.helpdesk.search import CANDIDATES, search_messages

PER_CONVERSATION = 20
NEEDLES = (1, 10, 100, 1000, 10000)
SEED = 8
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
BASE_TEXT = (
    "refund order invoice parcel delivery account password login payment card charge "
    "subscription cancel upgrade plan price discount coupon shipping tracking address "
    "email phone support agent ticket issue problem error broken missing late wrong help "
    "please thanks hello question answer update change reset verify code app website "
    "checkout cart product return exchange warranty damaged size color stock "
)
SYLLABLE_TEXT = "ka lo mi ne ru sa te vi do fa gu hi jo ke li mo nu pe qu ra si to ve wa xo yu ze"


def vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    """Real support words first (the most frequent), then made-up words for the tail."""
    words = list(dict.fromkeys(BASE_TEXT.split()))
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLE_TEXT.split(), size=int(rng.integers(2, 5))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def generate(n: int, vocab: list[str], rng: np.random.Generator) -> Iterator[list[str]]:
    """``n`` messages as word lists, in chunks of at most 50k (numpy draws in bulk)."""
    ranks = np.arange(1, len(vocab) + 1)
    weights = 1.0 / ranks**1.07
    weights /= weights.sum()
    vocab_arr = np.array(vocab, dtype=object)
    for start in range(0, n, 50_000):
        count = min(50_000, n - start)
        lengths = rng.integers(4, 41, size=count)
        draws = vocab_arr[rng.choice(len(vocab), size=int(lengths.sum()), p=weights)]
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        for i in range(count):
            yield list(draws[bounds[i] : bounds[i + 1]])


def plant_needles(n: int, rng: np.random.Generator) -> dict[int, list[str]]:
    """Message index -> needle words to add: ``needle<k>`` appears in ``k`` messages."""
    planted: dict[int, list[str]] = {}
    for k in NEEDLES:
        if k > n:
            continue
        for index in rng.choice(n, size=k, replace=False):
            planted.setdefault(int(index), []).append(f"needle{k}")
    return planted


def message_rows(n: int, seed: int) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """The vocabulary, and ``(conversation_id, author, private, text, created_at)`` rows."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary(50_000, rng)
    planted = plant_needles(n, rng)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def rows() -> Iterator[tuple[Any, ...]]:
        for i, words in enumerate(generate(n, vocab, rng)):
            words = words + planted.get(i, [])
            private = i % 20 == 7
            author = "agent" if private or i % 3 == 1 else "contact"
            created = start + dt.timedelta(seconds=i * 30)
            text = " ".join(words).capitalize() + "."
            yield (i // PER_CONVERSATION + 1, author, private, text, created)

    return vocab, rows()


def queries(vocab: list[str], n: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """``(kind, query)`` pairs, about 200, from very broad to matching nothing."""
    mid, rare = vocab[200:2000], vocab[10_000:50_000]
    out: list[tuple[str, str]] = []
    out += [("needle", f"needle{k} ") for k in NEEDLES if k <= n for _ in range(5)]
    out += [("common", vocab[i] + " ") for i in range(25)]
    out += [("mid", str(w) + " ") for w in rng.choice(mid, 30)]
    out += [("rare", str(w) + " ") for w in rng.choice(rare, 30)]
    out += [("two_common", f"{vocab[i]} {vocab[i + 1]} ") for i in range(0, 50, 2)]
    out += [("two_mid", f"{a} {b} ") for a, b in rng.choice(mid, (25, 2))]
    out += [("prefix", str(w)[:4]) for w in rng.choice(vocab[:3000], 25)]
    out += [("nomatch", f"zzq{i}xv ") for i in range(10)]
    return out


def load_sqlite(path: Path, rows: Iterator[tuple[Any, ...]], n: int) -> None:
    """One big transaction through the FTS triggers, as the service writes rows."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB: the FTS segment merges stay in memory
    conversations = (n + PER_CONVERSATION - 1) // PER_CONVERSATION
    # SQLAlchemy's SQLite datetime format: UTC, no zone suffix.
    now = "2026-01-01 00:00:00.000000"
    with conn:
        conn.executemany(
            "INSERT INTO contacts (id, name, attributes, created_at) VALUES (?, ?, '{}', ?)",
            ((i, f"Customer {i}", now) for i in range(1, conversations + 1)),
        )
        conn.executemany(
            "INSERT INTO channel_identities (id, contact_id, channel, external_id, created_at)"
            " VALUES (?, ?, 'webchat', ?, ?)",
            ((i, i, f"v{i}", now) for i in range(1, conversations + 1)),
        )
        conn.executemany(
            "INSERT INTO conversations (id, contact_id, identity_id, channel, thread_key, state,"
            " priority, low_confidence_streak, created_at, updated_at)"
            " VALUES (?, ?, ?, 'webchat', '', 'resolved', 'normal', 0, ?, ?)",
            ((i, i, i, now, now) for i in range(1, conversations + 1)),
        )
        conn.executemany(
            "INSERT INTO messages (conversation_id, author, private, text, payload, created_at)"
            " VALUES (?, ?, ?, ?, '{}', ?)",
            ((c, a, p, t, created.strftime(SQLITE_TIME)) for c, a, p, t, created in rows),
        )
    conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
    conn.execute("ANALYZE")
    conn.close()


def _pg_index_sql() -> str:
    """The GIN index statement of migration 0005, so the bench builds the same index."""
    path = ROOT / "omnidesk" / "migrations" / "versions" / "0005_search.py"
    spec = importlib.util.spec_from_file_location("search_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(s for s in module.PG_UPGRADE if "ix_messages_search_vector" in s)


async def load_postgres(dsn: str, rows: Iterator[tuple[Any, ...]], n: int) -> None:
    """COPY in; the GIN index is dropped for the load and built again after (as a bulk
    import would), then the tables are analysed."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        conversations = (n + PER_CONVERSATION - 1) // PER_CONVERSATION
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        ids = range(1, conversations + 1)
        await conn.copy_records_to_table(
            "contacts",
            records=[(i, f"Customer {i}", "{}", now) for i in ids],
            columns=["id", "name", "attributes", "created_at"],
        )
        await conn.copy_records_to_table(
            "channel_identities",
            records=[(i, i, "webchat", f"v{i}", now) for i in ids],
            columns=["id", "contact_id", "channel", "external_id", "created_at"],
        )
        await conn.copy_records_to_table(
            "conversations",
            records=[(i, i, i, "webchat", "", "resolved", "normal", 0, now, now) for i in ids],
            columns=[
                "id", "contact_id", "identity_id", "channel", "thread_key", "state",
                "priority", "low_confidence_streak", "created_at", "updated_at",
            ],
        )  # fmt: skip
        await conn.execute("DROP INDEX ix_messages_search_vector")
        await conn.copy_records_to_table(
            "messages",
            records=((c, a, p, t, "{}", created) for c, a, p, t, created in rows),
            columns=["conversation_id", "author", "private", "text", "payload", "created_at"],
        )
        await conn.execute("SET maintenance_work_mem = '256MB'")
        await conn.execute(_pg_index_sql())
        await conn.execute("VACUUM ANALYZE messages")
    finally:
        await conn.close()


async def measure(url: str, pool: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per query kind: p50/p99/max milliseconds and the mean number of hits."""
    engine = create_engine(url)
    try:
        maker = sessionmaker(engine)
        times: dict[str, list[float]] = {}
        hits: dict[str, list[int]] = {}
        async with maker() as session:
            for _, query in pool[:10]:  # warm the caches and the connection
                await search_messages(session, query, limit=20)
            for kind, query in pool:
                started = time.perf_counter()
                found = await search_messages(session, query, limit=20)
                times.setdefault(kind, []).append(time.perf_counter() - started)
                hits.setdefault(kind, []).append(len(found))
    finally:
        await engine.dispose()
    every = [t for values in times.values() for t in values]
    rows = [_row(kind, values, hits[kind]) for kind, values in times.items()]
    return [*rows, _row("all", every, [h for v in hits.values() for h in v])]


def _row(kind: str, values: list[float], hits: list[int]) -> dict[str, Any]:
    return {
        "kind": kind,
        "queries": len(values),
        "hits": sum(hits) / len(hits),
        "p50_ms": pct(values, 50) * 1000,
        "p99_ms": pct(values, 99) * 1000,
        "max_ms": max(values) * 1000,
    }


async def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    vocab, rows = message_rows(args.messages, SEED)
    pool = queries(vocab, args.messages, np.random.default_rng(SEED + 1))
    if backend == "sqlite":
        path = tmp / "search.sqlite"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = args.pg_url
        from tests.conftest import reset_postgres

        await reset_postgres(url)
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    started = time.perf_counter()
    if backend == "sqlite":
        await asyncio.to_thread(load_sqlite, path, rows, args.messages)
    else:
        await load_postgres(url.replace("+asyncpg", ""), rows, args.messages)
    load_s = time.perf_counter() - started
    print(f"{backend}: loaded {args.messages:,} messages in {load_s:.0f} s", flush=True)
    load_before = os.getloadavg()[0]
    rows = await measure(url, pool)
    # The machine may be shared: the load average says how much of it the figures had.
    load = (load_before + os.getloadavg()[0]) / 2
    print(f"{backend}: measured with a load average of about {load:.1f}", flush=True)
    return {"backend": backend, "load_s": load_s, "load_average": load, "rows": rows}


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            results.append(await run_backend(backend, args, Path(tmp)))
    return results


def main() -> None:
    default_pg = os.environ.get(
        "OMNIDESK_BENCH_DATABASE_URL", os.environ.get("OMNIDESK_TEST_DATABASE_URL", "")
    )
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument(
        "--backends", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--pg-url", default=default_pg, help="a database this bench may wipe")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if "postgresql" in args.backends and not args.pg_url:
        parser.error("PostgreSQL needs --pg-url or $OMNIDESK_BENCH_DATABASE_URL")
    results = asyncio.run(main_async(args))
    columns = [
        ("backend", "backend", "s"),
        ("kind", "queries", "s"),
        ("queries", "n", "d"),
        ("hits", "hits", ".1f"),
        ("p50_ms", "p50 ms", ".1f"),
        ("p99_ms", "p99 ms", ".1f"),
        ("max_ms", "max ms", ".1f"),
    ]
    flat = [{"backend": r["backend"], **row} for r in results for row in r["rows"]]
    cores = os.cpu_count()
    print(f"\nmessage search, {args.messages:,} messages, limit 20, ranked set <= {CANDIDATES}")
    for r in results:
        print(
            f"{r['backend']}: bulk load {r['load_s']:.0f} s, measured at load average"
            f" {r['load_average']:.1f} on {cores} cores"
        )
    print(table(flat, columns))
    data = {"messages": args.messages, "candidates": CANDIDATES, "results": results}
    path = write_result("message_search", data, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
