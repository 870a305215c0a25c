"""Handoff rules: the built-in ones (the customer asks for a person, N unsure answers in
a row, "not helpful") and the ones configured without code, in the TOML settings or the
``escalation_rules`` table. A rule is plain data; ``decide`` matches them."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from omnidesk.config import EscalationRuleSettings, EscalationSettings
from omnidesk.helpdesk import EscalationRule, Priority

# Phrases customers use to ask for a person. Matched on normalised text as whole words.
HUMAN_PATTERNS = (
    r"\b(talk|speak|chat|connect)( me)? (to|with) (a |an |some |the )?"
    r"(human|person|agent|someone|somebody|representative|rep|operator|staff|people)\b",
    r"\b(i )?(want|need|would like|d like|wanna) (a |an |to talk to a )?"
    r"(human|person|real person|agent|representative|operator)\b",
    r"\b(human|agent|person|operator|representative) (please|pls|plz|now)\b",
    r"^(human|agent|operator|representative|real person|live agent|live chat)[.!? ]*$",
    r"\b(real|live|actual) (human|person|agent)\b",
    r"\bcustomer (service|support) (agent|rep|representative|person)\b",
    r"^/human\b",
)
_HUMAN_RE = re.compile("|".join(f"(?:{p})" for p in HUMAN_PATTERNS))


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("'", "").replace("\u2019", "")
    return re.sub(r"\s+", " ", text).strip()


def asks_for_human(text: str) -> bool:
    """Whether the customer asks to talk to a person."""
    return bool(_HUMAN_RE.search(normalise(text)))


class Trigger(enum.StrEnum):
    """What a rule looks at; the ``escalation_rules.trigger`` column holds these."""

    CUSTOMER_REQUEST = "customer_request"
    UNSURE = "unsure"
    NOT_HELPFUL = "not_helpful"
    KEYWORD = "keyword"
    ATTRIBUTE = "attribute"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class Rule:
    """One handoff rule. ``condition`` holds the trigger's parameters:
    ``{"keywords": [..]}``, ``{"attribute": "vip", "equals": true}``,
    ``{"channels": ["email"]}``, ``{"turns": 3}``."""

    trigger: Trigger
    reason: str
    condition: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    priority: Priority | None = None
    team_id: int | None = None
    rule_id: int | None = None
    name: str = ""


def builtin_rules(settings: EscalationSettings) -> list[Rule]:
    """The rules every deployment has, with the reasons tickets have always carried."""
    return [
        Rule(Trigger.CUSTOMER_REQUEST, "customer_request", name="asks for a person"),
        Rule(Trigger.NOT_HELPFUL, "not_helpful", name="answer not helpful"),
        Rule(
            Trigger.UNSURE,
            "low_confidence",
            MappingProxyType({"turns": settings.low_confidence_turns}),
            name="unsure answers in a row",
        ),
    ]


def rule_from_settings(entry: EscalationRuleSettings, team_id: int | None) -> Rule:
    """A TOML rule; ``team_id`` is its team name looked up by the caller."""
    condition: dict[str, Any] = {}
    if entry.trigger == "keyword":
        condition["keywords"] = list(entry.keywords)
    elif entry.trigger == "attribute":
        condition["attribute"] = entry.attribute
        if "equals" in entry.model_fields_set:
            condition["equals"] = entry.equals
    else:
        condition["channels"] = list(entry.channels)
    return Rule(
        Trigger(entry.trigger),
        entry.reason or entry.trigger,
        MappingProxyType(condition),
        Priority(entry.priority) if entry.priority else None,
        team_id,
        name=entry.name,
    )


def rule_from_row(row: EscalationRule) -> Rule | None:
    """A rule admins keep in the database, or None when its trigger or priority is not
    one we know (a bad row must not stop the bot from deciding)."""
    try:
        trigger = Trigger(row.trigger)
        priority = Priority(row.priority) if row.priority else None
    except ValueError:
        return None
    return Rule(
        trigger,
        row.reason or trigger.value,
        MappingProxyType(dict(row.condition or {})),
        priority,
        row.team_id,
        rule_id=row.id,
        name=row.name,
    )
