"""Long polling with getUpdates, for a machine Telegram cannot reach with a webhook.

The offset moves past an update only after its handler returned, that is after the
message is committed to the inbox; anything that fails is fetched again after a capped,
jittered back-off, and the inbox refuses what was already committed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.error import RetryAfter, TelegramError, TimedOut

from omnidesk.channels.telegram.inbound import ALLOWED_UPDATES
from omnidesk.channels.telegram.outbound import retry_after_seconds

log = logging.getLogger(__name__)

Handle = Callable[[Update], Awaitable[object]]


def backoff(failures: int, base: float, cap: float) -> float:
    """Capped exponential back-off with jitter, in seconds."""
    delay: float = min(cap, base * 2.0 ** max(0, failures - 1))
    return delay * random.uniform(0.5, 1.0)


class Poller:
    """Fetches updates and hands them, in order, to ``handle``."""

    def __init__(
        self,
        bot: Bot,
        handle: Handle,
        *,
        timeout: int,
        retry_base: float,
        retry_cap: float,
    ) -> None:
        self._bot = bot
        self._handle = handle
        self._timeout = timeout
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self.offset: int | None = None

    async def run(self) -> None:
        """Poll until cancelled."""
        failures = 0
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except TimedOut:
                # A long poll that outlived the read timeout: just ask again.
                continue
            except Exception as exc:
                failures += 1
                delay = backoff(failures, self._retry_base, self._retry_cap)
                if isinstance(exc, TelegramError):
                    log.warning("telegram polling failed (%s); retrying in %.1fs", exc, delay)
                else:
                    log.exception("telegram update handling failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                continue
            failures = 0

    async def poll_once(self) -> int:
        """One getUpdates call and its updates; returns how many were handled."""
        updates = await self._bot.get_updates(
            offset=self.offset, timeout=self._timeout, allowed_updates=ALLOWED_UPDATES
        )
        for update in updates:
            await self._handle(update)
            # Telegram forgets an update once asked for a higher offset: only now.
            self.offset = update.update_id + 1
        return len(updates)
