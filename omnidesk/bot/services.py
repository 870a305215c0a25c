"""The running parts of one omnidesk process and their lifecycle: engine, knowledge
base, router, inbox workers, outbox dispatcher and channels."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from omnidesk.bot.inbox import Inbox
from omnidesk.bot.migrate import upgrade
from omnidesk.bot.outbox import OutboxDispatcher
from omnidesk.bot.router import Router
from omnidesk.bot.sweeper import Sweeper
from omnidesk.channels import Channel, InboundMessage, InboundResult
from omnidesk.channels.registry import platform_channels
from omnidesk.channels.webchat import VisitorTokens, WebchatChannel
from omnidesk.config import Settings
from omnidesk.db import create_engine, sessionmaker
from omnidesk.escalation import HandoffRules, configure_sla
from omnidesk.helpdesk import Event, EventBus, queries
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
    router: Router = field(init=False)
    inbox: Inbox = field(init=False)
    outbox: OutboxDispatcher = field(init=False)
    channels: dict[str, Channel] = field(init=False)
    webchat: WebchatChannel = field(init=False)
    sweeper: Sweeper = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        settings.ensure_secrets()
        assert settings.secret_key is not None
        self.engine = create_engine(settings.effective_database_url)
        self.sessionmaker = sessionmaker(self.engine)
        self.bus = EventBus()
        self.kb = KnowledgeBase(settings, self.sessionmaker)
        self.router = Router(self.kb, HandoffRules(settings.escalation), self.sessionmaker)
        self.inbox = Inbox(self.sessionmaker, self.bus, self.router, settings.inbox_workers)
        self.channels = {}
        self.outbox = OutboxDispatcher(self.sessionmaker, self.channels)
        self.webchat = WebchatChannel(
            settings.webchat,
            VisitorTokens(settings.secret_key.get_secret_value()),
            self.on_message,
            self._webchat_history,
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

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    async def on_message(self, inbound: InboundMessage) -> InboundResult:
        """The callback every channel is given."""
        return await self.inbox.accept(inbound)

    async def start(self) -> None:
        await upgrade(self.engine)
        await self.kb.start()
        for channel in self.channels.values():
            await channel.start()
        if self.workers:
            await self.inbox.start()
            await self.outbox.start()
            await self.sweeper.start()

    async def stop(self) -> None:
        if self.workers:
            await self.sweeper.stop()
            await self.inbox.stop()
            await self.outbox.stop()
        for channel in self.channels.values():
            try:
                await channel.stop()
            except Exception:
                log.exception("stopping channel %s failed", channel.name)
        await self.kb.stop()
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
        if event.kind == "outbox":
            self.outbox.wake()
        elif event.kind == "processed" and event.data["channel"] == self.webchat.name:
            await self.webchat.processed(
                event.data["sender_id"], event.data["message"], event.data["replied"]
            )
