"""Dense search latency without query embedding: exact vs HNSW (vs IVF for comparison).

At each size (default 10k, 100k and 1M chunks) on embedding-like vectors (noisy copies of
real embeddings, see bench/_vectors.py), one query at a time as the service searches:

- exact: VectorIndex below its threshold (IndexIDMap2 over IndexFlatIP);
- hnsw: VectorIndex past its threshold (IndexHNSWFlat, inner product), efSearch swept;
- hnsw+updates: the same after single-article updates (tombstones in the graph, vectors
  in the exact delta), with the cost of one article update (copy + remove + add);
- ivf: a raw faiss IndexIVFFlat (nlist ~ sqrt(n)), nprobe swept, for the choice only.

Each row has build time, memory (RSS growth while building, and bytes on disk as the
service persists it), p50/p99 latency of single queries at the service's search depth
(k=40), and recall@5 / recall@40 against exact search.

    python bench/search_latency.py --sizes 10000 100000 1000000

Prints a table and writes JSON (default bench/results/search_latency.json).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import pct, rss_mb, table, write_result
from bench._vectors import NoisyCopies, real_embeddings
from omnidesk.knowledge import get_embedder
from omnidesk.knowledge.index import IndexPolicy, VectorIndex

SERVICE_K = 40  # KnowledgeBase._rank asks the dense side for depth_for(k) = max(8k, 64) chunks


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def latencies(
    search: Callable[[np.ndarray], Any], queries: np.ndarray, budget_s: float
) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds per single-query call after a warm-up; stops early past ``budget_s``.

    On a shared machine the wall-clock tail holds preemptions by other processes; the
    thread's CPU time per query does not, so both are reported.
    """
    for q in queries[:10]:
        search(q[None, :])
    wall: list[float] = []
    cpu: list[float] = []
    started = time.perf_counter()
    for q in queries:
        t, c = time.perf_counter(), time.thread_time()
        search(q[None, :])
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - t)
        if time.perf_counter() - started > budget_s and len(wall) >= 50:
            break
    return wall, cpu


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = [len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits) / k)


def vi_ids(index: VectorIndex, queries: np.ndarray, k: int) -> np.ndarray:
    rows = index.search(queries, k)
    return np.array([[i for i, _ in r] + [-1] * (k - len(r)) for r in rows])


