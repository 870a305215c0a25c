"""Import throughput and answered questions per second, in process on a temp SQLite KB.

1. Embedding alone by batch size, passages and questions (are Embedder.batch_size and
   short_batch_size right for a CPU?).
2. Import: generated Markdown articles (sentences of the sample KB and the bank FAQ,
   each article unique) through KnowledgeBase.import_path: parse, chunk, embed, store,
   index, persist; chunks per second, embedding included.
3. Answers: KnowledgeBase.answer on the seeded sample KB, with the query batcher off
   (one model call per question), as it was before (timer-only flushes; copied below as
   LegacyQueryBatcher) and as it is now (continuous batching):
   - closed loop: 1, 8 and 64 concurrent asyncio askers, each asking again when answered;
   - open loop: questions arriving at 1.5x the unbatched rate (Poisson), as a busy
     service receives them.
   Questions are the eval questions made unique per ask, and the embedder's cache is
   off, so every question is really embedded.

    python bench/throughput.py

Prints tables and writes JSON (default bench/results/throughput.json).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import bank_dataset, pct, sample_dataset, sentences, table, temp_kb, write_result
from omnidesk.knowledge import (
    Embedder,
    KnowledgeBase,
    QueryBatcher,
    chunk_markdown,
    parse_markdown_article,
)


class LegacyQueryBatcher(QueryBatcher):
    """The batcher as it was: flush on a timer or when full, never waiting for the model.

    Kept here only to show the difference: while a batch runs, each ``max_wait`` window
    flushes a small batch that queues behind it on the embedder's single thread.
    """

    def __init__(self, embedder: Embedder, *, max_batch: int = 32, max_wait: float = 0.004):
        super().__init__(embedder, max_batch=max_batch, max_wait=max_wait)
        self._legacy_tasks: set[asyncio.Task[None]] = set()

    async def embed_query(self, text: str) -> np.ndarray:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._pending.append((text, future))
        if len(self._pending) >= self.max_batch:
            self._legacy_flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait, self._legacy_flush)
        return await future

    def _legacy_flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._legacy_run(batch))
            self._legacy_tasks.add(task)
            task.add_done_callback(self._legacy_tasks.discard)

    async def _legacy_run(self, batch: list[tuple[str, asyncio.Future[np.ndarray]]]) -> None:
        self.batches += 1
        self.queries += len(batch)
        vectors = await self.embedder.aencode([text for text, _ in batch])
        for i, (_, future) in enumerate(batch):
            future.set_result(vectors[i])

    async def aclose(self) -> None:
        self._legacy_flush()
        if self._legacy_tasks:
            await asyncio.gather(*self._legacy_tasks, return_exceptions=True)


def generated_articles(count: int, seed: int = 0) -> list[str]:
    """Markdown articles of 3 to 5 sections made of real support sentences, all distinct."""
    rng = random.Random(seed)
    pool: list[str] = []
    titles: list[str] = []
    for data in (sample_dataset(), bank_dataset()):
        for art in data.articles:
            pool += sentences(art.body)
            titles.append(art.title)
    out = []
    for i in range(count):
        title = f"{rng.choice(titles)} (model LX-{i})"
        parts = [f"---\ntitle: {title}\nslug: generated-{i}\n---\n"]
        for j in range(rng.randint(3, 5)):
            body = " ".join(rng.sample(pool, rng.randint(4, 9)))
            parts.append(f"## {rng.choice(titles)} — part {j + 1} of LX-{i}\n\n{body}\n")
        out.append("\n".join(parts))
    return out


def embedding_batches(
    embedder: Embedder, kind: str, texts: Sequence[str], sizes: Sequence[int], reps: int
) -> list[dict[str, Any]]:
    """Texts per wall second and per CPU second by batch size, best of ``reps``.

    Sizes are interleaved and repeated because other processes share the CPU; the rate
    per CPU second (this process, all threads) is what preemption does not distort.
    Passages use ``Embedder.batch_size``, short texts (questions) ``short_batch_size``.
    """
    attr = "batch_size" if kind == "passages" else "short_batch_size"
    default = getattr(embedder, attr)
    embedder.encode(texts[:8])  # warm-up
    wall: dict[int, float] = {}
    cpu: dict[int, float] = {}
    for _ in range(reps):
        for size in sizes:
            setattr(embedder, attr, size)
            started, cpu_started = time.perf_counter(), time.process_time()
            embedder.encode(texts)
            wall[size] = max(wall.get(size, 0.0), len(texts) / (time.perf_counter() - started))
            cpu[size] = max(cpu.get(size, 0.0), len(texts) / (time.process_time() - cpu_started))
    setattr(embedder, attr, default)
    return [
        {
            "texts": kind,
            "batch_size": s,
            "count": len(texts),
            "per_s": wall[s],
            "per_cpu_s": cpu[s],
            "default": s == default,
        }
        for s in sizes
    ]


class EncodeClock:
    """Adds up the time spent in the model (Embedder.encode) while it is installed."""

    def __init__(self, embedder: Embedder) -> None:
        self.seconds = 0.0
        self._embedder = embedder
        self._encode = embedder.encode

    def __enter__(self) -> EncodeClock:
        def timed(texts: Sequence[str]) -> np.ndarray:
            started = time.perf_counter()
            try:
                return self._encode(texts)
            finally:
                self.seconds += time.perf_counter() - started

        self._embedder.encode = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self._embedder.encode  # back to the class's method


async def import_throughput(embedder: Embedder, articles: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        for i, text in enumerate(articles):
            (folder / f"generated-{i}.md").write_text(text, encoding="utf-8")
        async with temp_kb(embedder) as kb:
            calls, encoded = embedder.encode_calls, embedder.texts_encoded
            started = time.perf_counter()
            with EncodeClock(embedder) as clock:
                report = await kb.import_path(folder, progress=False)
            took = time.perf_counter() - started
            chunks = kb.chunk_count
    return {
        "articles": len(report.created),
        "errors": len(report.errors),
        "chunks": chunks,
        "seconds": took,
        "chunks_per_s": chunks / took,
        "embedding_seconds": clock.seconds,
        "embedding_chunks_per_s": chunks / clock.seconds,
        "articles_per_s": len(report.created) / took,
        "texts_embedded": embedder.texts_encoded - encoded,
        "model_calls": embedder.encode_calls - calls,
    }


async def askers(
    kb: KnowledgeBase, n: int, per_asker: int, pool: list[str], tag: str
) -> dict[str, Any]:
    latencies: list[float] = []

    async def asker(i: int) -> None:
        for j in range(per_asker):
            # Unique per ask (the embedder's cache is off anyway): ticket numbers vary.
            question = f"{pool[(i * per_asker + j) % len(pool)]} (ticket {tag}-{i}-{j})"
            t = time.perf_counter()
            await kb.answer(question)
            latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    await asyncio.gather(*(asker(i) for i in range(n)))
    took = time.perf_counter() - started
    return {
        "answered": len(latencies),
        "seconds": took,
        "answers_per_s": len(latencies) / took,
        "p50_ms": pct(latencies, 50) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
    }


async def open_loop(
    kb: KnowledgeBase, rate: float, seconds: float, pool: list[str], tag: str
) -> dict[str, Any]:
    """Questions arriving on their own (Poisson, ``rate`` per second), not waiting for answers.

    This is how a busy service sees them, and where a batcher that flushes on a timer
    while the model is busy falls behind: it sends many small batches that queue.
    """
    rng = random.Random(tag)
    latencies: list[float] = []
    tasks: list[asyncio.Task[None]] = []

    async def ask(question: str) -> None:
        t = time.perf_counter()
        await kb.answer(question)
        latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    due = started
    i = 0
    while due - started < seconds:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        question = f"{pool[i % len(pool)]} (ticket {tag}-{i})"
        tasks.append(asyncio.create_task(ask(question)))
        i += 1
        due += rng.expovariate(rate)
    await asyncio.gather(*tasks)
    took = time.perf_counter() - started
    return {
        "offered_per_s": rate,
        "asked": len(tasks),
        "answers_per_s": len(latencies) / took,
        "p50_ms": pct(latencies, 50) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
    }


MODES = ("off", "legacy", "on")


def make_batcher(mode: str, embedder: Embedder) -> QueryBatcher:
    if mode == "off":
        return QueryBatcher(embedder, max_batch=1)
    if mode == "legacy":
        return LegacyQueryBatcher(embedder)
    return QueryBatcher(embedder)


async def answer_throughput(
    embedder: Embedder, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Closed loop (N askers, each waits for its answer) and open loop (arrivals at a rate)."""
    pool = [q for q, _ in sample_dataset().questions]
    closed: list[dict[str, Any]] = []
    opened: list[dict[str, Any]] = []
    async with temp_kb(embedder, seed_sample=True) as kb:
        await kb.answer("warm up")

        async def measure(mode: str, go: Any) -> dict[str, Any]:
            batcher = make_batcher(mode, embedder)
            # The benchmark swaps the KB's batcher to compare; nothing else does.
            kb._batcher = batcher
            result: dict[str, Any] = await go
            await batcher.aclose()
            result["model_calls"] = batcher.batches
            result["mean_batch"] = batcher.queries / max(1, batcher.batches)
            return result

        def median(results: list[dict[str, Any]]) -> dict[str, Any]:
            results.sort(key=lambda r: r["answers_per_s"])
            return {
                **results[len(results) // 2],
                "answers_per_s_runs": [round(r["answers_per_s"], 2) for r in results],
            }

        for n in args.askers:
            per_asker = max(1, args.questions // n)
            runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
            # Modes interleaved and repeated: other processes share these two cores, so
            # back-to-back series of one mode would each meet a different load.
            for rep in range(args.reps):
                for mode in MODES:
                    go = askers(kb, n, per_asker, pool, f"{mode}{n}r{rep}")
                    runs[mode].append(await measure(mode, go))
            for mode in MODES:
                row = {"askers": n, "batcher": mode, **median(runs[mode])}
                closed.append(row)
                print(f"  {n} askers, {mode}: {row['answers_per_s']:.1f}/s", file=sys.stderr)

        single = next(r for r in closed if r["askers"] == 1 and r["batcher"] == "off")
        rate = args.open_factor * single["answers_per_s"]
        for mode in MODES:
            go = open_loop(kb, rate, args.open_seconds, pool, f"open-{mode}")
            row = {"batcher": mode, **await measure(mode, go)}
            opened.append(row)
            print(f"  open loop at {rate:.0f}/s, {mode}: {row['p99_ms']:.0f} ms", file=sys.stderr)
    return closed, opened


async def run(args: argparse.Namespace) -> dict[str, Any]:
    embedder = Embedder(cache_size=0)  # every text really embedded, nothing from a cache
    articles = generated_articles(args.articles)
    parsed = [parse_markdown_article(a, fallback_slug="x") for a in articles[: args.batch_sample]]
    texts = [c.text for a in parsed for c in chunk_markdown(a.title, a.body)]
    questions = [q for data in (sample_dataset(), bank_dataset()) for q, _ in data.questions]
    started, load_start = time.perf_counter(), os.getloadavg()
    batches = embedding_batches(embedder, "passages", texts, args.batch_sizes, args.reps)
    batches += embedding_batches(embedder, "questions", questions, args.batch_sizes, args.reps)
    imported = await import_throughput(embedder, articles)
    answers, open_rows = await answer_throughput(embedder, args)
    return {
        "embedder_batch_size": embedder.batch_size,
        "embedder_short_batch_size": embedder.short_batch_size,
        "cpu_count": os.cpu_count(),
        "load_average_start": load_start,
        "embedding_batches": batches,
        "import": imported,
        "answers": answers,
        "open_loop": open_rows,
        "seconds": time.perf_counter() - started,
        "load_average_end": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument(
        "--batch-sample", type=int, default=40, help="articles for the batch-size sweep"
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 16, 32, 64])
    parser.add_argument("--askers", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--questions", type=int, default=192, help="answers per run")
    parser.add_argument("--reps", type=int, default=3, help="runs per mode (median shown)")
    parser.add_argument("--open-factor", type=float, default=1.5, help="x unbatched capacity")
    parser.add_argument("--open-seconds", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args))

    print("embedding by batch size (best of the runs; * = Embedder default)")
    for row in result["embedding_batches"]:
        row["mark"] = "*" if row["default"] else ""
    print(
        table(
            result["embedding_batches"],
            [
                ("texts", "texts", ""),
                ("batch_size", "batch", "d"),
                ("mark", "", ""),
                ("count", "n", "d"),
                ("per_s", "per s", ".1f"),
                ("per_cpu_s", "per CPU s", ".1f"),
            ],
        )
    )
    imp = result["import"]
    print(
        f"\nimport: {imp['articles']} articles, {imp['chunks']} chunks in {imp['seconds']:.1f} s: "
        f"{imp['chunks_per_s']:.1f} chunks/s, {imp['articles_per_s']:.2f} articles/s "
        f"({imp['texts_embedded']} texts embedded in {imp['model_calls']} model calls; "
        f"{imp['embedding_seconds']:.1f} s in the model = "
        f"{imp['embedding_seconds'] / imp['seconds']:.0%} of the import)"
    )
    rows = result["answers"]
    base = {r["askers"]: r["answers_per_s"] for r in rows if r["batcher"] == "off"}
    for r in rows:
        r["vs_off"] = r["answers_per_s"] / base[r["askers"]] if r["askers"] in base else None
    one = {r["batcher"]: r["answers_per_s"] for r in rows if r["askers"] == min(args.askers)}
    for r in rows:
        r["vs_1_asker"] = r["answers_per_s"] / one[r["batcher"]] if r["batcher"] in one else None
    print("\nKnowledgeBase.answer, concurrent askers")
    print(
        table(
            rows,
            [
                ("askers", "askers", "d"),
                ("batcher", "batcher", ""),
                ("answered", "answered", "d"),
                ("answers_per_s", "answers/s", ".1f"),
                ("vs_off", "x off", ".2f"),
                ("vs_1_asker", "x 1 asker", ".2f"),
                ("p50_ms", "p50 ms", ".0f"),
                ("p99_ms", "p99 ms", ".0f"),
                ("model_calls", "model calls", "d"),
                ("mean_batch", "mean batch", ".1f"),
            ],
        )
    )
    factor = args.open_factor
    print(f"\nKnowledgeBase.answer, open loop (Poisson arrivals at {factor}x the unbatched rate)")
    print(
        table(
            result["open_loop"],
            [
                ("batcher", "batcher", ""),
                ("offered_per_s", "offered/s", ".1f"),
                ("asked", "asked", "d"),
                ("answers_per_s", "answers/s", ".1f"),
                ("p50_ms", "p50 ms", ".0f"),
                ("p99_ms", "p99 ms", ".0f"),
                ("model_calls", "model calls", "d"),
                ("mean_batch", "mean batch", ".1f"),
            ],
        )
    )
    print(
        f"load average at start {result['load_average_start']}, at end {result['load_average_end']}"
    )
    path = write_result("throughput", result, args.out)
    print(f"took {result['seconds']:.0f} s; wrote {path}")


if __name__ == "__main__":
    main()
