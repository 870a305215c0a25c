"""The pieces of one live socket: its guard (a signed-in agent),
a token bucket against floods, and the agent's socket with its own writer task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiohttp import WSCloseCode, web

from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.http import Handler, agents_only
from omnidesk.helpdesk.presence import Viewer
from omnidesk.ratelimit import Bucket

log = logging.getLogger(__name__)

SEND_QUEUE = 256  # frames waiting for one socket before it counts as stuck
RATE_BURST = 30
RATE_PER_SECOND = 5.0

Guard = Callable[[Handler], Handler]


def live_guard() -> Guard:
    """The socket's guard: a signed-in agent (the session cookie; the auth middleware
    checks it like any route's)."""
    return agents_only


def socket_bucket() -> Bucket:
    """A tab cannot flood the bus with typing frames."""
    return Bucket(RATE_BURST, RATE_PER_SECOND)


class AgentSocket:
    """One agent's socket, with its own writer so a slow tab never holds up the others."""

    def __init__(
        self, ws: web.WebSocketResponse, actor: Actor, key: str, session_id: str | None = None
    ) -> None:
        self.ws, self.actor, self.key = ws, actor, key
        # The signed-in browser session it was opened with (None for an API token).
        self.session_id = session_id
        self.viewing: int | None = None
        self.typing: tuple[int, bool, float] | None = None
        self.stuck = False
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(SEND_QUEUE)
        self.writer = asyncio.create_task(self._write(), name=f"live-writer-{key}")

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.key, self.actor.agent_id, self.actor.name)

    def send(self, text: str) -> None:
        if self.stuck:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            # It stopped reading; closing makes the console reconnect and reload.
            log.warning("live socket %s is stuck; closing it", self.key)
            self.stuck = True
            self.writer.cancel()
            asyncio.create_task(self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER))  # noqa: RUF006

    async def _write(self) -> None:
        while (text := await self.queue.get()) is not None:
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def close(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer, 2.0)
        self.writer.cancel()
