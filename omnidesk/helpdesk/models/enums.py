"""The states and kinds the helpdesk tables hold, as string enums."""

from __future__ import annotations

import enum


class ConversationState(enum.StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    # Waiting on the customer, or put aside until ``snoozed_until``: still a person's.
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    CLOSED = "closed"


# While a conversation is in one of these states a person owns it and the bot is silent.
HUMAN_OWNED = (
    ConversationState.QUEUED,
    ConversationState.ASSIGNED,
    ConversationState.PENDING,
    ConversationState.SNOOZED,
)


class Author(enum.StrEnum):
    CONTACT = "contact"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class TicketState(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class InboxState(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class AgentRole(enum.StrEnum):
    """What a signed-in person may do. An admin may do everything an agent may."""

    AGENT = "agent"
    ADMIN = "admin"


class Availability(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class AssignmentMode(enum.StrEnum):
    """How a team's queue hands conversations to its agents."""

    ROUND_ROBIN = "round_robin"
    LEAST_BUSY = "least_busy"
    MANUAL = "manual"
