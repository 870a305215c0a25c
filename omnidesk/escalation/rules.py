"""Rules that decide when a conversation needs a person: an explicit request in any
wording the rules know, or too many unsure answers in a row."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from omnidesk.config import EscalationSettings

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


@dataclass(frozen=True, slots=True)
class EscalationDecision:
    escalate: bool
    reason: str = ""


class HandoffRules:
    """The escalation rules of one deployment."""

    def __init__(self, settings: EscalationSettings) -> None:
        self._settings = settings

    def on_message(self, text: str) -> EscalationDecision:
        if asks_for_human(text):
            return EscalationDecision(True, "customer_request")
        return EscalationDecision(False)

    def on_unsure(self, streak: int) -> EscalationDecision:
        """``streak`` counts unsure answers in a row, this one included."""
        if streak >= self._settings.low_confidence_turns:
            return EscalationDecision(True, "low_confidence")
        return EscalationDecision(False)
