"""Who a Slack user is, from ``users.info``: their name and email, so the same person on
email and on Slack becomes one contact. Answers are cached briefly because every
message of a conversation would otherwise ask again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from omnidesk.channels.slack.cache import TTLCache
from omnidesk.channels.slack.convert import SlackUser, user_of

log = logging.getLogger(__name__)

USER_TTL_SECONDS = 300.0
LOOKUP_TIMEOUT_SECONDS = 3.0
# Names looked up for one message's mentions; past this they stay ``@U…``: Slack waits
# three seconds for its answer.
MAX_NAME_LOOKUPS = 10


class UserDirectory:
    """``users.info`` behind a short cache."""

    def __init__(
        self,
        client: AsyncWebClient,
        ttl: float = USER_TTL_SECONDS,
        timeout: float = LOOKUP_TIMEOUT_SECONDS,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._timeout = timeout
        self._cache: TTLCache[str, SlackUser] = TTLCache()

    async def lookup(self, user_id: str) -> SlackUser | None:
        """The user, or None when Slack cannot say right now.

        Who the sender is only enriches the message: a failed lookup must never cost the
        message itself, and it must stay well inside Slack's three seconds to answer.
        """
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            # Slack answered (user_not_found, missing_scope): asking again soon will not
            # change that, so the empty answer is cached too.
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            user = SlackUser(id=user_id)
            self._cache.put(user_id, user, self._ttl)
            return user
        except Exception as exc:
            log.warning("users.info for %s failed: %s: %s", user_id, type(exc).__name__, exc)
            return None
        info = response.get("user")
        user = user_of(info) if isinstance(info, dict) else SlackUser(id=user_id)
        self._cache.put(user_id, user, self._ttl)
        return user

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """The names of these people by user id, looked up at once; one Slack cannot
        name is left out (the text keeps a readable ``@U…``)."""
        wanted = sorted(uid for uid in set(user_ids) if uid)[:MAX_NAME_LOOKUPS]
        found = await asyncio.gather(*(self.lookup(uid) for uid in wanted))
        return {uid: u.name for uid, u in zip(wanted, found, strict=True) if u and u.name}
