"""What escalation is asked and what it answers: a typed ``Signal`` for one turn of a
conversation, and the ``Decision`` (hand off or not, why, how urgent, to which team)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from omnidesk.helpdesk import Priority

Feedback = Literal["helpful", "not_helpful"]


@dataclass(frozen=True, slots=True)
class Signal:
    """One customer turn as the router saw it.

    ``unsure_streak`` counts the bot's unsure answers in a row ending with this turn
    (0 when this turn was not unsure); ``feedback`` is set when the customer rated an
    answer; ``action`` is the pressed button's payload, if any.
    """

    text: str
    channel: str
    at: dt.datetime
    action: str | None = None
    unsure_streak: int = 0
    feedback: Feedback | None = None
    contact_attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a person takes over, and with what: ``reason`` is recorded on the ticket
    and the timeline; ``rule_id`` names the database rule that matched, if one did."""

    handoff: bool
    reason: str = ""
    priority: Priority | None = None
    team_id: int | None = None
    rule_id: int | None = None


STAY = Decision(handoff=False)
