"""The web chat channel: a WebSocket endpoint and the embeddable widget."""

from omnidesk.channels.webchat.channel import WebchatChannel
from omnidesk.channels.webchat.tokens import VisitorTokens

__all__ = ["VisitorTokens", "WebchatChannel"]
