"""Reports for admins: volumes, deflection, handoffs, first-response and resolution
times in business hours, SLA attainment and CSAT, per day, week or month and per team,
agent, channel and label; the top unanswered topics and handoff-ending articles. It
reads the helpdesk's tables and the escalation room's business hours, writes nothing."""

from omnidesk.reports.api import ReportsAPI
from omnidesk.reports.params import ReportError, ReportQuery, parse_query
from omnidesk.reports.report import breakdown, overview
from omnidesk.reports.topics import handoff_articles, unanswered_topics

__all__ = [
    "ReportError",
    "ReportQuery",
    "ReportsAPI",
    "breakdown",
    "handoff_articles",
    "overview",
    "parse_query",
    "unanswered_topics",
]
