"""Polling an IMAP mailbox (aioimaplib) instead of running our own SMTP server: fetch the
unseen mails without marking them, hand each over, and flag it ``\\Seen`` only once it is
committed to the inbox, so a crash in between means a second delivery (absorbed by the
dedupe key), never a lost mail. Connection trouble is retried with capped back-off."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aioimaplib

from omnidesk.channels.base import InboundResult
from omnidesk.channels.email.parse import RejectedMail
from omnidesk.config import EmailSettings

log = logging.getLogger(__name__)

Receive = Callable[[bytes], Awaitable[InboundResult]]

COMMAND_TIMEOUT = 30.0
MAX_BACKOFF = 300.0
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)", re.IGNORECASE)


class ImapError(Exception):
    """The server refused a command or answered something we cannot use."""


def backoff(failures: int) -> float:
    """Capped exponential back-off with jitter, in seconds."""
    base: float = min(MAX_BACKOFF, 2.0 ** max(0, failures - 1))
    return base * random.uniform(0.5, 1.0)


def search_results(lines: list[Any]) -> list[str]:
    """The uids of a SEARCH answer. aioimaplib hands over "* SEARCH 4 7" as ``4 7``
    (older versions keep the keyword); the tagged "SEARCH completed" is no number."""
    uids: list[str] = []
    for line in lines:
        if not isinstance(line, bytes):
            continue
        tokens = line.split()
        if tokens[:1] and tokens[0].upper() == b"SEARCH":
            tokens = tokens[1:]
        if tokens and all(t.isdigit() for t in tokens):
            uids.extend(t.decode() for t in tokens)
    return uids


class ImapPoller:
    """Fetches new mail from one folder every ``imap_poll_seconds``."""

    def __init__(self, settings: EmailSettings, receive: Receive, *, max_bytes: int) -> None:
        self._settings = settings
        self._receive = receive
        self._max_bytes = max_bytes
        self._client: Any = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="email-imap-poller")

    async def stop(self) -> None:
        # The flag as well as the cancel: aioimaplib awaits through asyncio.wait_for,
        # which on Python 3.11 can swallow a cancel that coincides with a server reply.
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async with self._lock:
            await self._disconnect(polite=True)

    async def poll(self) -> int:
        """One pass over the unseen mail; returns how many were handed over."""
        async with self._lock:
            try:
                if self._client is None:
                    await self._connect()
                return await self._poll_folder()
            except BaseException:
                # Whatever state the session is in now, start the next pass afresh.
                await self._disconnect(polite=False)
                raise

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.poll()
                failures = 0
                delay = self._settings.imap_poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = max(self._settings.imap_poll_seconds, backoff(failures))
                log.warning(
                    "email: polling %s failed (%s: %s); next try in %.0f s",
                    self._settings.imap_host,
                    type(exc).__name__,
                    exc,
                    delay,
                )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()

    # -- one pass ------------------------------------------------------------------------------

    async def _poll_folder(self) -> int:
        response = await self._command(self._client.uid_search("UNSEEN", charset=None))
        uids = search_results(response.lines)
        handed_over = 0
        for uid in uids:
            size = await self._size(uid)
            if size is not None and size > self._max_bytes:
                log.warning(
                    "email: mail uid %s is %d bytes, over the %d byte limit; left in the "
                    "mailbox, marked seen",
                    uid,
                    size,
                    self._max_bytes,
                )
                await self._mark_seen(uid)
                continue
            raw = await self._fetch(uid)
            try:
                await self._receive(raw)
            except RejectedMail as exc:
                log.warning("email: mail uid %s refused (%s); marked seen", uid, exc)
            except Exception:
                # Not committed: leave it unseen so the next pass tries again, and go on
                # with the others so one bad mail cannot hold up the mailbox.
                log.exception("email: mail uid %s could not be taken in", uid)
                continue
            else:
                handed_over += 1
            await self._mark_seen(uid)
        return handed_over

    async def _size(self, uid: str) -> int | None:
        response = await self._command(self._client.uid("fetch", uid, "(RFC822.SIZE)"))
        for line in response.lines:
            if isinstance(line, bytes) and (match := _SIZE.search(line)):
                return int(match.group(1))
        return None

    async def _fetch(self, uid: str) -> bytes:
        # BODY.PEEK: unlike RFC822 and BODY[], fetching does not set \Seen by itself.
        response = await self._command(
            self._client.uid("fetch", uid, "(BODY.PEEK[])"), limited=False
        )
        for line in response.lines:
            if isinstance(line, bytearray):
                return bytes(line)
        raise ImapError(f"no message body in the answer to fetching uid {uid}")

    async def _mark_seen(self, uid: str) -> None:
        await self._command(self._client.uid("store", uid, "+FLAGS.SILENT", r"(\Seen)"))

    # -- the session ---------------------------------------------------------------------------

    async def _connect(self) -> None:
        settings = self._settings
        assert settings.imap_host is not None
        factory = aioimaplib.IMAP4_SSL if settings.imap_ssl else aioimaplib.IMAP4
        self._client = factory(
            host=settings.imap_host, port=settings.imap_port, timeout=COMMAND_TIMEOUT
        )
        await self._client.wait_hello_from_server()
        password = settings.imap_password.get_secret_value() if settings.imap_password else ""
        await self._command(
            self._client.login(settings.imap_user or settings.address or "", password)
        )
        await self._command(self._client.select(settings.imap_folder))
        log.info("email: polling %s folder %s", settings.imap_host, settings.imap_folder)

    async def _command(self, call: Awaitable[Any], *, limited: bool = True) -> Any:
        """Await one IMAP command and insist on OK. A body fetch is not limited here:
        aioimaplib already times it out on inactivity, however big the mail."""
        if limited:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                response = await call
        else:
            response = await call
        if response.result != "OK":
            text = b" ".join(line for line in response.lines if isinstance(line, bytes))
            raise ImapError(f"{response.result}: {text.decode(errors='replace')[:200]}")
        return response

    async def _disconnect(self, *, polite: bool) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if polite:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5.0):
                    await client.logout()
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()
        # A connection attempt still under way (a server that never greeted us).
        connecting = getattr(client, "_client_task", None)
        if connecting is not None and not connecting.done():
            connecting.cancel()
