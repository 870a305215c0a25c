"""Our own SMTP server (aiosmtpd), run inside the service's event loop: it takes mail for
our address only, refuses mail over the size limit with 552, and answers 250 only once
the mail is committed to the inbox (451 when that failed, so the sender retries)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from omnidesk.channels.base import InboundResult
from omnidesk.channels.email.parse import RejectedMail

log = logging.getLogger(__name__)

# Takes the raw mail and the envelope sender ("" for the null sender of bounces).
Receive = Callable[[bytes, str], Coroutine[Any, Any, InboundResult]]

IDENT = "omnidesk ESMTP"
IDLE_TIMEOUT = 300.0  # RFC 5321 section 4.5.3.2.7: a server waits at least 5 minutes
STOP_GRACE = 10.0


class InboundHandler:
    """aiosmtpd handler hooks: RCPT (no relaying) and DATA (hand the mail over)."""

    def __init__(self, address: str, receive: Receive) -> None:
        self._address = address.lower()
        self._receive = receive
        self.in_flight: set[asyncio.Task[InboundResult]] = set()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.strip().lower() != self._address:
            # We deliver to one mailbox, ours; anything else would make us an open relay.
            return "550 5.7.1 Relaying denied"
        if address not in envelope.rcpt_tos:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content
        if content is None:
            content = envelope.content if isinstance(envelope.content, bytes) else b""
        # aiosmtpd gives the null reverse path of bounces ("MAIL FROM:<>") as "<>".
        mail_from = (envelope.mail_from or "").strip()
        mail_from = "" if mail_from == "<>" else mail_from
        # Shielded: a client that hangs up mid-commit must not cancel the commit halfway;
        # it retries, and the inbox's dedupe key absorbs the second delivery.
        task: asyncio.Task[InboundResult] = asyncio.create_task(
            self._receive(content, mail_from), name="email-smtp-receive"
        )
        self.in_flight.add(task)
        task.add_done_callback(_settled)
        task.add_done_callback(self.in_flight.discard)
        try:
            result = await asyncio.shield(task)
        except RejectedMail as exc:
            return f"550 5.6.0 {exc}"
        except Exception:
            log.exception("could not take in a mail from %s", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        if result == InboundResult.DUPLICATE:
            return "250 2.0.0 OK already received"
        return "250 2.0.0 OK queued"


def _settled(task: asyncio.Task[InboundResult]) -> None:
    # Retrieve the outcome even when the client hung up before it, so a failure is
    # logged once here rather than as "exception was never retrieved".
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, RejectedMail):
        log.debug("mail delivery task failed: %r", exc)


class InboundSmtpServer:
    """The listening socket and its connections, with an explicit start and stop."""

    def __init__(
        self,
        handler: InboundHandler,
        *,
        host: str,
        port: int,
        hostname: str,
        data_size_limit: int,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._hostname = hostname
        self._data_size_limit = data_size_limit
        self._server: asyncio.Server | None = None
        self._connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        assert self._server is not None and self._server.sockets
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            connection = SMTP(
                self._handler,
                data_size_limit=self._data_size_limit,
                enable_SMTPUTF8=True,
                hostname=self._hostname,
                ident=IDENT,
                timeout=IDLE_TIMEOUT,
                loop=loop,
            )
            self._connections.add(connection)
            return connection

        self._server = await loop.create_server(protocol, self._host, self._port)
        log.info("email: SMTP server listening on %s:%s", self._host, self.port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()  # no new connections
        if self._handler.in_flight:
            # Let mails being committed finish, so their senders get a 250.
            await asyncio.wait(set(self._handler.in_flight), timeout=STOP_GRACE)
        sessions = []
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.close()
            # aiosmtpd runs each connection as this task; closing cancels it.
            if connection._handler_coroutine is not None:
                sessions.append(connection._handler_coroutine)
        if sessions:
            await asyncio.wait(sessions, timeout=STOP_GRACE)
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None
