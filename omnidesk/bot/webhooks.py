"""Sending one webhook delivery: the JSON body signed with the endpoint's secret, POSTed
once with a timeout, and the answer sorted into sent, try again later, or failed for good.

The receiver checks ``X-Omnidesk-Signature: v1=<hex>``, the HMAC-SHA256 with the secret
of ``f"{timestamp}.{body}"`` (``X-Omnidesk-Timestamp``, unix seconds; the raw body), and
may refuse an old timestamp. ``X-Omnidesk-Delivery`` is the same on every retry of one
delivery, so a receiver can drop what it already has.

Unless ``webhooks.allow_private_targets`` is set, a delivery only ever reaches public
addresses: an admin's URL (or a DNS name changed after it was saved) cannot make the
service call itself, its database or the cloud's metadata address. The check is made on
the addresses the connection really uses, not on the name alone."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

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


class PrivateTarget(OSError):
    """A webhook URL that leads to this host or a private network."""


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local,
    shared, reserved or multicast; an IPv4 address mapped into IPv6 counts as itself)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class PublicResolver(AbstractResolver):
    """Name lookups that hand the connector public addresses only."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        public = [result for result in found if is_public(result["host"])]
        if not public:
            raise PrivateTarget(f"{host} leads to a private address")
        return public

    async def close(self) -> None:
        await self._inner.close()


REFUSED_PRIVATE = (
    "refused: the URL leads to this host or a private network "
    "(set webhooks.allow_private_targets to allow it)"
)


def _literal_private(url: str) -> bool:
    host = URL(url).host or ""
    try:
        return not is_public(host.strip("[]"))
    except ValueError:
        return False  # a name: the resolver judges what it leads to


class WebhookSender:
    """POSTs deliveries with one shared HTTP client (made on first use)."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS, *, allow_private: bool = False) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._client: aiohttp.ClientSession | None = None
        self._allow_private = allow_private

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
        if not self._allow_private and _literal_private(url):
            return Outcome(False, error=REFUSED_PRIVATE, permanent=True)
        if self._client is None:
            connector = (
                None if self._allow_private else aiohttp.TCPConnector(resolver=PublicResolver())
            )
            self._client = aiohttp.ClientSession(timeout=self._timeout, connector=connector)
        try:
            async with self._client.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                raw = await response.content.read(MAX_RESPONSE_BYTES)
                snippet = clean_text(raw.decode("utf-8", "replace")).strip()[:300]
                return judge(response.status, snippet, response.headers.get("Retry-After"))
        except (aiohttp.InvalidURL, ValueError) as exc:
            return Outcome(False, error=f"bad URL: {exc}", permanent=True)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, PrivateTarget):
                return Outcome(False, error=REFUSED_PRIVATE, permanent=True)
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        except TimeoutError:
            return Outcome(False, error=f"no answer within {self._timeout.total:g} s")
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
