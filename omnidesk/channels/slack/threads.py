"""Whether the bot is part of a channel thread, so that a reply there without a mention
is taken as meant for it. Slack's ``conversations.replies`` is the truth; what this
process posted or was asked in is remembered so most checks need no call, and any
process of a scaled-out service reaches the same answer."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

from omnidesk.channels.slack.cache import TTLCache
from omnidesk.channels.slack.convert import mentions

log = logging.getLogger(__name__)

KNOWN_TTL_SECONDS = 7 * 24 * 3600.0
# A "no" is kept only briefly: the bot may be asked in that thread a moment later.
UNKNOWN_TTL_SECONDS = 30.0
REPLIES_LIMIT = 200
LOOKUP_TIMEOUT_SECONDS = 3.0


class ThreadMemory:
    """Threads the bot takes part in."""

    def __init__(self, client: AsyncWebClient, timeout: float = LOOKUP_TIMEOUT_SECONDS) -> None:
        self._client = client
        self._timeout = timeout
        self._cache: TTLCache[tuple[str, str], bool] = TTLCache()

    def remember(self, channel: str, thread_ts: str) -> None:
        self._cache.put((channel, thread_ts), True, KNOWN_TTL_SECONDS)

    async def bot_in_thread(self, channel: str, thread_ts: str, bot_user_id: str | None) -> bool:
        """True when the bot posted in the thread or was mentioned in it (first page of
        replies only: a thread that long is a discussion, not a support question)."""
        known = self._cache.get((channel, thread_ts))
        if known is not None:
            return known
        if not bot_user_id:
            return False
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.conversations_replies(
                    channel=channel, ts=thread_ts, limit=REPLIES_LIMIT
                )
        except Exception as exc:
            # Unknown is treated as "not ours": the customer can still mention the bot.
            log.warning("conversations.replies for %s failed: %s", channel, exc)
            return False
        messages = response.get("messages") or []
        involved = any(
            m.get("user") == bot_user_id or mentions(str(m.get("text") or ""), bot_user_id)
            for m in messages
            if isinstance(m, dict)
        )
        self._cache.put(
            (channel, thread_ts), involved, KNOWN_TTL_SECONDS if involved else UNKNOWN_TTL_SECONDS
        )
        return involved
