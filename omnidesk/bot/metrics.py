"""Operations: Prometheus metrics at ``/metrics`` and the readiness probe ``/readyz``.

``/metrics`` is for admins (a Prometheus scrape sends an admin's API token as a bearer
token): how deep and how old the inbox is, deliveries waiting, retrying and failed, how
long turns take from the customer's message to the committed answer, handoffs by reason,
what the retention task redacted or deleted, and open sockets. Queue figures are read
from the database at each scrape, so every process reports the shared queues; counters
and the histogram are this process's own.
``/readyz`` answers 200 while the database answers and the services (knowledge base,
workers, channels) are started, 503 otherwise (``/healthz`` only says the process is up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from sqlalchemy import func, select, text

from omnidesk.db import utcnow
from omnidesk.helpdesk import DeliveryState, Event, InboxItem, InboxState, OutboxItem, admin_only

if TYPE_CHECKING:
    from omnidesk.bot.services import Services

REGISTRY = CollectorRegistry()
TURN_SECONDS = Histogram(
    "omnidesk_turn_seconds",
    "From a customer's message being accepted to its turn committed",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
HANDOFFS = Counter(
    "omnidesk_handoffs", "Conversations handed to people", ["reason"], registry=REGISTRY
)
DELIVERIES = Counter(
    "omnidesk_deliveries", "Replies delivered or failed for good", ["state"], registry=REGISTRY
)
RETAINED = Counter(
    "omnidesk_retention",
    "What the retention task redacted or deleted",
    ["mode", "kind"],
    registry=REGISTRY,
)
INBOX_PENDING = Gauge(
    "omnidesk_inbox_pending", "Inbound messages waiting for a worker", registry=REGISTRY
)
INBOX_AGE = Gauge(
    "omnidesk_inbox_oldest_pending_seconds",
    "Age of the oldest inbound message waiting",
    registry=REGISTRY,
)
INBOX_FAILED = Gauge("omnidesk_inbox_failed", "Inbound messages parked", registry=REGISTRY)
OUTBOX = Gauge(
    "omnidesk_outbox", "Deliveries by state (retrying: pending after a failure)", ["state"],
    registry=REGISTRY,
)  # fmt: skip
SOCKETS = Gauge(
    "omnidesk_open_sockets", "WebSockets open in this process", ["kind"], registry=REGISTRY
)


class Metrics:
    """Counts what passes on the bus and reads the queues when scraped."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def install(self, app: web.Application) -> list[web.AbstractRoute]:
        """Mount ``/metrics`` (admins) and return ``/readyz`` for the caller to open."""
        self._services.bus.subscribe(self._on_event)
        app.router.add_get("/metrics", admin_only(self.metrics))
        return [app.router.add_get("/readyz", self.readyz)]

    async def _on_event(self, event: Event) -> None:
        if event.remote:
            return  # the process that made it counts it
        if event.kind == "conversation" and isinstance(event.data.get("reason"), str):
            HANDOFFS.labels(reason=event.data["reason"][:64]).inc()
        elif event.kind == "delivery" and event.data.get("state") in (
            DeliveryState.SENT,
            DeliveryState.FAILED,
        ):
            DELIVERIES.labels(state=event.data["state"]).inc()
        elif event.kind == "retention" and event.data.get("mode") in ("redact", "delete"):
            for kind in ("conversations", "messages", "attachments"):
                count = event.data.get(kind)
                if isinstance(count, int) and count > 0:
                    RETAINED.labels(mode=event.data["mode"], kind=kind).inc(count)

    async def refresh(self) -> None:
        async with self._services.sessionmaker() as session:
            inbox = dict(
                (await session.execute(
                    select(InboxItem.state, func.count()).group_by(InboxItem.state)
                )).tuples().all()
            )  # fmt: skip
            oldest = await session.scalar(
                select(func.min(InboxItem.received_at)).where(InboxItem.state == InboxState.PENDING)
            )
            outbox = dict(
                (await session.execute(
                    select(OutboxItem.state, func.count()).group_by(OutboxItem.state)
                )).tuples().all()
            )  # fmt: skip
            retrying = await session.scalar(
                select(func.count()).where(
                    OutboxItem.state == DeliveryState.PENDING, OutboxItem.attempts > 0
                )
            )
        INBOX_PENDING.set(inbox.get(InboxState.PENDING, 0))
        INBOX_FAILED.set(inbox.get(InboxState.FAILED, 0))
        INBOX_AGE.set((utcnow() - oldest).total_seconds() if oldest else 0)
        for state in DeliveryState:
            OUTBOX.labels(state=state).set(outbox.get(state, 0))
        OUTBOX.labels(state="retrying").set(retrying or 0)
        SOCKETS.labels(kind="webchat").set(self._services.webchat.open_sockets())
        SOCKETS.labels(kind="agents").set(self._services.live.connected())

    async def metrics(self, request: web.Request) -> web.Response:
        await self.refresh()
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def readyz(self, request: web.Request) -> web.Response:
        problems = []
        try:
            async with self._services.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            problems.append(f"database: {type(exc).__name__}")
        if not self._services.started:
            problems.append("services: starting or stopping")
        if problems:
            return web.json_response({"status": "starting", "problems": problems}, status=503)
        return web.json_response({"status": "ready"})
