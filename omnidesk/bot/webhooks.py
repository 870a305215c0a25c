"""Sending one webhook delivery: the JSON body signed with the endpoint's secret, POSTed
once with a timeout, and the answer sorted into sent, try again later, or failed for good.

The receiver checks ``X-Omnidesk-Signature: v1=<hex>``, the HMAC-SHA256 with the secret
of ``f"{timestamp}.{body}"`` (``X-Omnidesk-Timestamp``, unix seconds; the raw body), and
may refuse an old timestamp. ``X-Omnidesk-Delivery`` is the same on every retry of one
delivery, so a receiver can drop what it already has."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from omnidesk.untrusted import clean_text

TIMEOUT_SECONDS = 10.0
# What is read of an answer: enough for the error line, never a whole large page.
MAX_RESPONSE_BYTES = 4096
MAX_RETRY_AFTER_SECONDS = 3600
RETRIED_STATUSES = frozenset({408, 429})
USER_AGENT = "omnidesk-webhooks/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Omnidesk-Signature`` value for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    if not timestamp.isdigit():
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), header)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt went: ``ok``; else ``error`` with ``permanent`` (do not retry) or
    ``retry_after`` (seconds the endpoint asked for)."""

    ok: bool
    status: int | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None


def judge(status: int, snippet: str, retry_after: str | None) -> Outcome:
    """2xx is delivered; 408, 429 and 5xx may pass later; any other answer (a redirect,
    which is never followed, or a 4xx) will not, so the delivery fails for good."""
    if 200 <= status < 300:
        return Outcome(True, status)
    error = f"HTTP {status}" + (f": {snippet}" if snippet else "")
    if status in RETRIED_STATUSES or status >= 500:
        wait = None
        if retry_after is not None and retry_after.strip().isdigit():
            wait = float(min(int(retry_after.strip()), MAX_RETRY_AFTER_SECONDS))
        return Outcome(False, status, error, retry_after=wait)
    if 300 <= status < 400:
        error = f"HTTP {status}: redirects are not followed; give the final URL"
    return Outcome(False, status, error, permanent=True)


class WebhookSender:
    """POSTs deliveries with one shared HTTP client (made on first use)."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._client: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def send(self, url: str, secret: str, payload: dict[str, Any]) -> Outcome:
        body = encode(payload)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Omnidesk-Event": str(payload.get("event", "")),
            "X-Omnidesk-Delivery": str(payload.get("id", "")),
            "X-Omnidesk-Timestamp": str(timestamp),
            "X-Omnidesk-Signature": signature(secret, timestamp, body),
        }
        if self._client is None:
            self._client = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._client.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                raw = await response.content.read(MAX_RESPONSE_BYTES)
                snippet = clean_text(raw.decode("utf-8", "replace")).strip()[:300]
                return judge(response.status, snippet, response.headers.get("Retry-After"))
        except (aiohttp.InvalidURL, ValueError) as exc:
            return Outcome(False, error=f"bad URL: {exc}", permanent=True)
        except TimeoutError:
            return Outcome(False, error=f"no answer within {self._timeout.total:g} s")
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
