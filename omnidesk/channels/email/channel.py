"""The email channel: mail in over our own SMTP server or an IMAP mailbox, one
``InboundMessage`` per mail, and replies out over the SMTP relay, threaded so the
customer's mail client files them with the conversation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from omnidesk.channels.base import (
    Attachment,
    DeliveryReceipt,
    InboundMessage,
    InboundResult,
    OnMessage,
    OutboundMessage,
)
from omnidesk.channels.email.attachments import AttachmentStore, Skipped
from omnidesk.channels.email.imap import ImapPoller
from omnidesk.channels.email.inbound_smtp import InboundHandler, InboundSmtpServer
from omnidesk.channels.email.outbound import deliver
from omnidesk.channels.email.parse import ParsedMail, RejectedMail, parse_mail
from omnidesk.config import Settings

log = logging.getLogger(__name__)

NAME = "email"


class EmailChannel:
    """Email in both directions; see the module docstring."""

    name = NAME

    def __init__(self, settings: Settings, on_message: OnMessage) -> None:
        email = settings.email
        if not email.address or "@" not in email.address:
            raise ValueError("email.address must be set to our support address")
        self._settings = email
        self._address = email.address.strip().lower()
        self._domain = self._address.rpartition("@")[2]
        self._on_message = on_message
        self._attachments = AttachmentStore(
            settings.uploads_dir, email.max_attachment_bytes, email.allowed_attachment_types
        )
        self._smtp: InboundSmtpServer | None = None
        if email.inbound_smtp_port is not None:
            self._smtp = InboundSmtpServer(
                InboundHandler(self._address, self._from_smtp),
                host=email.inbound_smtp_host,
                port=email.inbound_smtp_port,
                hostname=self._domain,
                data_size_limit=email.max_message_bytes,
            )
        self._sending: set[asyncio.Task[DeliveryReceipt]] = set()
        self._imap: ImapPoller | None = None
        if email.imap_host:
            self._imap = ImapPoller(email, self._from_imap, max_bytes=email.max_message_bytes)

    # -- Channel contract ----------------------------------------------------------------

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return []

    async def start(self) -> None:
        if self._smtp is not None:
            await self._smtp.start()
        if self._imap is not None:
            await self._imap.start()

    async def stop(self) -> None:
        if self._imap is not None:
            await self._imap.stop()
        if self._smtp is not None:
            await self._smtp.stop()
        if self._sending:
            # Let SMTP transactions under way finish rather than cut them off mid-DATA.
            await asyncio.wait(set(self._sending), timeout=self._settings.smtp_timeout)

    async def send(self, message: OutboundMessage) -> DeliveryReceipt:
        task = asyncio.create_task(
            deliver(message, self._settings, domain=self._domain), name="email-send"
        )
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        # Shielded, so a caller being cancelled (the outbox stopping) never cuts an SMTP
        # transaction in half, and the cancellation always reaches the caller: on Python
        # 3.11, aiosmtplib's asyncio.wait_for can swallow a cancel that arrives together
        # with the server's reply, which would leave the dispatcher running forever.
        return await asyncio.shield(task)

    # -- inbound -------------------------------------------------------------------------

    @property
    def smtp_port(self) -> int | None:
        """The port our SMTP server listens on, once started (None when it is off)."""
        return self._smtp.port if self._smtp is not None else None

    async def poll_imap(self) -> int:
        """Poll the mailbox now (the background poller does this on its own)."""
        if self._imap is None:
            raise RuntimeError("IMAP polling is not configured")
        return await self._imap.poll()

    async def receive(
        self, raw: bytes, *, envelope_from: str | None = None, source: str = "smtp"
    ) -> InboundResult:
        """Take in one raw mail: parse it, store its attachments, hand it over.

        Raises ``RejectedMail`` for a mail nobody could answer, and whatever
        ``on_message`` raised when the mail could not be committed.
        """
        try:
            parsed = await asyncio.to_thread(
                parse_mail, raw, our_address=self._address, envelope_from=envelope_from
            )
        except RejectedMail:
            raise
        except Exception as exc:
            # The same bytes would fail the same way again: refuse for good, so the sender
            # is told at once instead of retrying for days.
            log.exception("could not read a mail from %s", envelope_from)
            raise RejectedMail(f"this mail could not be read ({type(exc).__name__})") from None
        stored, skipped = await self._attachments.save(parsed.attachments)
        inbound = to_inbound(parsed, stored, skipped, source=source, envelope_from=envelope_from)
        try:
            result = await self._on_message(inbound)
        except Exception:
            # Not committed: the sender (or the next poll) delivers it again.
            await self._attachments.discard(stored)
            raise
        if result == InboundResult.DUPLICATE:
            # The first delivery's files are the ones its message links to.
            await self._attachments.discard(stored)
        return result

    async def _from_smtp(self, raw: bytes, envelope_from: str) -> InboundResult:
        return await self.receive(raw, envelope_from=envelope_from, source="smtp")

    async def _from_imap(self, raw: bytes) -> InboundResult:
        return await self.receive(raw, source="imap")


def to_inbound(
    parsed: ParsedMail,
    attachments: Sequence[Attachment],
    skipped: Sequence[Skipped],
    *,
    source: str,
    envelope_from: str | None = None,
) -> InboundMessage:
    """One parsed mail as the channel-neutral message."""
    raw: dict[str, Any] = {
        "source": source,
        "message_id": parsed.message_id,
        "thread_root": parsed.thread.key,
    }
    if parsed.date:
        raw["date"] = parsed.date
    if envelope_from is not None:
        raw["envelope_from"] = envelope_from
    if parsed.automated:
        raw["automated_reason"] = parsed.automated
    if skipped:
        raw["skipped_attachments"] = [s.to_dict() for s in skipped]
    return InboundMessage(
        channel=NAME,
        sender_id=parsed.sender_email,
        sender_email=parsed.sender_email,
        sender_name=parsed.sender_name,
        dedupe_key=parsed.message_id,
        text=parsed.text,
        thread_key=parsed.thread.key,
        subject=parsed.subject or None,
        attachments=tuple(attachments),
        raw=raw,
        reply_to=parsed.thread.reply_to,
        ticket_ref=parsed.ticket_ref,
        automated=parsed.automated is not None,
    )
