"""Channel adapters: each turns platform traffic into ``InboundMessage`` and back."""

from omnidesk.channels.base import (
    Action,
    Attachment,
    Button,
    Channel,
    ChannelError,
    Citation,
    DeliveryReceipt,
    InboundMessage,
    InboundResult,
    OnMessage,
    OutboundMessage,
)

__all__ = [
    "Action",
    "Attachment",
    "Button",
    "Channel",
    "ChannelError",
    "Citation",
    "DeliveryReceipt",
    "InboundMessage",
    "InboundResult",
    "OnMessage",
    "OutboundMessage",
]
