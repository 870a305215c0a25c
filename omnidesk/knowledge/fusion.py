"""Rank fusion of the dense and lexical sides, and the confidence a passage answers a question."""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60

# Cosine of all-MiniLM-L6-v2 between a question and a passage mapped linearly onto 0..1:
# at COSINE_FLOOR and below nothing relates, at COSINE_CEIL and above the passage is
# about exactly this. Set on the sample knowledge base's eval questions against
# out-of-scope questions; see tests/knowledge/test_quality.py.
COSINE_FLOOR = 0.10
COSINE_CEIL = 0.70


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[int, float]]:
    """Items of several best-first rankings by ``sum(weight / (k + rank))``, best first.

    Rank is 1-based. Ties keep the order in which items were first seen, earlier
    rankings first, so the result is deterministic.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def confidence(cosine: float) -> float:
    """How sure we are a passage answers the question, 0..1, from its cosine similarity."""
    span = COSINE_CEIL - COSINE_FLOOR
    return min(1.0, max(0.0, (cosine - COSINE_FLOOR) / span))
