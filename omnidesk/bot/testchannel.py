"""A channel that keeps what it is sent: for ``omnidesk ask`` and conversational tests."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from omnidesk.channels import DeliveryReceipt, OutboundMessage


class CaptureChannel:
    """Delivers into a list instead of a platform."""

    def __init__(self, name: str = "cli") -> None:
        self.name = name
        self.sent: list[OutboundMessage] = []

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, message: OutboundMessage) -> DeliveryReceipt:
        self.sent.append(message)
        return DeliveryReceipt(ok=True, external_id=f"{self.name}-{len(self.sent)}")
