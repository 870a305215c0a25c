"""Channel adapters: each turns platform traffic into ``InboundMessage`` and back."""

from omnidesk.channels.base import (
    Action,
    AgentMessage,
    Attachment,
    Button,
    Channel,
    ChannelError,
    Citation,
    DeliveryReceipt,
    InboundMessage,
    InboundResult,
    OnAgentMessage,
    OnMessage,
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
