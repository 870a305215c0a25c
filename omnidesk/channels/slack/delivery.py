"""What a failed Web API call means for a delivery: wait and retry, or give up.

Slack answers a rate limit with HTTP 429 and ``Retry-After``; its own trouble with 5xx
or a handful of ``ok: false`` codes; everything else with ``ok: false`` and a code that
will not change on retry (a channel that is gone, a revoked token, a bad argument). A
call that timed out may have posted all the same: ``find_posted`` looks before a retry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from omnidesk.channels.base import DeliveryReceipt

log = logging.getLogger(__name__)

# ok:false codes that describe Slack's state, not the request's
# (https://api.slack.com/methods/chat.postMessage#errors).
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "request_timeout",
        "service_unavailable",
        "fatal_error",
        "internal_error",
        "team_added_to_org",
    }
)
# Block Kit the API refused: sent again as plain text rather than lost.
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})
MAX_RETRY_AFTER = 3600.0


def error_code(exc: SlackApiError) -> str | None:
    data = getattr(exc.response, "data", None)
    if isinstance(data, Mapping):
        code = data.get("error")
        return str(code) if code else None
    return None


def receipt_for(exc: BaseException) -> DeliveryReceipt:
    """The receipt for a call that raised ``exc``."""
    if not isinstance(exc, SlackApiError):
        # Timeouts, refused connections, a reset mid-response: the network, so retry.
        return DeliveryReceipt(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
    status = int(getattr(exc.response, "status_code", 0) or 0)
    code = error_code(exc)
    error = f"slack {code or 'error'} (HTTP {status})"
    if status == 429:
        headers = getattr(exc.response, "headers", None) or {}
        return DeliveryReceipt(ok=False, error=error, retry_after=retry_after(headers))
    if status >= 500 or status == 408 or code in TRANSIENT_ERRORS:
        return DeliveryReceipt(ok=False, error=error)
    # A 200 with ok:false, or a 4xx: the same request will fail the same way.
    return DeliveryReceipt(ok=False, error=error, permanent=True)


def retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds from a ``Retry-After`` header, or None when absent or unreadable."""
    value = None
    for name, candidate in headers.items():
        if str(name).lower() == "retry-after":
            value = candidate
            break
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        seconds = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    if seconds is None or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


async def find_posted(
    client: AsyncWebClient, channel: str, thread_ts: str | None, message_id: int
) -> str | None:
    """The ts of our post that carries ``message_id`` in its metadata, when Slack has it:
    a call that failed may have posted anyway, and Slack has no idempotency key."""
    try:
        if thread_ts is not None:
            response = await client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=100
            )
        else:
            response = await client.conversations_history(
                channel=channel, include_all_metadata=True, limit=50
            )
    except Exception as exc:  # the check is best effort; the retry decides
        log.info("could not look for message %s in Slack: %r", message_id, exc)
        return None
    for posted in response.get("messages") or []:
        payload = (posted.get("metadata") or {}).get("event_payload") or {}
        if payload.get("omnidesk_message_id") == message_id and posted.get("ts"):
            return str(posted["ts"])
    return None
