"""Replies by mail: an ``OutboundMessage`` as a threaded MIME message (plain text plus an
escaped HTML alternative), sent through the configured SMTP relay, with every outcome
mapped to a ``DeliveryReceipt``: 4xx, connection errors and timeouts are retried, 5xx
is a permanent failure."""

from __future__ import annotations

import datetime as dt
import html
import logging
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from omnidesk.channels.base import DeliveryReceipt, OutboundMessage
from omnidesk.channels.email.threads import (
    format_ids,
    normalize_id,
    reply_references,
    reply_subject,
)
from omnidesk.config import EmailSettings

log = logging.getLogger(__name__)

# Authors whose messages are automatic responses in the sense of RFC 3834.
_AUTOMATIC_AUTHORS = frozenset({"bot", "system"})
MAX_AUTHOR_CHARS = 80


class Refused(Exception):
    """A reply we will not send at all (a permanent failure)."""


def sender_name(message: OutboundMessage, team: str) -> str:
    """The From name: an agent's reply says who wrote it ("Dana (Lumen Support)"), as the
    reply names its author on Slack and Telegram; the bot and the system sign as the team."""
    # One line, and short: a name is never a way to write headers.
    name = " ".join((message.author_name or "").split())[:MAX_AUTHOR_CHARS]
    if message.author != "agent" or not name:
        return team
    return f"{name} ({team})"


def build_message(
    message: OutboundMessage, settings: EmailSettings, *, domain: str
) -> tuple[EmailMessage, str]:
    """The MIME message for ``message`` and its Message-ID (without brackets)."""
    assert settings.address is not None
    ours = settings.address.lower()
    recipient = message.recipient_id.strip().lower()
    if recipient == ours:
        raise Refused("refusing to send mail to our own address")
    if recipient.split("@", 1)[0] in ("mailer-daemon", "postmaster"):
        raise Refused(f"refusing to answer {recipient}, a machine address")
    try:
        to = Address(addr_spec=recipient)
        sender = Address(sender_name(message, settings.display_name), addr_spec=settings.address)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise Refused(f"not a valid address: {exc}") from None

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    # OutboundMessage carries no ticket number yet; pick one up once the core adds it.
    ticket = message.ticket_ref
    msg["Subject"] = reply_subject(message.subject, ticket if isinstance(ticket, int) else None)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message_id = make_msgid(domain=domain)
    msg["Message-ID"] = message_id
    reply_to = normalize_id(message.reply_to_external_id) if message.reply_to_external_id else None
    if reply_to:
        msg["In-Reply-To"] = format_ids([reply_to])
    references = reply_references(message.thread_key, reply_to)
    if references:
        msg["References"] = format_ids(references)
    if message.author in _AUTOMATIC_AUTHORS:
        # Tells the customer's auto-responder not to answer the bot (RFC 3834), and
        # Exchange not to send out-of-office notices back.
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    text = message.as_plain_text()
    msg.set_content(text)
    msg.add_alternative(html_body(text), subtype="html")
    return msg, normalize_id(message_id)


def html_body(text: str) -> str:
    """The plain text as a minimal HTML document: escaped, paragraphs and line breaks."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    head = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>'
    return f"{head}\n{body}\n</body></html>\n"


async def send_message(msg: EmailMessage, settings: EmailSettings, *, domain: str) -> None:
    """Hand ``msg`` to the relay; raises aiosmtplib's errors."""
    assert settings.smtp_host is not None and settings.address is not None
    await aiosmtplib.send(
        msg,
        sender=settings.address,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        use_tls=settings.smtp_tls,
        # Implicit TLS already encrypts; STARTTLS on top of it is meaningless.
        start_tls=False if settings.smtp_tls else settings.smtp_starttls,
        timeout=settings.smtp_timeout,
        # Our own domain, rather than a reverse lookup of this host, in EHLO.
        local_hostname=domain,
    )


async def deliver(
    message: OutboundMessage, settings: EmailSettings, *, domain: str
) -> DeliveryReceipt:
    """Build and send one reply; never raises."""
    try:
        msg, message_id = build_message(message, settings, domain=domain)
    except Refused as exc:
        return DeliveryReceipt(ok=False, error=str(exc), permanent=True)
    try:
        await send_message(msg, settings, domain=domain)
    except Exception as exc:
        receipt = receipt_for(exc)
        log.warning(
            "mail to %s failed (%s): %s",
            message.recipient_id,
            "permanent" if receipt.permanent else "will retry",
            receipt.error,
        )
        return receipt
    return DeliveryReceipt(ok=True, external_id=message_id)


def receipt_for(exc: BaseException) -> DeliveryReceipt:
    """A failed send as a receipt: SMTP 5xx is permanent; 4xx, network trouble and
    timeouts are worth another try."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        return DeliveryReceipt(
            ok=False,
            error=f"recipient refused: {text}",
            permanent=bool(codes) and all(500 <= c < 600 for c in codes),
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return DeliveryReceipt(
            ok=False,
            error=f"SMTP {exc.code}: {exc.message}",
            permanent=500 <= exc.code < 600,
        )
    return DeliveryReceipt(ok=False, error=f"{type(exc).__name__}: {exc}", permanent=False)
