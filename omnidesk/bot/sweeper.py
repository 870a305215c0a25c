"""The sweeper: a named background task that runs the escalation sweeps (SLA breaches,
unanswered timeouts, ended snoozes, the queue) every ``escalation.sweep_seconds``, and
posts breaches to the Slack alert channel when one is configured.

It is driven by time, not events, so a plain timed loop is the right tool here; the one
event that matters to it (an agent's availability changed, so the queue may have
someone to go to now) wakes it early with ``wake()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.config import EscalationSettings
from omnidesk.escalation import BreachAlert, SweepReport, sweep_once
from omnidesk.helpdesk import EventBus

log = logging.getLogger(__name__)

# Returns the Slack Web API client when the Slack channel is on, else None.
SlackClient = Callable[[], Any]


class Sweeper:
    """``start()`` begins the loop, ``stop()`` ends it; ``run_once()`` is one round."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        settings: EscalationSettings,
        slack_client: SlackClient = lambda: None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._settings = settings
        self._slack_client = slack_client
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="omnidesk-sweeper")

    def wake(self) -> None:
        """Run a round now rather than at the end of the wait (an agent came online: a
        queued customer should not wait ``sweep_seconds`` for them)."""
        self._woken.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._woken.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> SweepReport:
        report = await sweep_once(self._sessionmaker, self._bus, self._settings)
        for alert in report.alerts:
            await self._post(alert)
        return report

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            # Cleared before the round, so a wake-up during it brings another round.
            self._woken.clear()
            try:
                await self.run_once()
            except Exception:
                # One bad round (a database hiccup) must not end the sweeps for good.
                log.exception("escalation sweep failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.sweep_seconds):
                    await self._woken.wait()

    async def _post(self, alert: BreachAlert) -> None:
        channel = self._settings.slack_alert_channel
        client = self._slack_client() if channel else None
        if client is None:
            return
        try:
            await client.chat_postMessage(channel=channel, text=alert.text())
        except Exception:
            # The breach is on the timeline and in the console either way.
            log.exception("posting the SLA alert for ticket %s to Slack failed", alert.ticket_id)
