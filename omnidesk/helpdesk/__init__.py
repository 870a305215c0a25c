"""Contacts, conversations, messages, tickets and the unified timeline; agent accounts
and sign-in; the agent and admin APIs and the console."""

from omnidesk.db import utcnow
from omnidesk.helpdesk import actions, gaps, queries, search
from omnidesk.helpdesk.actions import ActionError, message_dict
from omnidesk.helpdesk.actor import SYSTEM, Actor
from omnidesk.helpdesk.admin import AdminAPI, KnowledgeAdmin
from omnidesk.helpdesk.api import ConsoleAPI
from omnidesk.helpdesk.audit_api import AuditAPI, safe_cell
from omnidesk.helpdesk.auth import AuthGuard
from omnidesk.helpdesk.events import Event, EventBus, create_bus, emit, unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, actor_of, admin_only, json_error, read_json
from omnidesk.helpdesk.live import LiveHub
from omnidesk.helpdesk.livesocket import live_guard
from omnidesk.helpdesk.models import (
    HUMAN_OWNED,
    Agent,
    Author,
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationLabel,
    ConversationState,
    DeliveryState,
    EscalationRule,
    InboxItem,
    InboxState,
    Message,
    OutboxItem,
    Priority,
    Team,
    Ticket,
    TicketState,
    TimelineEvent,
)
from omnidesk.helpdesk.people_api import PeopleAPI
from omnidesk.helpdesk.policies_api import PoliciesAPI
from omnidesk.helpdesk.rights_api import RightsAPI
from omnidesk.helpdesk.search_api import SearchAPI
from omnidesk.helpdesk.webhooks_api import WebhooksAPI

__all__ = [
    "HUMAN_OWNED",
    "SYSTEM",
    "ActionError",
    "Actor",
    "AdminAPI",
    "Agent",
    "AuditAPI",
    "AuthGuard",
    "Author",
    "ChannelIdentity",
    "ConsoleAPI",
    "Contact",
    "Conversation",
    "ConversationLabel",
    "ConversationState",
    "DeliveryState",
    "EscalationRule",
    "Event",
    "EventBus",
    "HTTPJSONError",
    "InboxItem",
    "InboxState",
    "KnowledgeAdmin",
    "LiveHub",
    "Message",
    "OutboxItem",
    "PeopleAPI",
    "PoliciesAPI",
    "Priority",
    "RightsAPI",
    "SearchAPI",
    "Team",
    "Ticket",
    "TicketState",
    "TimelineEvent",
    "WebhooksAPI",
    "actions",
    "actor_of",
    "admin_only",
    "create_bus",
    "emit",
    "gaps",
    "json_error",
    "live_guard",
    "message_dict",
    "queries",
    "read_json",
    "safe_cell",
    "search",
    "unit_of_work",
    "utcnow",
]
