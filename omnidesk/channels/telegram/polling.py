"""Long polling with getUpdates, for a machine Telegram cannot reach with a webhook.

The batch is fetched as raw JSON, not through ``Bot.get_updates``: the library reads a
whole batch at once, so one update it cannot read would fail every update with it, the
offset would never move and the batch would be fetched (and logged) again for ever.
Here each update is handed on by itself and converted (or parked) one by one.

The offset moves past an update only after its handler returned, that is after the
message is committed to the inbox; anything that fails is fetched again after a capped,
jittered back-off, and the inbox refuses what was already committed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from omnidesk import untrusted
from omnidesk.channels.telegram.inbound import ALLOWED_UPDATES
from omnidesk.channels.telegram.outbound import retry_after_seconds

log = logging.getLogger(__name__)

Handle = Callable[[Mapping[str, Any]], Awaitable[object]]
# Telegram answers with at most 100 updates; this bounds what one answer may hold.
MAX_BATCH_BYTES = 32 * 1024 * 1024
BATCH_LIMIT = 100


def backoff(failures: int, base: float, cap: float) -> float:
    """Capped exponential back-off with jitter, in seconds."""
    delay: float = min(cap, base * 2.0 ** max(0, failures - 1))
    return delay * random.uniform(0.5, 1.0)


class UpdateSource:
    """``getUpdates`` over HTTP, answering the raw updates; Bot API errors raise the
    library's own exception types, so callers treat them as they treat the library's."""

    def __init__(self, api_url: str) -> None:
        self._url = f"{api_url}/getUpdates"
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def fetch(self, offset: int | None, wait: int) -> list[Any]:
        """One long poll of up to ``wait`` seconds: the updates from ``offset`` on, as
        Telegram sent them."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        body: dict[str, Any] = {"timeout": wait, "allowed_updates": list(ALLOWED_UPDATES)}
        if offset is not None:
            body["offset"] = offset
        limit = aiohttp.ClientTimeout(total=wait + 15, sock_connect=10)
        try:
            async with self._http.post(self._url, json=body, timeout=limit) as resp:
                raw = await resp.content.read(MAX_BATCH_BYTES + 1)
                status = resp.status
        except TimeoutError:
            raise TimedOut("getUpdates timed out") from None
        except aiohttp.ClientError as exc:
            # Not the exception's text: it may carry the URL, and the URL the bot token.
            raise NetworkError(f"getUpdates failed: {type(exc).__name__}") from None
        if len(raw) > MAX_BATCH_BYTES:
            raise NetworkError("getUpdates answer too large")
        return _result(status, raw)


def _result(status: int, raw: bytes) -> list[Any]:
    try:
        answer = untrusted.loads(raw)
    except untrusted.UntrustedInput:
        raise NetworkError(f"getUpdates answered {status} with no JSON") from None
    if not isinstance(answer, dict):
        raise NetworkError(f"getUpdates answered {status} with no JSON object")
    if answer.get("ok") is True and isinstance(answer.get("result"), list):
        return answer["result"]
    description = str(answer.get("description") or f"HTTP {status}")
    parameters = answer.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    code = answer.get("error_code", status)
    if code == 429 and isinstance(retry_after, int):
        raise RetryAfter(retry_after)
    if code == 409:
        raise Conflict(description)
    if code in (401, 404):
        raise InvalidToken(description)
    raise NetworkError(description)


class Poller:
    """Fetches updates and hands them, in order and one by one, to ``handle``."""

    def __init__(
        self,
        source: UpdateSource,
        handle: Handle,
        *,
        timeout: int,
        retry_base: float,
        retry_cap: float,
    ) -> None:
        self._source = source
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
                    # Its text may quote the customer's words (a database error quotes
                    # the row): the name here, the whole of it only at DEBUG.
                    log.error(
                        "telegram update handling failed (%s); retrying in %.1fs",
                        type(exc).__name__,
                        delay,
                    )
                    log.debug("telegram update handling failed", exc_info=True)
                await asyncio.sleep(delay)
                continue
            failures = 0

    async def poll_once(self) -> int:
        """One getUpdates call and its updates; returns how many were handled."""
        updates = await self._source.fetch(self.offset, self._timeout)
        handled = 0
        for data in updates[:BATCH_LIMIT]:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                # Nothing to key it by or to move the offset with: only Telegram's own
                # bug could send it, and only its later neighbours can move us on.
                log.warning("telegram sent an update without an update_id; skipped")
                continue
            await self._handle(data)
            handled += 1
            # Telegram forgets an update once asked for a higher offset: only now.
            self.offset = update_id + 1
        return handled
