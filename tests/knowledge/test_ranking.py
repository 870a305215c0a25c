"""Ranking articles from passages and example questions; the confidence it prints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnidesk.knowledge.fusion import COSINE_CEIL, COSINE_FLOOR
from omnidesk.knowledge.ranking import (
    LEAD_OFFSET,
    Candidate,
    RankingWeights,
    article_confidence,
    chunk_score,
    decision_confidence,
    rank_articles,
)

PLAIN = RankingWeights(dense_weight=1.0, question_dense_weight=1.0, support=0.0, agreement=0.0)


def passage(chunk: int, article: int, cosine: float, bm25: float = 0.0) -> Candidate:
    return Candidate(chunk, article, False, cosine, bm25)


def question(chunk: int, article: int, cosine: float, bm25: float = 0.0) -> Candidate:
    return Candidate(chunk, article, True, cosine, bm25)


def test_an_article_ranks_by_its_best_passage_or_question() -> None:
    ranked = rank_articles(
        [passage(1, 10, 0.55), question(2, 20, 0.80), passage(3, 20, 0.30), passage(4, 10, 0.6)],
        PLAIN,
    )
    assert [a.article_id for a in ranked] == [20, 10]
    top = ranked[0]
    assert top.question is not None and top.question.chunk_id == 2
    assert top.passage is not None and top.passage.chunk_id == 3  # the passage it quotes
    assert top.score == pytest.approx(0.80)
    assert ranked[1].score == pytest.approx(0.6) and ranked[1].question is None


def test_support_and_agreement_add_to_the_best_evidence() -> None:
    weights = RankingWeights(
        dense_weight=1.0, question_dense_weight=1.0, support=0.5, agreement=0.25
    )
    (only,) = rank_articles(
        [question(1, 7, 0.8), question(2, 7, 0.6), question(3, 7, 0.2), passage(4, 7, 0.4)],
        weights,
    )
    q = 0.8 + 0.5 * 0.6
    assert only.question_score == pytest.approx(q)
    assert only.score == pytest.approx(q + 0.25 * 0.4)


def test_lexical_evidence_and_question_scale() -> None:
    weights = RankingWeights(dense_weight=0.8, question_dense_weight=0.8, question_scale=0.9)
    assert chunk_score(question(1, 1, 0.5), weights) == pytest.approx(0.45)
    with_words = chunk_score(passage(1, 1, 0.5, bm25=10.0), weights)
    assert with_words == pytest.approx(0.5 + 0.2 / 0.8 * 0.5)


def test_a_chunk_given_twice_counts_once() -> None:
    ranked = rank_articles([question(1, 5, 0.9), question(1, 5, 0.9)], RankingWeights(support=1))
    assert ranked[0].score == pytest.approx(0.9)


def test_weights_are_checked() -> None:
    with pytest.raises(ValueError, match="dense_weight"):
        RankingWeights(dense_weight=0.0)
    with pytest.raises(ValueError, match="negative"):
        RankingWeights(agreement=-0.1)


def test_confidence_meets_the_linear_bar_and_never_saturates() -> None:
    assert article_confidence(COSINE_FLOOR) == 0.0
    assert article_confidence((COSINE_FLOOR + COSINE_CEIL) / 2) == pytest.approx(0.5)
    assert article_confidence(0.8) < article_confidence(0.9) < article_confidence(1.2) < 1.0


# A chunk belongs to one article: chunk_id // 6 is its article.
_CANDIDATE = st.builds(
    lambda chunk, is_q, cos, bm25: Candidate(chunk, chunk // 6, is_q, cos, bm25),
    st.integers(0, 40),
    st.booleans(),
    st.floats(-1, 1),
    st.floats(0, 30),
)
_WEIGHTS = st.builds(
    RankingWeights,
    dense_weight=st.floats(0.5, 1.0),
    question_dense_weight=st.floats(0.5, 1.0),
    question_scale=st.floats(0.5, 1.2),
    support=st.floats(0, 0.5),
    agreement=st.floats(0, 0.5),
)


@given(st.lists(_CANDIDATE, max_size=30), _WEIGHTS)
def test_ranked_best_first_and_confidence_in_the_same_order(
    cands: list[Candidate], weights: RankingWeights
) -> None:
    ranked = rank_articles(cands, weights)
    assert len({a.article_id for a in ranked}) == len(ranked)
    assert {a.article_id for a in ranked} == {c.article_id for c in cands}
    scores = [a.score for a in ranked]
    assert scores == sorted(scores, reverse=True)
    confidences = [article_confidence(s) for s in scores]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c < 1.0 for c in confidences)


@given(st.lists(_CANDIDATE, min_size=1, max_size=30), _WEIGHTS, st.floats(-1, 1))
def test_a_closer_example_question_never_lowers_its_article(
    cands: list[Candidate], weights: RankingWeights, cosine: float
) -> None:
    target = cands[0].article_id
    before = {a.article_id: a.score for a in rank_articles(cands, weights)}[target]
    extra = question(1000, target, cosine)
    after = {a.article_id: a.score for a in rank_articles([*cands, extra], weights)}[target]
    assert after >= before - 1e-9 or cosine < 0


@given(st.floats(0, 1.5), st.floats(0, 0.5), st.floats(0, 0.5))
def test_a_bigger_lead_or_score_never_lowers_the_decision(
    best: float, lead: float, more: float
) -> None:
    weights = RankingWeights(margin=2.0)
    base = decision_confidence(best, best - lead, weights)
    assert decision_confidence(best, best - lead - more, weights) >= base
    assert decision_confidence(best + more, best - lead, weights) >= base
    assert (
        decision_confidence(best, None, weights) == decision_confidence(best, COSINE_FLOOR, weights)
        or best < COSINE_FLOOR
    )


def test_a_lead_under_the_offset_counts_against_the_answer() -> None:
    weights = RankingWeights(margin=2.0)
    assert decision_confidence(0.5, 0.5 - LEAD_OFFSET, weights) == pytest.approx(
        article_confidence(0.5)
    )
    assert decision_confidence(0.5, 0.5, weights) < article_confidence(0.5)
    assert decision_confidence(0.5, 0.2, weights) > article_confidence(0.5)
