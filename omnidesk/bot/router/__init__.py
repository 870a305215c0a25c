"""The conversation router: an ordered chain of handlers that asks knowledge for answers
and escalation for handoffs, and writes through helpdesk actions only."""

from omnidesk.bot.router.chain import Prepared, Router, Turn
from omnidesk.bot.router.texts import (
    CLARIFY_TEXT,
    EMPTY_TEXT,
    ERROR_HANDOFF_TEXT,
    ESCALATED_UNSURE_TEXT,
    GREETING_TEXT,
    HANDOFF_TEXT,
    HELPFUL_TEXT,
    NOT_HELPFUL_TEXT,
    UNSURE_NO_SUGGESTION_TEXT,
    UNSURE_TEXT,
    article_summary,
    is_greeting,
)

__all__ = [
    "CLARIFY_TEXT",
    "EMPTY_TEXT",
    "ERROR_HANDOFF_TEXT",
    "ESCALATED_UNSURE_TEXT",
    "GREETING_TEXT",
    "HANDOFF_TEXT",
    "HELPFUL_TEXT",
    "NOT_HELPFUL_TEXT",
    "UNSURE_NO_SUGGESTION_TEXT",
    "UNSURE_TEXT",
    "Prepared",
    "Router",
    "Turn",
    "article_summary",
    "is_greeting",
]
