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
from omnidesk.helpdesk.actions.notifications import notify
from omnidesk.helpdesk.actions.policies import (
    create_calendar,
    create_rule,
    delete_calendar,
    delete_rule,
    put_sla_policies,
    update_calendar,
    update_rule,
)
from omnidesk.helpdesk.actions.sla import (
    FIRST_RESPONSE,
    RESOLUTION,
    agent_actor,
    auto_assigned,
    end_snooze,
    requeue_unanswered,
    require_skill,
    set_sla_due,
    sla_breached,
)
from omnidesk.helpdesk.actions.tickets import open_ticket, open_ticket_for

__all__ = [
    "FIRST_RESPONSE",
    "RESOLUTION",
    "ActionError",
    "add_timeline",
    "agent_actor",
    "agent_reply",
    "assign",
    "auto_assigned",
    "create_calendar",
    "create_rule",
    "current_conversation",
    "delete_calendar",
    "delete_rule",
    "edit_message",
    "end_snooze",
    "escalate",
    "iso",
    "merge_contacts",
    "message_dict",
    "notify",
    "open_ticket",
    "open_ticket_for",
    "put_sla_policies",
    "queue_delivery",
    "record_message",
    "reopen",
    "reply",
    "requeue_unanswered",
    "require_skill",
    "resolve",
    "resolve_identity",
    "set_sla_due",
    "sla_breached",
    "update_calendar",
    "update_rule",
]
