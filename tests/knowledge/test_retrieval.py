"""Hybrid fusion of cosine and BM25, BM25 top-k selection, and the query batcher under load."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest

from omnidesk.knowledge import Embedder, QueryBatcher
from omnidesk.knowledge.fusion import (
    DENSE_WEIGHT,
    LEXICAL_SATURATION,
    hybrid_fusion,
    lexical_strength,
)
from omnidesk.knowledge.lexical import LexicalIndex


def no_cosine(chunk_id: int) -> float | None:
    return None


def test_lexical_strength_saturates() -> None:
    assert lexical_strength(0.0) == 0.0
    assert lexical_strength(-1.0) == 0.0
    assert lexical_strength(LEXICAL_SATURATION) == pytest.approx(0.5)
    assert lexical_strength(2.0) < lexical_strength(20.0) < lexical_strength(200.0) < 1.0


def test_a_weak_word_match_does_not_outrank_a_clearly_closer_passage() -> None:
    # 1 is clearly closer by meaning; 2 shares one common word with the question.
    fused = hybrid_fusion([(1, 0.62), (2, 0.50)], [(2, 1.5)], no_cosine)
    assert [i for i, _ in fused] == [1, 2]
    # Several rare words in common (a high BM25) do lift a slightly less close passage.
    fused = hybrid_fusion([(1, 0.62), (2, 0.58)], [(2, 25.0)], no_cosine)
    assert [i for i, _ in fused] == [2, 1]
    expected = DENSE_WEIGHT * 0.58 + (1 - DENSE_WEIGHT) * lexical_strength(25.0)
    assert fused[0][1] == pytest.approx(expected)


def test_lexical_only_candidates_get_their_cosine_looked_up() -> None:
    asked: list[int] = []

    def cosine_of(chunk_id: int) -> float | None:
        asked.append(chunk_id)
        return {7: 0.9}.get(chunk_id)

    fused = hybrid_fusion([(1, 0.3)], [(7, 5.0), (8, 5.0), (1, 2.0)], cosine_of)
    assert asked == [7, 8]  # 1 already has its cosine from the dense side
    assert [i for i, _ in fused] == [7, 1, 8]
    assert hybrid_fusion([], [], no_cosine) == []


def test_ties_keep_first_seen_order_and_weights_are_checked() -> None:
    fused = hybrid_fusion([(1, 0.5), (2, 0.5)], [(3, 0.0)], no_cosine, dense_weight=1.0)
    assert [i for i, _ in fused] == [1, 2, 3]
    with pytest.raises(ValueError, match="dense_weight"):
        hybrid_fusion([], [], no_cosine, dense_weight=1.5)


class GatedEmbedder(Embedder):
    """Records batch sizes; each model call waits until the test opens the gate."""

    def __init__(self) -> None:
        self.dim = 4
        self.sizes: list[int] = []
        self.gate = asyncio.Event()

    async def aencode(self, texts: Sequence[str]) -> np.ndarray:
        self.sizes.append(len(texts))
        await self.gate.wait()
        return np.stack([np.full(self.dim, float(len(t)), np.float32) for t in texts])


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_queries_arriving_during_a_batch_go_together_in_the_next() -> None:
    model = GatedEmbedder()
    batcher = QueryBatcher(model, max_batch=32, max_wait=0.001)
    first = asyncio.create_task(batcher.embed_query("a"))
    await asyncio.sleep(0.02)  # past max_wait: the lone query is with the model
    assert model.sizes == [1]
    texts = ["b" * n for n in range(1, 51)]
    rest = [asyncio.create_task(batcher.embed_query(t)) for t in texts]
    await settle()
    assert model.sizes == [1]  # the fifty wait for the running batch instead of queueing
    model.gate.set()
    vectors = await asyncio.gather(first, *rest)
    assert model.sizes == [1, 32, 18]
    assert (batcher.batches, batcher.queries) == (3, 51)
    assert [float(v[0]) for v in vectors] == [1.0, *(float(len(t)) for t in texts)]


async def test_max_batch_one_sends_every_query_alone_in_order() -> None:
    model = GatedEmbedder()
    model.gate.set()
    batcher = QueryBatcher(model, max_batch=1)
    vectors = await asyncio.gather(*(batcher.embed_query("x" * n) for n in range(1, 6)))
    assert model.sizes == [1] * 5
    assert [float(v[0]) for v in vectors] == [1.0, 2.0, 3.0, 4.0, 5.0]
    with pytest.raises(ValueError, match="max_batch"):
        QueryBatcher(model, max_batch=0)


async def test_aclose_sends_what_waits_and_wait_for_running_batches() -> None:
    model = GatedEmbedder()
    batcher = QueryBatcher(model, max_batch=4, max_wait=60.0)
    waiting = [asyncio.create_task(batcher.embed_query(t)) for t in ("a", "bb", "ccc")]
    await settle()
    assert model.sizes == []  # not full, and the wait is long
    closing = asyncio.create_task(batcher.aclose())
    await settle()
    assert model.sizes == [3]
    model.gate.set()
    await closing
    assert all(task.done() for task in waiting)


def test_bm25_top_k_keeps_the_order_of_a_full_sort_with_ties() -> None:
    # Many passages score the same; selecting the top k first must not change which
    # of them come back, nor their order (earlier passages first, as a stable sort).
    docs = [(100 + i, f"parcel note {i % 3} " + "filler " * (i % 4)) for i in range(40)]
    index = LexicalIndex(docs)
    full = index.search("parcel note", len(docs))
    assert len(full) == len(docs)
    for k in (1, 5, 13, 39):
        assert index.search("parcel note", k) == full[:k]
    scores = [s for _, s in full]
    assert scores == sorted(scores, reverse=True)


async def test_a_batch_cancelled_before_it_ran_releases_its_callers() -> None:
    model = GatedEmbedder()
    batcher = QueryBatcher(model, max_batch=1)
    first = asyncio.create_task(batcher.embed_query("a"))
    await asyncio.sleep(0)  # queued: the batch task exists but has not started
    assert batcher._running is not None
    batcher._running.cancel()
    second = asyncio.create_task(batcher.embed_query("b"))
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    await batcher.aclose()  # and closing does not hang
    assert model.sizes == []
