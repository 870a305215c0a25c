"""Every helpdesk table, split by domain: the customer's side, the message transport,
the people, their work, the customer record, the policies admins configure, the audit
log and outbound webhooks."""

from omnidesk.helpdesk.models.audit import AuditEntry
from omnidesk.helpdesk.models.conversations import (
    ChannelIdentity,
    Contact,
    Conversation,
    Message,
    Ticket,
    TimelineEvent,
)
from omnidesk.helpdesk.models.customers import AttributeDefinition, ContactAddress, SurveySend
from omnidesk.helpdesk.models.enums import (
    HUMAN_OWNED,
    AgentRole,
    AssignmentMode,
    Author,
    Availability,
    ConversationState,
    DeliveryState,
    InboxState,
    Priority,
    TicketState,
)
from omnidesk.helpdesk.models.imports import ContactImport, ContactImportError
from omnidesk.helpdesk.models.people import (
    Agent,
    AgentSession,
    ApiToken,
    LoginAttempt,
    Notification,
    Team,
    TeamMember,
)
from omnidesk.helpdesk.models.policies import BusinessCalendar, EscalationRule, SlaPolicy
from omnidesk.helpdesk.models.privacy import RetentionRun
from omnidesk.helpdesk.models.transport import InboxItem, OutboxItem
from omnidesk.helpdesk.models.webhooks import Webhook, WebhookDelivery
from omnidesk.helpdesk.models.work import (
    AgentThread,
    CannedResponse,
    ConversationLabel,
    ConversationRead,
)

__all__ = [
    "HUMAN_OWNED",
    "Agent",
    "AgentRole",
    "AgentSession",
    "AgentThread",
    "ApiToken",
    "AssignmentMode",
    "AttributeDefinition",
    "AuditEntry",
    "Author",
    "Availability",
    "BusinessCalendar",
    "CannedResponse",
    "ChannelIdentity",
    "Contact",
    "ContactAddress",
    "ContactImport",
    "ContactImportError",
    "Conversation",
    "ConversationLabel",
    "ConversationRead",
    "ConversationState",
    "DeliveryState",
    "EscalationRule",
    "InboxItem",
    "InboxState",
    "LoginAttempt",
    "Message",
    "Notification",
    "OutboxItem",
    "Priority",
    "RetentionRun",
    "SlaPolicy",
    "SurveySend",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketState",
    "TimelineEvent",
    "Webhook",
    "WebhookDelivery",
]
