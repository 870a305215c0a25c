"""Contacts, conversations, messages, tickets and the unified timeline; the agent API."""

from omnidesk.helpdesk import actions, queries
from omnidesk.helpdesk.actions import ActionError, message_dict
from omnidesk.helpdesk.api import ConsoleAPI
from omnidesk.helpdesk.events import Event, EventBus, emit, unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, json_error, read_json
from omnidesk.helpdesk.models import (
    HUMAN_OWNED,
    Author,
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationState,
    DeliveryState,
    InboxItem,
    InboxState,
    Message,
    OutboxItem,
    Priority,
    Ticket,
    TicketState,
    TimelineEvent,
)

__all__ = [
    "HUMAN_OWNED",
    "ActionError",
    "Author",
    "ChannelIdentity",
    "ConsoleAPI",
    "Contact",
    "Conversation",
    "ConversationState",
    "DeliveryState",
    "Event",
    "EventBus",
    "HTTPJSONError",
    "InboxItem",
    "InboxState",
    "Message",
    "OutboxItem",
    "Priority",
    "Ticket",
    "TicketState",
    "TimelineEvent",
    "actions",
    "emit",
    "json_error",
    "message_dict",
    "queries",
    "read_json",
    "unit_of_work",
]
