"""Reciprocal rank fusion, the confidence scale, and the BM25 side."""

from __future__ import annotations

import pytest

from omnidesk.knowledge.fusion import COSINE_CEIL, COSINE_FLOOR, confidence, reciprocal_rank_fusion
from omnidesk.knowledge.lexical import LexicalIndex, tokenize


def test_agreement_between_rankings_beats_one_first_place() -> None:
    dense = [1, 2, 3, 4]
    lexical = [5, 3, 2]
    fused = reciprocal_rank_fusion([dense, lexical])
    order = [item for item, _ in fused]
    # 2 and 3 are found by both sides and overtake 1 and 5, each first on one side only.
    assert order == [2, 3, 1, 5, 4]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 63)


def test_ties_keep_first_seen_order_and_weights_shift_it() -> None:
    assert [i for i, _ in reciprocal_rank_fusion([[1], [2]])] == [1, 2]
    assert [i for i, _ in reciprocal_rank_fusion([[1], [2]], weights=[1.0, 2.0])] == [2, 1]
    assert reciprocal_rank_fusion([[], []]) == []
    with pytest.raises(ValueError, match="weight"):
        reciprocal_rank_fusion([[1]], weights=[1.0, 1.0])


def test_confidence_is_a_clipped_linear_scale_of_cosine() -> None:
    assert confidence(COSINE_FLOOR - 0.2) == 0.0
    assert confidence(COSINE_CEIL + 0.2) == 1.0
    assert confidence((COSINE_FLOOR + COSINE_CEIL) / 2) == pytest.approx(0.5)
    assert confidence(0.3) < confidence(0.4) < confidence(0.5)


def test_tokenize_drops_stop_words_and_folds_plurals() -> None:
    assert tokenize("How do I track my parcels and deliveries?") == [
        "track",
        "parcel",
        "delivery",
    ]
    assert tokenize("2FA codes: Wi-Fi") == ["2fa", "code", "wi", "fi"]


def test_bm25_ranks_the_passage_sharing_rare_words() -> None:
    index = LexicalIndex(
        [
            (10, "Reset your password from the sign-in screen."),
            (20, "Track a parcel with the link in the shipping email."),
            (30, "Shipping to Europe takes three to five days."),
        ]
    )
    hits = index.search("how long does shipping to europe take", 5)
    assert [chunk_id for chunk_id, _ in hits] == [30, 20]
    assert hits[0][1] > hits[1][1] > 0
    assert index.search("the and of", 5) == []
    assert LexicalIndex([]).search("parcel", 5) == []
