"""Read-side helpers: conversation lists, views and histories, contacts and timelines, as
the console and channels show them. Nothing here writes."""

from omnidesk.helpdesk.queries.contacts import contact_panel, contact_timeline, undoable_merges
from omnidesk.helpdesk.queries.conversations import (
    CONVERSATION_STATES,
    conversation_messages,
    conversation_summary,
    count_by_state,
    identity_history,
    list_conversations,
    newer_person_reply,
    summaries,
    unread_counts,
)
from omnidesk.helpdesk.queries.export import ContactExport, contact_export, write_zip
from omnidesk.helpdesk.queries.views import ANY, OPEN, Filters, View, list_view, view_counts

__all__ = [
    "ANY",
    "CONVERSATION_STATES",
    "OPEN",
    "ContactExport",
    "Filters",
    "View",
    "contact_export",
    "contact_panel",
    "contact_timeline",
    "conversation_messages",
    "conversation_summary",
    "count_by_state",
    "identity_history",
    "list_conversations",
    "list_view",
    "newer_person_reply",
    "summaries",
    "undoable_merges",
    "unread_counts",
    "view_counts",
    "write_zip",
]
