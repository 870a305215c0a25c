"""Which wordings ask for a person, and the handoff decision: ``decide`` is a pure
function of a turn's signal and the rules, tried in order (first match wins)."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

import pytest

from omnidesk.channels import Action
from omnidesk.config import EscalationRuleSettings, EscalationSettings
from omnidesk.escalation import (
    STAY,
    Decision,
    Rule,
    Signal,
    Trigger,
    asks_for_human,
    builtin_rules,
    decide,
    rule_from_settings,
)
from omnidesk.helpdesk import Priority


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


AT = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
BUILTIN = builtin_rules(EscalationSettings(low_confidence_turns=2))


def signal(text: str = "", **kw: Any) -> Signal:
    kw.setdefault("channel", "webchat")
    return Signal(text=text, at=AT, **kw)


def rule(trigger: Trigger, condition: dict[str, Any], **kw: Any) -> Rule:
    return Rule(trigger, kw.pop("reason", trigger.value), MappingProxyType(condition), **kw)


REFUND = rule(
    Trigger.KEYWORD,
    {"keywords": ["refund", "charged twice"]},
    reason="billing",
    priority=Priority.HIGH,
    team_id=7,
    rule_id=3,
)
VIP = rule(Trigger.ATTRIBUTE, {"attribute": "vip", "equals": True}, priority=Priority.URGENT)
PLAN = rule(Trigger.ATTRIBUTE, {"attribute": "plan"}, reason="paid_plan")
EMAIL = rule(Trigger.CHANNEL, {"channels": ["email"]}, reason="email_to_people")
UNSURE_ONCE = rule(Trigger.UNSURE, {"turns": 1}, reason="strict")


@pytest.mark.parametrize(
    ("name", "sig", "rules", "expected"),
    [
        ("plain question", signal("how do I reset my password?"), BUILTIN, STAY),
        (
            "asks in words",
            signal("agent please"),
            BUILTIN,
            Decision(True, "customer_request"),
        ),
        (
            "presses the button",
            signal("Talk to a person", action=Action.HUMAN),
            BUILTIN,
            Decision(True, "customer_request"),
        ),
        (
            "a button label is not wording",
            signal("agent please", action="article:x"),
            BUILTIN,
            STAY,
        ),
        ("one unsure turn of two", signal("?", unsure_streak=1), BUILTIN, STAY),
        (
            "second unsure turn",
            signal("?", unsure_streak=2),
            BUILTIN,
            Decision(True, "low_confidence"),
        ),
        ("not unsure this turn", signal("?", unsure_streak=0), [UNSURE_ONCE], STAY),
        (
            "stricter rule first",
            signal("?", unsure_streak=1),
            [UNSURE_ONCE, *BUILTIN],
            Decision(True, "strict"),
        ),
        (
            "not helpful",
            signal("Not helpful", action=Action.NOT_HELPFUL, feedback="not_helpful"),
            BUILTIN,
            Decision(True, "not_helpful"),
        ),
        ("helpful", signal("Helpful", action=Action.HELPFUL, feedback="helpful"), BUILTIN, STAY),
        (
            "keyword, any case, as words",
            signal("I was CHARGED TWICE for my order"),
            [REFUND, *BUILTIN],
            Decision(True, "billing", Priority.HIGH, 7, 3),
        ),
        ("keyword inside a word", signal("refunded already, thanks"), [REFUND], STAY),
        (
            "vip contact",
            signal("hello", contact_attributes={"vip": True}),
            [VIP],
            Decision(True, "attribute", Priority.URGENT),
        ),
        ("not vip", signal("hello", contact_attributes={"vip": False}), [VIP], STAY),
        ("no attributes", signal("hello"), [VIP], STAY),
        (
            "any true value without equals",
            signal("hi", contact_attributes={"plan": "pro"}),
            [PLAN],
            Decision(True, "paid_plan"),
        ),
        (
            "email goes to people",
            signal("hi", channel="email"),
            [EMAIL],
            Decision(True, "email_to_people"),
        ),
        ("other channel", signal("hi", channel="slack"), [EMAIL], STAY),
        (
            "first match wins",
            signal("refund please, agent please", contact_attributes={"vip": True}),
            [VIP, REFUND, *BUILTIN],
            Decision(True, "attribute", Priority.URGENT),
        ),
        (
            "bad condition never matches",
            signal("refund"),
            [rule(Trigger.KEYWORD, {"keywords": "refund"})],
            STAY,
        ),
        ("no rules", signal("agent please"), [], STAY),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_decide(name: str, sig: Signal, rules: list[Rule], expected: Decision) -> None:
    assert decide(sig, rules) == expected


def test_toml_rules_become_rules() -> None:
    entry = EscalationRuleSettings(
        trigger="attribute", attribute="vip", equals=True, reason="vip", priority="high"
    )
    made = rule_from_settings(entry, team_id=4)
    assert made.trigger == Trigger.ATTRIBUTE and made.team_id == 4
    assert dict(made.condition) == {"attribute": "vip", "equals": True}
    assert made.priority == Priority.HIGH and made.reason == "vip"
    with pytest.raises(ValueError, match="needs its parameters"):
        EscalationRuleSettings(trigger="keyword")
