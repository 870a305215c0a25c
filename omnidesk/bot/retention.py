"""The retention task: a named background loop that, every
``privacy.retention_interval_hours``, redacts or deletes the conversations closed more
than ``privacy.retention_days`` ago (``actions.retain_batch``, one transaction per
batch), removes their stored files after each commit, drops inbound rows handled
before the same cutoff (they keep the raw message), records the run in
``retention_runs`` and announces its counts on the bus (``retention``; ``/metrics``
counts them). With no ``retention_days`` set it does nothing.

Time drives it, like the sweeper, so a plain timed loop is the right tool.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.config import PrivacySettings
from omnidesk.db import utcnow
from omnidesk.helpdesk import EventBus, actions, emit, unit_of_work
from omnidesk.helpdesk.models import RetentionRun
from omnidesk.helpdesk.uploads import remove_uploads

log = logging.getLogger(__name__)


class RetentionTask:
    """``start()`` begins the loop, ``stop()`` ends it; ``run_once()`` is one run."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        settings: PrivacySettings,
        uploads_dir: Path | None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._settings = settings
        self._uploads_dir = uploads_dir
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._settings.retention_days is not None:
            self._task = asyncio.create_task(self._loop(), name="omnidesk-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self, now: dt.datetime | None = None) -> RetentionRun | None:
        """Apply the retention rule once; the run's row, or None when retention is off."""
        days, mode = self._settings.retention_days, self._settings.retention_mode
        if days is None:
            return None
        cutoff = (now or utcnow()) - dt.timedelta(days=days)
        async with unit_of_work(self._sessionmaker) as session:
            run = actions.start_retention_run(session, mode, days)
            await session.flush()
            run_id = run.id
        done = actions.Redaction()
        while True:
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                batch = await actions.retain_batch(
                    session, mode, cutoff, self._settings.retention_batch
                )
            await asyncio.to_thread(remove_uploads, self._uploads_dir, batch.files)
            done.add(batch)
            if batch.conversations < self._settings.retention_batch:
                break
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            await actions.purge_inbox(session, cutoff)
            if done.conversations:
                await actions.compact_search_index(session)
            run = await actions.finish_retention_run(session, run_id, done)
            emit(session, "retention", run_id=run_id, mode=mode, **done.counts())
        log.info("retention run %s (%s after %s days): %s", run_id, mode, days, done.counts())
        return run

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                # One bad run (a database hiccup) must not end retention for good.
                log.exception("retention run failed")
            await asyncio.sleep(self._settings.retention_interval_hours * 3600)
