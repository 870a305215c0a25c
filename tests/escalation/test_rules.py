"""Which wordings ask for a person, and when unsure answers hand over."""

from __future__ import annotations

import pytest

from omnidesk.config import EscalationSettings
from omnidesk.escalation import HandoffRules
from omnidesk.escalation.rules import asks_for_human


@pytest.mark.parametrize(
    "text",
    [
        "I want a human",
        "agent please",
        "Can I talk to a person?",
        "let me speak with someone",
        "HUMAN",
        "real person pls",
        "I'd like to speak to a representative",
        "connect me to an agent",
        "/human",
        "I need a real human now",
    ],
)
def test_asks_for_human(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "how do I reset my password?",
        "is the lamp safe for humans' eyes",
        "my agent software crashed",
        "what does a person need to sign up",
        "",
    ],
)
def test_ordinary_questions_do_not_escalate(text: str) -> None:
    assert not asks_for_human(text)


def test_unsure_streak_escalates_at_the_configured_turn() -> None:
    rules = HandoffRules(EscalationSettings(low_confidence_turns=2))
    assert not rules.on_unsure(1).escalate
    decision = rules.on_unsure(2)
    assert decision.escalate and decision.reason == "low_confidence"
