"""The running parts of one omnidesk process and their lifecycle: engine, event bus,
knowledge base, router, inbox workers, outbox dispatcher, channels and the agents' live
sockets; and the fan-out of events to them, whichever process published."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import TracebackType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from omnidesk.bot.agent_room import AgentRoom
from omnidesk.bot.inbox import Inbox
from omnidesk.bot.migrate import upgrade
from omnidesk.bot.outbox import OutboxDispatcher
from omnidesk.bot.retention import RetentionTask
from omnidesk.bot.router import Router
from omnidesk.bot.sweeper import Sweeper
from omnidesk.bot.webhooks import WebhookSender
from omnidesk.channels import Channel, InboundMessage, InboundResult, OutboundMessage
from omnidesk.channels.registry import platform_channels
from omnidesk.channels.slack import SlackChannel
from omnidesk.channels.webchat import VisitorTokens, WebchatChannel
from omnidesk.config import Settings
from omnidesk.db import create_engine, sessionmaker
from omnidesk.escalation import RuleBook, SurveyThrottle, configure_sla
from omnidesk.helpdesk import (
    Event,
    EventBus,
    LiveHub,
    Message,
    OutboxItem,
    create_bus,
    message_dict,
    queries,
)
from omnidesk.helpdesk.actions import SURVEY_GATE_KEY
from omnidesk.helpdesk.catalogue import CATALOGUE_KEY, Catalogue
from omnidesk.helpdesk.contacts_csv import ImportRunner
from omnidesk.helpdesk.survey import SURVEY_KEY, SurveyLinks
from omnidesk.knowledge import KnowledgeBase

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything one process runs. ``async with Services(settings)`` starts and stops it."""

    settings: Settings
    workers: bool = True
    engine: AsyncEngine = field(init=False)
    sessionmaker: async_sessionmaker[AsyncSession] = field(init=False)
    bus: EventBus = field(init=False)
    kb: KnowledgeBase = field(init=False)
    rules: RuleBook = field(init=False)
    router: Router = field(init=False)
    inbox: Inbox = field(init=False)
    outbox: OutboxDispatcher = field(init=False)
    channels: dict[str, Channel] = field(init=False)
    webchat: WebchatChannel = field(init=False)
    sweeper: Sweeper = field(init=False)
    retention: RetentionTask = field(init=False)
    live: LiveHub = field(init=False)
    # True between a finished start and the beginning of stop (what /readyz reports).
    started: bool = field(default=False, init=False)
    survey_links: SurveyLinks = field(init=False)
    agent_room: AgentRoom | None = field(init=False, default=None)
    imports: ImportRunner = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        settings.ensure_secrets()
        assert settings.secret_key is not None
        self.engine = create_engine(settings.effective_database_url)
        self.sessionmaker = sessionmaker(self.engine)
        self.survey_links = SurveyLinks(
            settings.secret_key.get_secret_value(),
            settings.base_url(),
            int(settings.escalation.csat_link_days * 24 * 3600),
        )
        # What helpdesk actions say to customers, and how they sign rating links.
        # The survey gate is escalation's throttle (one survey per contact per period).
        self.sessionmaker.configure(
            info={
                CATALOGUE_KEY: Catalogue.from_settings(settings),
                SURVEY_KEY: self.survey_links,
                SURVEY_GATE_KEY: SurveyThrottle(settings.escalation),
            }
        )
        self.bus = create_bus(settings.effective_database_url)
        self.kb = KnowledgeBase(settings, self.sessionmaker)
        self.rules = RuleBook(settings.escalation)
        self.router = Router(self.kb, self.rules, self.sessionmaker, settings.escalation)
        self.inbox = Inbox(self.sessionmaker, self.bus, self.router, settings.inbox_workers)
        self.channels = {}
        self.outbox = OutboxDispatcher(
            self.sessionmaker,
            self.channels,
            self.bus,
            WebhookSender(allow_private=settings.webhooks.allow_private_targets),
        )
        self.webchat = WebchatChannel(
            settings.webchat,
            VisitorTokens(
                settings.secret_key.get_secret_value(),
                max_age_days=settings.webchat.visitor_token_days,
            ),
            self.on_message,
            self._webchat_history,
            relay=self._relay_webchat_reply,
        )
        self.add_channel(self.webchat)
        for channel in platform_channels(settings, self.on_message):
            self.add_channel(channel)
        self.bus.subscribe(self._on_event)
        configure_sla(settings.sla)
        self.sweeper = Sweeper(
            self.sessionmaker,
            self.bus,
            settings.escalation,
            lambda: getattr(self.channels.get("slack"), "client", None),
        )
        self.retention = RetentionTask(
            self.sessionmaker, self.bus, settings.privacy, settings.uploads_dir
        )
        self.live = LiveHub(self.sessionmaker, self.bus, settings.public_url)
        # Contact imports from CSV: queued by the API, run here in batches.
        self.imports = ImportRunner(self.sessionmaker, self.bus)
        self.bus.subscribe(self.imports.on_event)
        # An admin changed the handoff rules: read them again on the next turn.
        self.bus.subscribe(self.rules.on_event)
        slack = self.channels.get("slack")
        if isinstance(slack, SlackChannel) and slack.agent_channel:
            self.agent_room = AgentRoom(self.sessionmaker, self.bus, slack, settings.base_url())
            slack.on_agent_message = self.agent_room.on_agent_message
            self.bus.subscribe(self.agent_room.on_event)

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    async def on_message(self, inbound: InboundMessage) -> InboundResult:
        """The callback every channel is given."""
        result = await self.inbox.accept(inbound)
        if result == InboundResult.ACCEPTED:
            # This process's workers are awake already; the others' may be idler.
            await self.bus.publish(Event("inbox"))
        return result

    async def start(self) -> None:
        await upgrade(self.engine)
        await self.bus.start()
        await self.live.start()
        await self.kb.start()
        for channel in self.channels.values():
            await channel.start()
        if self.workers:
            await self.inbox.start()
            await self.outbox.start()
            await self.sweeper.start()
            await self.imports.start()
            await self.retention.start()
        self.started = True

    async def stop(self) -> None:
        self.started = False
        if self.workers:
            await self.imports.stop()
            await self.sweeper.stop()
            await self.retention.stop()
            await self.inbox.stop()
            await self.outbox.stop()
        for channel in self.channels.values():
            try:
                await channel.stop()
            except Exception:
                log.exception("stopping channel %s failed", channel.name)
        await self.live.stop()
        await self.kb.stop()
        await self.bus.stop()
        await self.engine.dispose()

    async def __aenter__(self) -> Services:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _webchat_history(self, visitor: str) -> list[dict[str, object]]:
        async with self.sessionmaker() as session:
            return await queries.identity_history(
                session, self.webchat.name, visitor, self.settings.webchat.history_limit
            )

    async def _on_event(self, event: Event) -> None:
        data = event.data
        if event.kind in ("outbox", "webhook"):
            self.outbox.wake()
        elif event.kind == "inbox" and event.remote:
            self.inbox.wake()
        elif event.kind == "resync":
            # Events were missed while the bus reconnected: let the workers look.
            self.inbox.wake()
            self.outbox.wake()
        elif event.kind == "agent" and self.workers:
            # Someone may have come online: the queue need not wait for the next round.
            self.sweeper.wake()
        elif event.kind == "processed" and data.get("channel") == self.webchat.name:
            await self._show_processed(data)
        elif event.kind == "webchat_reply" and event.remote:
            await self._show_webchat_reply(data)

    async def _relay_webchat_reply(self, visitor: str, message_id: int) -> None:
        await self.bus.publish(
            Event("webchat_reply", {"visitor": visitor, "message_id": message_id})
        )

    async def _show_processed(self, data: dict[str, object]) -> None:
        """The visitor's message is stored: the process holding their tabs echoes it."""
        visitor, message_id = data.get("sender_id"), data.get("message_id")
        if not isinstance(visitor, str) or not self.webchat.connected(visitor):
            return
        async with self.sessionmaker() as session:
            message = await session.get(Message, message_id)
            if message is None:
                return
            body = message_dict(message)
        await self.webchat.processed(visitor, body, bool(data.get("replied")))

    async def _show_webchat_reply(self, data: dict[str, object]) -> None:
        """A reply another process sent: shown here if this process holds the tabs."""
        visitor, message_id = data.get("visitor"), data.get("message_id")
        if not isinstance(visitor, str) or not self.webchat.connected(visitor):
            return
        async with self.sessionmaker() as session:
            payload = await session.scalar(
                select(OutboxItem.payload).where(
                    OutboxItem.message_id == message_id, OutboxItem.channel == self.webchat.name
                )
            )
        if payload is not None:
            await self.webchat.show_reply(OutboundMessage.from_dict(payload))
