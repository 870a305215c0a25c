"""Grouping unanswered questions by meaning with the real model, and the draft template."""

from __future__ import annotations

import numpy as np

from omnidesk.knowledge import Embedder
from omnidesk.knowledge.gaps import distinct_examples, draft_body, draft_title, group_vectors

QUESTIONS = [
    "can I use the lamp with a 5 GHz wifi network?",
    "do you sell gift cards?",
    "does the lamp support 5ghz wi-fi",
    "what's the weather tomorrow",
    "can I buy a gift voucher for a friend",
    "lamp won't connect to my 5 GHz router",
]


def test_similar_questions_are_grouped_biggest_first(embedder: Embedder) -> None:
    groups = group_vectors(embedder.encode(QUESTIONS))
    as_text = [{QUESTIONS[i] for i in g.members} for g in groups]
    assert as_text == [
        {QUESTIONS[0], QUESTIONS[2], QUESTIONS[5]},
        {QUESTIONS[1], QUESTIONS[4]},
        {QUESTIONS[3]},
    ]
    # The central question of a group is the closest on average to the others.
    wifi = groups[0]
    vectors = embedder.encode([QUESTIONS[i] for i in wifi.members])
    centrality = (vectors @ vectors.T).mean(axis=1)
    assert int(np.argmax(centrality)) == 0 and wifi.central == wifi.members[0]


def test_small_inputs() -> None:
    assert group_vectors(np.zeros((0, 4), dtype=np.float32)) == []
    one = group_vectors(np.ones((1, 4), dtype=np.float32) / 2)
    assert [g.members for g in one] == [(0,)]


def test_draft_helpers() -> None:
    assert draft_title("  can   I pay later? ") == "Can I pay later?"
    assert distinct_examples(["A b", "a  B", "c"], limit=5) == ["A b", "c"]
    body = draft_body(["what is *this* <b>?", "second"])
    assert "- what is \\*this\\* \\<b\\>?" in body and "- second" in body
    assert body.startswith("Write the answer here")
