"""Retrieval quality: BM25 only, dense only and fused rankings, `kb eval`-style.

For each data set (the packaged sample KB with its eval.csv, and the bank FAQ under
bench/data/) articles are chunked as the service chunks them, and each question is
ranked by article (an article counts at its best passage, as in KnowledgeBase.search):

- hit@1, hit@5 and MRR@5 for BM25 only, dense only, reciprocal rank fusion (the
  previous default), min-max "relative score" fusion, and the hybrid fusion the service
  uses now (fusion.hybrid_fusion);
- the same for the real service path, scored by `kb eval`'s own code
  (knowledge.evaluation.evaluate on a temp SQLite database) with its answer-bar
  calibration, and the share of questions where KnowledgeBase.search returned exactly
  the hybrid replica's articles;
- hit@1 of the hybrid fusion over a grid of its two parameters, to show how flat it is.

    python bench/retrieval_quality.py

Prints tables and writes JSON (default bench/results/retrieval_quality.json).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import (
    Dataset,
    bank_dataset,
    sample_dataset,
    table,
    temp_kb,
    write_result,
)
from omnidesk.config import Settings
from omnidesk.knowledge import Embedder, chunk_markdown, get_embedder
from omnidesk.knowledge.evaluation import EvalCase, EvalReport, evaluate
from omnidesk.knowledge.fusion import (
    DENSE_WEIGHT,
    LEXICAL_SATURATION,
    hybrid_fusion,
    reciprocal_rank_fusion,
)
from omnidesk.knowledge.index import VectorIndex
from omnidesk.knowledge.lexical import LexicalIndex
from omnidesk.knowledge.retrieval import depth_for

DEPTH = depth_for(5)  # what KnowledgeBase._rank asks each side for when k=5
K = 5

Scored = list[tuple[int, float]]
Ranker = Callable[[Scored, Scored, Callable[[int], float | None]], list[int]]


def relative_score(alpha: float) -> Ranker:
    """Min-max normalise both sides over the candidates, then blend (Weaviate's default)."""

    def rank(dense: Scored, lexical: Scored, cosine_of: Callable[[int], float | None]) -> list[int]:
        cos, bm = dict(dense), dict(lexical)
        items = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lexical]))
        for i in items:
            if i not in cos:
                cos[i] = cosine_of(i) or 0.0

        def norm(values: list[float]) -> list[float]:
            lo, hi = min(values), max(values)
            return [(v - lo) / (hi - lo) if hi > lo else 1.0 for v in values]

        c = norm([cos[i] for i in items])
        b = norm([bm.get(i, 0.0) for i in items])
        score = {i: alpha * x + (1 - alpha) * y for i, x, y in zip(items, c, b, strict=True)}
        return sorted(items, key=lambda i: -score[i])

    return rank


def hybrid(weight: float = DENSE_WEIGHT, saturation: float = LEXICAL_SATURATION) -> Ranker:
    def rank(dense: Scored, lexical: Scored, cosine_of: Callable[[int], float | None]) -> list[int]:
        fused = hybrid_fusion(dense, lexical, cosine_of, dense_weight=weight, saturation=saturation)
        return [i for i, _ in fused]

    return rank


METHODS: dict[str, Ranker] = {
    "bm25 only": lambda d, lx, c: [i for i, _ in lx],
    "dense only": lambda d, lx, c: [i for i, _ in d],
    "rrf k=60 (previous)": lambda d, lx, c: [
        i for i, _ in reciprocal_rank_fusion([[i for i, _ in d], [i for i, _ in lx]])
    ],
    "relative score a=0.75": relative_score(0.75),
    "hybrid (service default)": hybrid(),
}


def metrics(ranked: Sequence[Sequence[str]], expected: Sequence[str]) -> dict[str, float]:
    ranks = [
        list(r[:K]).index(e) + 1 if e in r[:K] else None
        for r, e in zip(ranked, expected, strict=True)
    ]
    n = len(ranks)
    return {
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@5": sum(r is not None for r in ranks) / n,
        "mrr@5": sum(1 / r for r in ranks if r) / n,
        "n": n,
    }


