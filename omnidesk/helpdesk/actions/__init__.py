"""Every helpdesk write: each action changes rows and writes their timeline event in the
caller's transaction, and queues the events that go out after commit (``events.emit``).

The package is split by what the action changes; callers use these names only.
"""

from omnidesk.helpdesk.actions.agents import (
    create_agent,
    create_team,
    delete_team,
    disable_agent,
    first_admin,
    set_agent_teams,
    set_password,
    set_team_members,
    update_agent,
    update_team,
)
from omnidesk.helpdesk.actions.answers import (
    Feedback,
    note_answer,
    note_unsure,
    record_feedback,
)
from omnidesk.helpdesk.actions.base import ActionError, add_timeline, iso
from omnidesk.helpdesk.actions.canned import (
    canned_dict,
    create_canned,
    delete_canned,
    render_canned,
    render_for,
    update_canned,
)
from omnidesk.helpdesk.actions.contacts import resolve_identity, set_contact_email
from omnidesk.helpdesk.actions.conversations import (
    assign,
    current_conversation,
    escalate,
    reopen,
    reopen_ticket,
    resolve,
)
from omnidesk.helpdesk.actions.csat import (
    ask_for_rating,
    comment_on_rating,
    rate,
    rated_ticket,
)
from omnidesk.helpdesk.actions.delivery import (
    claim_deliveries,
    mark_failed,
    mark_sent,
    outbound_message,
    queue_delivery,
    retry_delivery,
)
from omnidesk.helpdesk.actions.labels import clean_labels, labels_of, set_labels
from omnidesk.helpdesk.actions.merges import merge_contacts, unmerge_contacts
from omnidesk.helpdesk.actions.messages import (
    agent_reply,
    count_message,
    message_dict,
    record_message,
    reply,
)
from omnidesk.helpdesk.actions.notes import Note, add_note, mentioned_agents
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
from omnidesk.helpdesk.actions.reads import mark_read, notification_dict, read_notifications
from omnidesk.helpdesk.actions.revisions import (
    delete_inbound_message,
    edit_inbound_message,
    find_inbound_message,
    revise_inbound_message,
)
from omnidesk.helpdesk.actions.sessions import (
    create_api_token,
    end_session,
    end_sessions,
    record_login_attempt,
    revoke_api_token,
    start_session,
    touch_api_token,
    touch_session,
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
from omnidesk.helpdesk.actions.states import Target, set_priority, set_state
from omnidesk.helpdesk.actions.threads import (
    agent_thread_of,
    conversation_of_thread,
    record_agent_thread,
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
    "Note",
    "Target",
    "accept_inbound",
    "add_note",
    "add_timeline",
    "agent_actor",
    "agent_reply",
    "agent_thread_of",
    "ask_for_rating",
    "assign",
    "auto_assigned",
    "canned_dict",
    "claim_deliveries",
    "claim_inbound",
    "clean_labels",
    "comment_on_rating",
    "conversation_of_thread",
    "count_message",
    "create_agent",
    "create_api_token",
    "create_calendar",
    "create_canned",
    "create_rule",
    "create_team",
    "current_conversation",
    "delete_calendar",
    "delete_canned",
    "delete_inbound_message",
    "delete_rule",
    "delete_team",
    "disable_agent",
    "edit_inbound_message",
    "end_session",
    "end_sessions",
    "end_snooze",
    "escalate",
    "find_inbound_message",
    "first_admin",
    "inbound_done",
    "iso",
    "labels_of",
    "mark_failed",
    "mark_read",
    "mark_sent",
    "mentioned_agents",
    "merge_contacts",
    "message_dict",
    "note_answer",
    "note_failed_inbound",
    "note_unsure",
    "notification_dict",
    "notify",
    "open_ticket",
    "open_ticket_for",
    "outbound_message",
    "park_inbound",
    "put_sla_policies",
    "queue_delivery",
    "rate",
    "rated_ticket",
    "read_notifications",
    "record_agent_thread",
    "record_feedback",
    "record_login_attempt",
    "record_message",
    "render_canned",
    "render_for",
    "reopen",
    "reopen_ticket",
    "reply",
    "requeue_unanswered",
    "require_skill",
    "resolve",
    "resolve_identity",
    "retry_delivery",
    "retry_inbound",
    "revise_inbound_message",
    "revoke_api_token",
    "set_agent_teams",
    "set_contact_email",
    "set_labels",
    "set_password",
    "set_priority",
    "set_sla_due",
    "set_state",
    "set_team_members",
    "sla_breached",
    "start_session",
    "touch_api_token",
    "touch_session",
    "unmerge_contacts",
    "update_agent",
    "update_calendar",
    "update_canned",
    "update_rule",
    "update_team",
]
