"""Choosing the confidence bar to a target rate of wrong answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnidesk.knowledge.evaluation import Decision, choose_threshold, decision_rates

DECISIONS: list[Decision] = [
    (0.95, "a", "a"),
    (0.90, "b", "b"),
    (0.85, "c", "x"),  # wrong article
    (0.80, "d", "d"),
    (0.70, "e", ""),  # out of scope, answered below 0.7 bars only
    (0.60, "f", "f"),
    (0.50, "g", "y"),
]


def test_rates_at_a_bar() -> None:
    rates = decision_rates(DECISIONS, 0.8)
    assert rates == {
        "right": pytest.approx(3 / 6, abs=1e-4),
        "wrong": pytest.approx(1 / 6, abs=1e-4),
        "declined": pytest.approx(2 / 6, abs=1e-4),
        "oos_answered": 0.0,
        "wrong_rate": pytest.approx(1 / 7, abs=1e-4),
    }
    assert decision_rates(DECISIONS, 0.5)["oos_answered"] == 1.0


def test_the_lowest_bar_that_keeps_wrong_answers_within_the_target() -> None:
    assert choose_threshold(DECISIONS, 0.0) == 0.9  # below 0.85 the wrong one is answered
    assert choose_threshold(DECISIONS, 1 / 7) == 0.8  # one wrong of seven allowed
    assert choose_threshold(DECISIONS, 1.0) == 0.5
    nothing = choose_threshold([(0.9, "a", "b")], 0.0)
    assert nothing > 0.9 and decision_rates([(0.9, "a", "b")], nothing)["wrong_rate"] == 0.0
    with pytest.raises(ValueError, match="target"):
        choose_threshold(DECISIONS, 1.5)


_DECISION = st.tuples(
    st.floats(0, 1).map(lambda c: round(c, 4)),
    st.sampled_from("abc"),
    st.sampled_from(["", "a", "b", "c"]),
)


@given(st.lists(_DECISION, max_size=60), st.floats(0, 0.5))
def test_no_bar_at_or_above_the_chosen_one_misses_the_target(
    decisions: list[Decision], target: float
) -> None:
    bar = choose_threshold(decisions, target)
    for level in {c for c, _, _ in decisions if c >= bar} | {bar}:
        wrong = sum(1 for c, top, e in decisions if c >= level and top != e)
        assert wrong <= target * len(decisions) + 1e-9
