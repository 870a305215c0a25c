"""Handoff rules: when the bot gives a conversation to humans."""

from omnidesk.escalation.rules import EscalationDecision, HandoffRules

__all__ = ["EscalationDecision", "HandoffRules"]
