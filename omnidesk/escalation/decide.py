"""The handoff decision: a pure function of one turn's signal and the rules in force.
Rules are tried in order; the first that matches decides."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from omnidesk.escalation.rules import Rule, Trigger, asks_for_human, normalise
from omnidesk.escalation.signals import STAY, Decision, Signal
from omnidesk.messages import Action


def decide(signal: Signal, rules: Iterable[Rule]) -> Decision:
    """Hand off with the first rule that matches ``signal``, or stay with the bot."""
    for rule in rules:
        if _MATCHERS[rule.trigger](signal, rule.condition):
            return Decision(
                handoff=True,
                reason=rule.reason,
                priority=rule.priority,
                team_id=rule.team_id,
                rule_id=rule.rule_id,
            )
    return STAY


def _customer_request(signal: Signal, condition: Any) -> bool:
    if signal.action:
        return signal.action == Action.HUMAN
    return asks_for_human(signal.text) or _has_keyword(signal.text, condition.get("keywords"))


def _unsure(signal: Signal, condition: Any) -> bool:
    turns = _int(condition.get("turns"), default=1)
    return signal.unsure_streak > 0 and signal.unsure_streak >= turns


def _not_helpful(signal: Signal, condition: Any) -> bool:
    return signal.feedback == "not_helpful"


def _keyword(signal: Signal, condition: Any) -> bool:
    # A pressed button's label is no wording of the customer's own.
    return not signal.action and _has_keyword(signal.text, condition.get("keywords"))


def _attribute(signal: Signal, condition: Any) -> bool:
    name = condition.get("attribute")
    if not isinstance(name, str) or name not in signal.contact_attributes:
        return False
    value = signal.contact_attributes[name]
    if "equals" in condition:
        return bool(value == condition["equals"])
    return bool(value)


def _channel(signal: Signal, condition: Any) -> bool:
    channels = condition.get("channels")
    return isinstance(channels, list) and signal.channel in channels


def _has_keyword(text: str, keywords: object) -> bool:
    """Whether any keyword (or phrase) occurs in the text as whole words, ignoring case."""
    if not isinstance(keywords, list) or not text:
        return False
    haystack = normalise(text)
    for keyword in keywords:
        if not isinstance(keyword, str) or not keyword.strip():
            continue
        if re.search(rf"\b{re.escape(normalise(keyword))}\b", haystack):
            return True
    return False


def _int(value: object, *, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


_MATCHERS: dict[Trigger, Callable[[Signal, Any], bool]] = {
    Trigger.CUSTOMER_REQUEST: _customer_request,
    Trigger.UNSURE: _unsure,
    Trigger.NOT_HELPFUL: _not_helpful,
    Trigger.KEYWORD: _keyword,
    Trigger.ATTRIBUTE: _attribute,
    Trigger.CHANNEL: _channel,
}
