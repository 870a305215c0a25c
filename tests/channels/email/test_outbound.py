"""Replies by mail: the MIME message and its threading headers, and delivery through a
loopback relay with every SMTP outcome mapped to retry or permanent failure, through
the real outbox dispatcher."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from omnidesk.bot.outbox import OutboxDispatcher
from omnidesk.channels import Button, Citation, InboundMessage, InboundResult, OutboundMessage
from omnidesk.channels.email import EmailChannel
from omnidesk.channels.email.outbound import build_message, html_body
from omnidesk.config import Settings
from omnidesk.db import utcnow
from omnidesk.helpdesk import (
    Author,
    DeliveryState,
    Message,
    OutboxItem,
    TimelineEvent,
    actions,
    unit_of_work,
)
from tests.channels.email.conftest import JANE, OURS, configure_email
from tests.channels.email.peers import SmtpPeer
from tests.conftest import Database


async def never_called(inbound: InboundMessage) -> InboundResult:
    raise AssertionError("no inbound traffic in these tests")


def outbound(**overrides: object) -> OutboundMessage:
    values: dict[str, object] = {
        "channel": "email",
        "recipient_id": JANE,
        "conversation_id": 7,
        "message_id": 42,
        "text": "To reset your password, tap <Forgot password> & follow the link.",
        "thread_key": "root@customer.example",
        "reply_to_external_id": "latest@customer.example",
        "subject": "Password reset",
        "citations": (Citation("reset-password", "Resetting your password", "http://kb/x"),),
        "buttons": (Button("Helpful", "feedback:helpful"),),
    }
    values.update(overrides)
    return OutboundMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def mail_settings(bare_settings: Settings, smtp_peer: SmtpPeer) -> Settings:
    configure_email(bare_settings, smtp_peer.port, smtp_timeout=2.0)
    return bare_settings


@pytest.fixture
async def channel(mail_settings: Settings) -> AsyncIterator[EmailChannel]:
    channel = EmailChannel(mail_settings, never_called)
    yield channel
    await channel.stop()


def test_reply_is_threaded_and_has_text_and_escaped_html(mail_settings: Settings) -> None:
    msg, message_id = build_message(outbound(), mail_settings.email, domain="lumen.example")
    assert str(msg["Message-ID"]) == f"<{message_id}>" and message_id.endswith("@lumen.example")
    assert str(msg["In-Reply-To"]) == "<latest@customer.example>"
    assert str(msg["References"]) == "<root@customer.example> <latest@customer.example>"
    assert str(msg["Subject"]) == "Re: Password reset"
    assert str(msg["From"]) == f"Lumen Support <{OURS}>" and str(msg["To"]) == JANE
    assert str(msg["Auto-Submitted"]) == "auto-replied"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    text = str(plain.get_content())
    assert "Source: Resetting your password <http://kb/x>" in text and "- Helpful" in text
    assert "&lt;Forgot password&gt; &amp; follow" in str(html.get_content())
    assert "<Forgot" not in str(html.get_content())


def test_an_agent_reply_is_not_marked_automatic(mail_settings: Settings) -> None:
    msg, _ = build_message(
        outbound(author="agent", subject="Re: Fwd: Lamp", reply_to_external_id=None),
        mail_settings.email,
        domain="lumen.example",
    )
    assert msg["Auto-Submitted"] is None and msg["In-Reply-To"] is None
    assert str(msg["References"]) == "<root@customer.example>"
    assert str(msg["Subject"]) == "Re: Lamp"


@pytest.mark.parametrize(
    ("author", "name", "shown"),
    [
        ("agent", "Dana Berg", "Dana Berg (Lumen Support)"),
        ("agent", "Dana\r\nBcc: x@evil.example", "Dana Bcc: x@evil.example (Lumen Support)"),
        ("agent", None, "Lumen Support"),
        ("bot", "Lumen Bot", "Lumen Support"),
    ],
)
def test_an_agent_reply_comes_from_the_agent_at_our_address(
    mail_settings: Settings, author: str, name: str | None, shown: str
) -> None:
    msg, _ = build_message(
        outbound(author=author, author_name=name), mail_settings.email, domain="lumen.example"
    )
    [sender] = msg["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (shown, OURS)
    assert msg["Bcc"] is None


def test_ticket_number_goes_into_the_subject(mail_settings: Settings) -> None:
    message = dataclasses.replace(outbound(), ticket_ref=123)
    msg, _ = build_message(message, mail_settings.email, domain="lumen.example")
    assert str(msg["Subject"]) == "Re: Password reset [#123]"


def test_html_body_escapes_everything() -> None:
    html = html_body('<script>alert("x")</script>\n\nline 1\nline 2')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<p>line 1<br>\nline 2</p>" in html


@pytest.mark.parametrize(
    "recipient", [OURS, OURS.upper(), "MAILER-DAEMON@mx.customer.example", "not an address"]
)
async def test_never_mails_ourselves_or_machines(
    channel: EmailChannel, smtp_peer: SmtpPeer, recipient: str
) -> None:
    receipt = await channel.send(outbound(recipient_id=recipient))
    assert not receipt.ok and receipt.permanent
    assert smtp_peer.caught == []


async def test_sent_mail_reaches_the_relay(channel: EmailChannel, smtp_peer: SmtpPeer) -> None:
    receipt = await channel.send(outbound())
    assert receipt.ok
    (caught,) = smtp_peer.caught
    assert caught.mail_from == OURS and caught.rcpt_tos == [JANE]
    assert str(caught.message["Message-ID"]) == f"<{receipt.external_id}>"


@pytest.mark.parametrize(
    ("where", "reply", "permanent"),
    [
        ("rcpt", "450 4.2.1 Mailbox busy, try later", False),
        ("data", "451 4.3.0 Temporary local problem", False),
        ("rcpt", "550 5.1.1 No such user", True),
        ("data", "554 5.7.1 Message rejected as spam", True),
    ],
)
async def test_smtp_replies_map_to_retry_or_permanent(
    channel: EmailChannel, smtp_peer: SmtpPeer, where: str, reply: str, permanent: bool
) -> None:
    setattr(smtp_peer, f"{where}_reply", reply)
    receipt = await channel.send(outbound())
    assert not receipt.ok and receipt.permanent is permanent
    assert receipt.error is not None and reply.split()[0] in receipt.error


async def test_unreachable_or_silent_relay_is_retried(bare_settings: Settings) -> None:
    # A relay that accepts the connection and never greets: the timeout applies.
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    configure_email(bare_settings, port, smtp_timeout=0.3)
    receipt = await EmailChannel(bare_settings, never_called).send(outbound())
    assert not receipt.ok and not receipt.permanent and "Timeout" in (receipt.error or "")
    silent.close()
    await silent.wait_closed()

    configure_email(bare_settings, port)  # now nothing listens there
    receipt = await EmailChannel(bare_settings, never_called).send(outbound())
    assert not receipt.ok and not receipt.permanent


# -- through the outbox dispatcher -----------------------------------------------------------


async def queue_reply(db: Database) -> int:
    async with unit_of_work(db.sessionmaker) as session:
        identity = await actions.resolve_identity(session, "email", JANE, email=JANE)
        conversation = await actions.current_conversation(
            session, identity, "root@customer.example", subject="Password reset"
        )
        await actions.record_message(
            session, conversation, Author.CONTACT, "hi", external_id="root@customer.example"
        )
        message = await actions.reply(session, conversation, Author.BOT, "Hello Jane")
        return message.id


async def make_due(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxItem).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1))
        )


async def test_outbox_retries_a_4xx_then_records_the_message_id(
    db: Database, mail_settings: Settings, smtp_peer: SmtpPeer
) -> None:
    channel = EmailChannel(mail_settings, never_called)
    dispatcher = OutboxDispatcher(db.sessionmaker, {"email": channel})
    message_id = await queue_reply(db)
    smtp_peer.data_reply = "451 4.3.0 Try again later"
    await dispatcher.dispatch_ready()
    async with db.sessionmaker() as session:
        item = await session.scalar(select(OutboxItem))
        assert item is not None and item.state == DeliveryState.PENDING
        assert item.attempts == 1 and "451" in (item.last_error or "")

    smtp_peer.data_reply = None
    await make_due(db)
    await dispatcher.dispatch_ready()
    (caught,) = smtp_peer.caught
    assert str(caught.message["In-Reply-To"]) == "<root@customer.example>"
    async with db.sessionmaker() as session:
        item = await session.scalar(select(OutboxItem))
        assert item is not None and item.state == DeliveryState.SENT
        sent = await session.get_one(Message, message_id)
        assert sent.delivery == DeliveryState.SENT
        assert f"<{sent.external_id}>" == str(caught.message["Message-ID"])


async def test_outbox_marks_a_5xx_as_failed_on_the_timeline(
    db: Database, mail_settings: Settings, smtp_peer: SmtpPeer
) -> None:
    channel = EmailChannel(mail_settings, never_called)
    dispatcher = OutboxDispatcher(db.sessionmaker, {"email": channel})
    message_id = await queue_reply(db)
    smtp_peer.rcpt_reply = "550 5.1.1 <jane.doe@customer.example>: User unknown"
    await dispatcher.dispatch_ready()
    async with db.sessionmaker() as session:
        item = await session.scalar(select(OutboxItem))
        assert item is not None and item.state == DeliveryState.FAILED and item.attempts == 1
        failed = await session.get_one(Message, message_id)
        assert failed.delivery == DeliveryState.FAILED
        event = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "delivery_failed")
        )
        assert event is not None and "550" in event.data["error"]
    assert smtp_peer.caught == []
