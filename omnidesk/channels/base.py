"""The one message type every channel converts to and from, and the ``Channel`` contract.

Adapters are edges: they verify platform traffic, turn it into an ``InboundMessage``,
hand it to the injected ``on_message`` callback, and turn ``OutboundMessage`` back into
the platform's call. No business rule lives in a channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from aiohttp import web

# The message types live in ``omnidesk.messages`` so that ``helpdesk`` can build an
# ``OutboundMessage`` without importing ``channels``; they are re-exported here.
from omnidesk.messages import (
    Action,
    Attachment,
    Button,
    Citation,
    DeliveryReceipt,
    InboundMessage,
    InboundResult,
    OutboundMessage,
    RoomPost,
)

__all__ = [
    "Action",
    "AgentMessage",
    "Attachment",
    "Button",
    "Channel",
    "ChannelError",
    "Citation",
    "DeliveryReceipt",
    "InboundMessage",
    "InboundResult",
    "OnAgentMessage",
    "OnMessage",
    "OutboundMessage",
    "RoomPost",
]


OnMessage = Callable[[InboundMessage], Awaitable[InboundResult]]


@dataclass(frozen=True, slots=True)
class AgentMessage:
    """A person's reply in an agent room's thread (a Slack agent channel), where an
    escalation was posted: for the service to send on to the customer, never to be
    taken as a customer's message. ``dedupe_key`` is the platform's id of the delivery."""

    platform: str
    room_id: str
    thread_id: str
    user_id: str
    text: str
    dedupe_key: str
    user_name: str | None = None
    user_email: str | None = None


OnAgentMessage = Callable[[AgentMessage], Awaitable[None]]


@runtime_checkable
class Channel(Protocol):
    """What the service needs of a channel adapter."""

    name: str

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """HTTP routes the adapter mounts in the one aiohttp server."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: OutboundMessage) -> DeliveryReceipt: ...


class ChannelError(Exception):
    """A platform request that the adapter refuses, with a message safe to show."""