class Replica:
    """The service's retrieval on one data set, with the fusion step swappable."""

    def __init__(self, data: Dataset, embedder: Embedder, settings: Settings) -> None:
        self.slug_of: dict[int, str] = {}
        texts: list[str] = []
        for art in data.articles:
            for chunk in chunk_markdown(
                art.title,
                art.body,
                max_words=settings.knowledge.chunk_max_words,
                overlap_words=settings.knowledge.chunk_overlap_words,
            ):
                self.slug_of[len(texts)] = art.slug
                texts.append(chunk.text)
        self.chunks = len(texts)
        self.vectors = VectorIndex(embedder.dim)
        self.vectors.add(range(len(texts)), embedder.encode(texts))
        self.lexical = LexicalIndex(enumerate(texts))
        self.questions = [q for q, _ in data.questions]
        self.expected = [e for _, e in data.questions]
        qvecs = embedder.encode(self.questions)
        self.sides = [
            (self.vectors.search(v, DEPTH)[0], self.lexical.search(q, DEPTH), v)
            for q, v in zip(self.questions, qvecs, strict=True)
        ]

    def articles(self, ranker: Ranker) -> list[list[str]]:
        out = []
        for dense, lexical, vec in self.sides:

            def cosine_of(chunk_id: int, vec: np.ndarray = vec) -> float | None:
                stored = self.vectors.vector(chunk_id)
                return None if stored is None else float(stored @ vec)

            slugs: list[str] = []
            for chunk_id in ranker(dense, lexical, cosine_of):
                slug = self.slug_of[chunk_id]
                if slug not in slugs:
                    slugs.append(slug)
            out.append(slugs[:K])
        return out


async def service_run(data: Dataset, embedder: Embedder) -> tuple[list[list[str]], EvalReport]:
    """The service's own top 5 per question, and `kb eval`'s report (evaluation.evaluate)."""
    async with temp_kb(embedder) as kb:
        for art in data.articles:
            await kb.upsert_article(art)
        results = await asyncio.gather(*(kb.search(q, k=K) for q, _ in data.questions))
        report = await evaluate(kb, [EvalCase(q, e) for q, e in data.questions])
    return [[h.slug for h in hits] for hits in results], report


async def run(args: argparse.Namespace) -> dict[str, Any]:
    embedder = get_embedder()
    settings = Settings()
    out: dict[str, Any] = {"depth": DEPTH, "datasets": {}, "grid": []}
    replicas = {}
    for data in (sample_dataset(), bank_dataset()):
        started = time.perf_counter()
        replica = replicas[data.name] = Replica(data, embedder, settings)
        rows = []
        for name, ranker in METHODS.items():
            rows.append({"method": name, **metrics(replica.articles(ranker), replica.expected)})
        service, report = await service_run(data, embedder)
        hybrid_lists = replica.articles(METHODS["hybrid (service default)"])
        same = sum(a == b for a, b in zip(service, hybrid_lists, strict=True)) / len(service)
        rows.append(
            {
                "method": "kb eval (service)",
                "hit@1": report.hit_at_1,
                "hit@5": report.hit_at_5,
                "mrr@5": report.mrr,
                "n": report.cases,
                "answered": report.answered,
                "answered_right": report.answered_right,
            }
        )
        out["datasets"][data.name] = {
            "articles": len(data.articles),
            "chunks": replica.chunks,
            "questions": len(data.questions),
            "methods": rows,
            "service_matches_hybrid_replica": same,
            "seconds": time.perf_counter() - started,
        }
    for weight in args.grid_weights:
        for saturation in args.grid_saturations:
            row: dict[str, Any] = {"dense_weight": weight, "saturation": saturation}
            for name, replica in replicas.items():
                ranked = replica.articles(hybrid(weight, saturation))
                row[name] = metrics(ranked, replica.expected)["hit@1"]
            out["grid"].append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grid-weights", type=float, nargs="+", default=[0.6, 0.7, 0.8])
    parser.add_argument("--grid-saturations", type=float, nargs="+", default=[5.0, 10.0, 15.0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    columns = [
        ("method", "method", ""),
        ("hit@1", "hit@1", ".3f"),
        ("hit@5", "hit@5", ".3f"),
        ("mrr@5", "MRR@5", ".3f"),
        ("n", "n", "d"),
        ("answered", "answered", ".1%"),
        ("answered_right", "right", ".1%"),
    ]
    for name, ds in result["datasets"].items():
        print(
            f"\n{name}: {ds['articles']} articles, {ds['chunks']} passages, "
            f"{ds['questions']} questions"
        )
        print(table(ds["methods"], columns))
        share = ds["service_matches_hybrid_replica"]
        print(f"KnowledgeBase.search returned the hybrid replica's top 5 for {share:.1%}")
        print("(answered: top hit above the answer bar; right: of those, the expected article)")
    names = list(result["datasets"])
    print("\nhybrid fusion hit@1 by dense weight and BM25 saturation")
    print(
        table(
            result["grid"],
            [("dense_weight", "weight", ".2f"), ("saturation", "saturation", ".0f")]
            + [(n, n, ".3f") for n in names],
        )
    )
    path = write_result("retrieval_quality", result, args.out)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