def disk_mb(index: VectorIndex) -> tuple[float, float]:
    """Size of the index as the service saves it, and the time the save took."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        index.save(Path(tmp), model="bench", fingerprint="0" * 64)
        took = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    return size / 2**20, took


def measured(
    label: str,
    build_s: float | None,
    mem: float | None,
    lat: tuple[list[float], list[float]],
    extra: dict[str, Any],
) -> dict[str, Any]:
    wall, cpu = lat
    return {
        "index": label,
        "build_s": build_s,
        "rss_mb": mem,
        "p50_ms": pct(wall, 50) * 1000,
        "p99_ms": pct(wall, 99) * 1000,
        "cpu_p99_ms": pct(cpu, 99) * 1000,
        "latency_n": len(wall),
        **extra,
    }


def run_size(
    n: int, data: np.ndarray, queries: np.ndarray, args: argparse.Namespace
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    build: float | None  # reported on the first row of a series only
    mem: float | None
    dim = data.shape[1]
    rq = queries[: args.recall_queries]
    lq = queries[args.recall_queries :][: args.latency_queries]
    x = data[:n]
    ids = np.arange(n, dtype=np.int64)

    def threads(count: int) -> None:
        faiss.omp_set_num_threads(count)

    # Exact: the ground truth, and the service's index below its threshold.
    threads(args.build_threads)
    gc.collect()
    before, started = rss_mb(), time.perf_counter()
    exact = VectorIndex(dim, IndexPolicy(approximate_from=10**12))
    exact.add(ids, x)
    build, mem = time.perf_counter() - started, rss_mb() - before
    truth = vi_ids(exact, rq, SERVICE_K)
    top = exact.search(rq, SERVICE_K)
    profile = {f"cos@{k}": float(np.mean([r[k - 1][1] for r in top])) for k in (1, 5, SERVICE_K)}
    log(f"{n}: exact built in {build:.1f}s; neighbour cosines {profile}")
    threads(args.threads)
    lat = latencies(functools.partial(exact.search, k=SERVICE_K), lq, args.exact_budget_s)
    size, save_s = disk_mb(exact)
    rows.append(
        measured(
            "exact",
            build,
            mem,
            lat,
            {
                "setting": "flat",
                "disk_mb": size,
                "save_s": save_s,
                "recall@5": 1.0,
                "recall@40": 1.0,
                **profile,
            },
        )
    )
    del exact
    gc.collect()

    # HNSW through VectorIndex, as the service holds it past the threshold.
    threads(args.build_threads)
    policy = IndexPolicy(
        approximate_from=1,
        hnsw_m=args.hnsw_m,
        hnsw_ef_construction=args.ef_construction,
        hnsw_ef_search=args.ef_search[0],
    )
    before, started = rss_mb(), time.perf_counter()
    hnsw = VectorIndex(dim, policy)
    hnsw.add(ids, x)
    build, mem = time.perf_counter() - started, rss_mb() - before
    log(f"{n}: hnsw built in {build:.1f}s")
    size, save_s = disk_mb(hnsw)
    for ef in args.ef_search:
        hnsw.policy = dataclasses.replace(policy, hnsw_ef_search=ef)
        threads(args.build_threads)
        found = vi_ids(hnsw, rq, SERVICE_K)
        threads(args.threads)
        lat = latencies(functools.partial(hnsw.search, k=SERVICE_K), lq, args.budget_s)
        rows.append(
            measured(
                "hnsw",
                build,
                mem,
                lat,
                {
                    "setting": f"M={args.hnsw_m} efC={args.ef_construction} ef={ef}",
                    "disk_mb": size,
                    "save_s": save_s,
                    "recall@5": recall(found, truth, 5),
                    "recall@40": recall(found, truth, SERVICE_K),
                },
            )
        )
        build = mem = None
    # Single-article updates: the same chunk ids get the same vectors again, so the
    # live set (and the ground truth) does not change while tombstones and delta grow.
    hnsw.policy = dataclasses.replace(policy, hnsw_ef_search=args.default_ef)
    rng = np.random.default_rng(1)
    updated = rng.choice(n, min(args.updates, n // 20), replace=False)
    per_update: list[float] = []
    for start in range(0, len(updated), 3):  # an article of three passages at a time
        chunk = updated[start : start + 3]
        t = time.perf_counter()
        changed = hnsw.copy()
        changed.remove(chunk)
        changed.add(chunk, x[chunk])
        per_update.append(time.perf_counter() - t)
        hnsw = changed
    # What the service also pays per article: saving delta + manifest (the base is on
    # disk already, written once per base generation).
    save_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        hnsw.save(Path(tmp), model="bench", fingerprint="1" * 64)
        for i in range(5):
            t = time.perf_counter()
            hnsw.save(Path(tmp), model="bench", fingerprint=f"{i:064d}")
            save_times.append(time.perf_counter() - t)
    threads(args.build_threads)
    found = vi_ids(hnsw, rq, SERVICE_K)
    threads(args.threads)
    lat = latencies(functools.partial(hnsw.search, k=SERVICE_K), lq, args.budget_s)
    rows.append(
        measured(
            "hnsw+updates",
            None,
            None,
            lat,
            {
                "setting": f"ef={args.default_ef} tomb={hnsw.tombstones} delta={hnsw.pending}",
                "recall@5": recall(found, truth, 5),
                "recall@40": recall(found, truth, SERVICE_K),
                "update_p50_ms": pct(per_update, 50) * 1000,
                "update_p99_ms": pct(per_update, 99) * 1000,
                "update_save_ms": pct(save_times, 50) * 1000,
            },
        )
    )
    log(f"{n}: {len(per_update)} article updates, p50 {pct(per_update, 50) * 1000:.2f} ms")
    del hnsw, changed
    gc.collect()

    # IVF (raw faiss) for the comparison only.
    if "ivf" in args.compare:
        threads(args.build_threads)
        nlist = max(16, int(np.sqrt(n)))
        before, started = rss_mb(), time.perf_counter()
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        train = x[np.random.default_rng(2).choice(n, min(n, 40 * nlist), replace=False)]
        ivf.train(train)
        ivf.add_with_ids(x, ids)
        build, mem = time.perf_counter() - started, rss_mb() - before
        log(f"{n}: ivf{nlist} built in {build:.1f}s")
        for nprobe in args.nprobe:
            ivf.nprobe = nprobe
            threads(args.build_threads)
            found = ivf.search(rq, SERVICE_K)[1]
            threads(args.threads)
            lat = latencies(functools.partial(ivf.search, k=SERVICE_K), lq, args.budget_s)
            rows.append(
                measured(
                    "ivf (raw)",
                    build,
                    mem,
                    lat,
                    {
                        "setting": f"nlist={nlist} nprobe={nprobe}",
                        "recall@5": recall(found, truth, 5),
                        "recall@40": recall(found, truth, SERVICE_K),
                    },
                )
            )
            build = mem = None
        del ivf
        gc.collect()
    for row in rows:
        row["size"] = n
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--recall-queries", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1, help="faiss threads while timing")
    parser.add_argument("--build-threads", type=int, default=2)
    default = IndexPolicy()
    parser.add_argument("--hnsw-m", type=int, default=default.hnsw_m)
    parser.add_argument("--ef-construction", type=int, default=default.hnsw_ef_construction)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--default-ef", type=int, default=default.hnsw_ef_search)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--compare", nargs="*", default=["ivf"])
    parser.add_argument("--updates", type=int, default=3000, help="chunks updated, 3 at a time")
    parser.add_argument("--budget-s", type=float, default=20.0, help="per latency series")
    parser.add_argument("--exact-budget-s", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    load_start = os.getloadavg()
    embedder = get_embedder()
    real = real_embeddings(embedder)
    gen = NoisyCopies(real, seed=args.seed)
    # What real questions get from real passages, for comparison with the synthetic profile.
    real_top = np.sort(real.questions @ real.passages.T, axis=1)[:, ::-1]
    real_profile = {f"cos@{k}": float(real_top[:, k - 1].mean()) for k in (1, 5, SERVICE_K)}
    log(f"{len(real.passages)} real passages, {len(real.questions)} questions: {real_profile}")
    data = gen.points(max(args.sizes))
    queries = gen.queries(args.recall_queries + args.latency_queries)
    log(f"generated {len(data)} vectors, RSS {rss_mb():.0f} MiB")

    rows: list[dict[str, Any]] = []
    for n in sorted(args.sizes):
        rows += run_size(n, data, queries, args)

    result = {
        "k": SERVICE_K,
        "load_average_start": load_start,
        "threads": args.threads,
        "generator": gen.params,
        "real_profile": real_profile,
        "policy_default": dataclasses.asdict(IndexPolicy()),
        "load_average_end": os.getloadavg(),
        "rows": rows,
        "seconds": time.perf_counter() - started,
    }
    columns = [
        ("size", "chunks", ",d"),
        ("index", "index", ""),
        ("setting", "setting", ""),
        ("build_s", "build s", ".1f"),
        ("rss_mb", "RSS+ MiB", ".0f"),
        ("disk_mb", "disk MiB", ".0f"),
        ("p50_ms", "p50 ms", ".3f"),
        ("p99_ms", "p99 ms", ".3f"),
        ("cpu_p99_ms", "cpu p99", ".3f"),
        ("recall@5", "R@5", ".3f"),
        ("recall@40", "R@40", ".3f"),
        ("update_p50_ms", "upd ms", ".2f"),
        ("update_save_ms", "save ms", ".1f"),
    ]
    print(
        f"single-query dense search, k={SERVICE_K}, {args.threads} faiss thread(s); "
        f"real profile {', '.join(f'{k} {v:.3f}' for k, v in real_profile.items())}"
    )
    print(table(rows, columns))
    for n in sorted(args.sizes):
        exact = next(r for r in rows if r["size"] == n and r["index"] == "exact")
        print(
            f"{n:>9,d} synthetic neighbour cosines: "
            + ", ".join(f"{k} {exact[k]:.3f}" for k in ("cos@1", "cos@5", f"cos@{SERVICE_K}"))
        )
    path = write_result("search_latency", result, args.out)
    print(f"load average (1/5/15 min) at start {load_start}, at end {result['load_average_end']}")
    print(f"took {result['seconds']:.0f} s; wrote {path}")


if __name__ == "__main__":
    main()
