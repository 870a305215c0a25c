"""Fusion of the dense and lexical sides, and the confidence a passage answers a question.

Passages were ranked with :func:`hybrid_fusion`, a score-aware blend: the cosine of
question and passage plus a saturated BM25 term. ranking.py now applies the same blend
to passages and example questions alike and ranks articles from both (its weights were
tuned on bench/faq_benchmark.py); the measurements below are of passages alone.
Measured with bench/retrieval_quality.py (hit@1 / hit@5 / MRR@5 by article):

=================  ==================  ==================
                   sample KB (148 q)   bank FAQ (154 q)
=================  ==================  ==================
BM25 only          0.764 0.959 0.848   0.299 0.584 0.404
dense only         0.892 0.980 0.933   0.675 0.916 0.765
RRF, k=60          0.919 0.980 0.947   0.532 0.805 0.634
hybrid (default)   0.926 0.986 0.951   0.714 0.922 0.786
=================  ==================  ==================

Rank fusion treats BM25's first place as strong evidence even when it matched one
common word, so on paraphrased questions (the FAQ set) it fell below dense alone.
Saturating BM25 as ``bm25 / (bm25 + LEXICAL_SATURATION)`` keeps a weak lexical match
small and lets a strong one (several rare words) count nearly fully, whatever the other
candidates score. The weights sit on a plateau (dense weight 0.65-0.8, saturation 5-15
change hit@1 by about a point on either set).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

RRF_K = 60

# Share of the cosine in the hybrid score, and the BM25 at which the lexical term is
# half of its maximum. Chosen with bench/retrieval_quality.py (see the table above).
DENSE_WEIGHT = 0.7
LEXICAL_SATURATION = 10.0

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
    rankings first, so the result is deterministic. Kept as the baseline the benchmark
    compares :func:`hybrid_fusion` against.
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


def lexical_strength(bm25: float, saturation: float = LEXICAL_SATURATION) -> float:
    """BM25 mapped onto 0..1 without looking at other candidates: half at ``saturation``."""
    return bm25 / (bm25 + saturation) if bm25 > 0 else 0.0


def hybrid_fusion(
    dense: Sequence[tuple[int, float]],
    lexical: Sequence[tuple[int, float]],
    cosine_of: Callable[[int], float | None],
    *,
    dense_weight: float = DENSE_WEIGHT,
    saturation: float = LEXICAL_SATURATION,
) -> list[tuple[int, float]]:
    """Candidates of both sides by ``w * cosine + (1 - w) * lexical_strength(bm25)``, best first.

    ``dense`` holds ``(id, cosine)`` and ``lexical`` ``(id, bm25)``, each best first. A
    candidate only the lexical side found gets its cosine from ``cosine_of`` (None: 0),
    one only the dense side found has no lexical term. Ties keep first-seen order, dense
    side first.
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError("dense_weight must be within 0..1")
    cosine = dict(dense)
    bm25 = dict(lexical)
    scores: dict[int, float] = {}
    for item in [i for i, _ in dense] + [i for i, _ in lexical]:
        if item in scores:
            continue
        cos = cosine.get(item)
        if cos is None:
            cos = cosine_of(item) or 0.0
        lex = lexical_strength(bm25.get(item, 0.0), saturation)
        scores[item] = dense_weight * cos + (1.0 - dense_weight) * lex
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def confidence(cosine: float) -> float:
    """How sure we are a passage answers the question, 0..1, from its cosine similarity."""
    span = COSINE_CEIL - COSINE_FLOOR
    return min(1.0, max(0.0, (cosine - COSINE_FLOOR) / span))
