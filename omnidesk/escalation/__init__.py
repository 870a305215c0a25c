"""Every decision about people: handoff rules, business hours, SLA targets and
breaches, automatic assignment, and the time-driven sweeps."""

from omnidesk.escalation.assignment import auto_assign, choose
from omnidesk.escalation.hours import (
    ALWAYS,
    Calendar,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    is_open,
    next_open,
    normalise_calendar,
)
from omnidesk.escalation.rules import EscalationDecision, HandoffRules
from omnidesk.escalation.sla import (
    Targets,
    breached_targets,
    breaches,
    configure_sla,
    raised,
    start_sla,
    targets_for,
    team_calendar,
)
from omnidesk.escalation.sweeps import BreachAlert, SweepReport, sweep_once

__all__ = [
    "ALWAYS",
    "BreachAlert",
    "Calendar",
    "CalendarError",
    "EscalationDecision",
    "HandoffRules",
    "SweepReport",
    "Targets",
    "add_business_minutes",
    "auto_assign",
    "breached_targets",
    "breaches",
    "business_minutes_between",
    "choose",
    "configure_sla",
    "is_open",
    "next_open",
    "normalise_calendar",
    "raised",
    "start_sla",
    "sweep_once",
    "targets_for",
    "team_calendar",
]
