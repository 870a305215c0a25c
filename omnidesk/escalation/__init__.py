"""Every decision about people: when a conversation goes to a person, why, how urgent
and to which team (a typed ``Signal`` in, a typed ``Decision`` out, carried out through
helpdesk actions by ``hand_off``); business hours, SLA targets and breaches, automatic
assignment, the time-driven sweeps, what the customer is told around a handoff and
a resolution, and agents working from a chat room."""

from omnidesk.escalation.agent_room import (
    RoomPost,
    ThreadReplyResult,
    escalation_post,
    reply_from_thread,
)
from omnidesk.escalation.assignment import auto_assign, choose
from omnidesk.escalation.book import RULES_CHANGED, RuleBook
from omnidesk.escalation.customer import Notice, Outcome, customer_turn, handoff_notice
from omnidesk.escalation.decide import decide
from omnidesk.escalation.handoff import hand_off
from omnidesk.escalation.hours import (
    ALWAYS,
    Calendar,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    is_open,
    next_open,
    normalise_calendar,
    open_intervals,
)
from omnidesk.escalation.rules import (
    Rule,
    Trigger,
    asks_for_human,
    builtin_rules,
    rule_from_row,
    rule_from_settings,
)
from omnidesk.escalation.signals import STAY, Decision, Feedback, Signal
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
from omnidesk.escalation.surveys import SurveyThrottle, may_survey, sweep_nps
from omnidesk.escalation.sweeps import BreachAlert, SweepReport, sweep_once

__all__ = [
    "ALWAYS",
    "RULES_CHANGED",
    "STAY",
    "BreachAlert",
    "Calendar",
    "CalendarError",
    "Decision",
    "Feedback",
    "Notice",
    "Outcome",
    "RoomPost",
    "Rule",
    "RuleBook",
    "Signal",
    "SurveyThrottle",
    "SweepReport",
    "Targets",
    "ThreadReplyResult",
    "Trigger",
    "add_business_minutes",
    "asks_for_human",
    "auto_assign",
    "breached_targets",
    "breaches",
    "builtin_rules",
    "business_minutes_between",
    "choose",
    "configure_sla",
    "customer_turn",
    "decide",
    "escalation_post",
    "hand_off",
    "handoff_notice",
    "is_open",
    "may_survey",
    "next_open",
    "normalise_calendar",
    "open_intervals",
    "raised",
    "reply_from_thread",
    "rule_from_row",
    "rule_from_settings",
    "start_sla",
    "sweep_nps",
    "sweep_once",
    "targets_for",
    "team_calendar",
]
