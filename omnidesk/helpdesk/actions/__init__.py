"""Every helpdesk write: each action changes rows and writes their timeline event in the
caller's transaction, and queues the events that go out after commit (``events.emit``).

The package is split by what the action changes; callers use these names only.
"""

from omnidesk.helpdesk.actions.base import ActionError, add_timeline, iso
from omnidesk.helpdesk.actions.contacts import merge_contacts, resolve_identity
from omnidesk.helpdesk.actions.conversations import (
    assign,
    current_conversation,
    escalate,
    reopen,
    resolve,
)
from omnidesk.helpdesk.actions.delivery import queue_delivery
from omnidesk.helpdesk.actions.messages import (
    agent_reply,
    edit_message,
    message_dict,
    record_message,
    reply,
)
from omnidesk.helpdesk.actions.tickets import open_ticket, open_ticket_for

__all__ = [
    "ActionError",
    "add_timeline",
    "agent_reply",
    "assign",
    "current_conversation",
    "edit_message",
    "escalate",
    "iso",
    "merge_contacts",
    "message_dict",
    "open_ticket",
    "open_ticket_for",
    "queue_delivery",
    "record_message",
    "reopen",
    "reply",
    "resolve",
    "resolve_identity",
]
