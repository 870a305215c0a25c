"""Every helpdesk write: each action changes rows and writes their timeline event in the
caller's transaction, and queues the events that go out after commit (``events.emit``).

The package is split by what the action changes; callers use these names only.
"""

from omnidesk.helpdesk.actions.answers import (
    Feedback,
    note_answer,
    note_unsure,
    record_feedback,
)
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, iso
from omnidesk.helpdesk.actions.contacts import merge_contacts, resolve_identity
from omnidesk.helpdesk.actions.conversations import (
    assign,
    current_conversation,
    escalate,
    reopen,
    resolve,
)
from omnidesk.helpdesk.actions.delivery import (
    claim_deliveries,
    mark_failed,
    mark_sent,
    outbound_message,
    queue_delivery,
    retry_delivery,
)
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
from omnidesk.helpdesk.actions.transport import (
    accept_inbound,
    claim_inbound,
    inbound_done,
    note_failed_inbound,
    park_inbound,
    retry_inbound,
)

__all__ = [
    "FIRST_RESPONSE",
    "RESOLUTION",
    "ActionError",
    "Feedback",
    "accept_inbound",
    "add_timeline",
    "agent_actor",
    "agent_reply",
    "assign",
    "auto_assigned",
    "claim_deliveries",
    "claim_inbound",
    "create_calendar",
    "create_rule",
    "current_conversation",
    "delete_calendar",
    "delete_rule",
    "edit_message",
    "end_snooze",
    "escalate",
    "inbound_done",
    "iso",
    "mark_failed",
    "mark_sent",
    "merge_contacts",
    "message_dict",
    "note_answer",
    "note_failed_inbound",
    "note_unsure",
    "notify",
    "open_ticket",
    "open_ticket_for",
    "outbound_message",
    "park_inbound",
    "put_sla_policies",
    "queue_delivery",
    "record_feedback",
    "record_message",
    "reopen",
    "reply",
    "requeue_unanswered",
    "require_skill",
    "resolve",
    "resolve_identity",
    "retry_delivery",
    "retry_inbound",
    "set_sla_due",
    "sla_breached",
    "update_calendar",
    "update_rule",
]
