"""Our SMTP server against a real client (smtplib, in a thread): no relaying, the size
limit, 250 only after the inbox took the mail, 451 when it could not, 550 for mail
nobody could answer, and a clean stop."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator

import pytest

from omnidesk.channels import InboundMessage, InboundResult
from omnidesk.channels.email import EmailChannel
from omnidesk.config import Settings
from tests.channels.email.conftest import OURS, configure_email, fixture_mail, smtp_send

FIFTY_MB = 50 * 1024 * 1024


class Inbox:
    """Stands in for the service's inbox: records, dedupes, or fails on demand."""

    def __init__(self) -> None:
        self.accepted: list[InboundMessage] = []
        self.fail: Exception | None = None
        self.calls = 0

    async def __call__(self, inbound: InboundMessage) -> InboundResult:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        if any(m.dedupe_key == inbound.dedupe_key for m in self.accepted):
            return InboundResult.DUPLICATE
        self.accepted.append(inbound)
        return InboundResult.ACCEPTED


@pytest.fixture
async def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def channel(bare_settings: Settings, inbox: Inbox) -> AsyncIterator[EmailChannel]:
    # The relay is never used here; nothing listens on port 9.
    configure_email(bare_settings, 9)
    channel = EmailChannel(bare_settings, inbox)
    await channel.start()
    yield channel
    await channel.stop()


async def send(channel: EmailChannel, raw: bytes, **kwargs: str) -> tuple[int, str]:
    assert channel.smtp_port is not None
    return await asyncio.to_thread(smtp_send, channel.smtp_port, raw, **kwargs)


def big_mail() -> bytes:
    """A real-shaped mail with a 50 MB base64 attachment."""
    head = fixture_mail("thunderbird_question.eml").split(b"\r\n\r\n", 1)[0]
    head = head.replace(
        b"Content-Type: text/plain; charset=UTF-8; format=flowed",
        b'Content-Type: multipart/mixed; boundary="b1"',
    )
    line = b"QUJD" * 19 + b"\r\n"
    body = (
        b"--b1\r\nContent-Type: text/plain\r\n\r\nSee the video.\r\n"
        b"--b1\r\nContent-Type: video/mp4; name=clip.mp4\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + line * (FIFTY_MB // len(line) + 1)
        + b"--b1--\r\n"
    )
    return head + b"\r\n\r\n" + body


@pytest.mark.parametrize(
    "rcpt",
    ["someone@elsewhere.example", "support@lumen.example.evil.example", "sales@lumen.example"],
)
async def test_mail_for_anyone_else_is_refused(
    channel: EmailChannel, inbox: Inbox, rcpt: str
) -> None:
    code, reply = await send(channel, fixture_mail("thunderbird_question.eml"), rcpt=rcpt)
    assert code == 550 and "Relaying denied" in reply
    assert inbox.calls == 0


async def test_our_address_in_any_case_is_accepted(channel: EmailChannel, inbox: Inbox) -> None:
    code, reply = await send(channel, fixture_mail("thunderbird_question.eml"), rcpt=OURS.upper())
    assert code == 250 and "queued" in reply
    (inbound,) = inbox.accepted
    assert inbound.channel == "email" and inbound.sender_id == "jane.doe@customer.example"
    assert inbound.raw["source"] == "smtp"


async def test_a_50_mb_mail_is_refused_with_552(
    channel: EmailChannel, inbox: Inbox, bare_settings: Settings
) -> None:
    raw = big_mail()
    port = channel.smtp_port
    assert port is not None

    def declared() -> None:
        # smtplib announces the size (RFC 1870 SIZE): refused before any data is sent.
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test") as client:
            client.sendmail("jane.doe@customer.example", [OURS], raw)

    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        await asyncio.to_thread(declared)
    assert refused.value.smtp_code == 552

    # Without SIZE the whole mail streams in, and is refused at the end of DATA.
    code, reply = await send(channel, raw)
    assert code == 552, reply
    assert inbox.calls == 0
    assert not bare_settings.uploads_dir.exists() or not any(bare_settings.uploads_dir.iterdir())


async def test_451_until_the_inbox_takes_the_mail(
    channel: EmailChannel, inbox: Inbox, bare_settings: Settings
) -> None:
    raw = fixture_mail("apple_mail_attachments.eml")
    inbox.fail = ConnectionError("database unreachable")
    code, _ = await send(channel, raw)
    assert code == 451 and inbox.accepted == []
    # The attachments of the failed attempt are not left behind.
    assert not any(bare_settings.uploads_dir.iterdir())

    inbox.fail = None
    code, _ = await send(channel, raw)  # the sender's retry
    assert code == 250 and len(inbox.accepted) == 1
    assert len(list(bare_settings.uploads_dir.iterdir())) == 2


@pytest.mark.parametrize(
    ("headers", "mail_from"),
    [
        ({"from": None}, ""),  # no From and the null sender: nobody to answer
        ({"from": "undisclosed-recipients:;"}, ""),
    ],
)
async def test_mail_without_a_sender_is_refused(
    channel: EmailChannel, inbox: Inbox, headers: dict[str, str | None], mail_from: str
) -> None:
    raw = fixture_mail("thunderbird_question.eml", **headers)
    code, reply = await send(channel, raw, mail_from=mail_from)
    assert code == 550 and "no valid sender" in reply
    assert inbox.accepted == []


async def test_envelope_sender_stands_in_for_a_missing_from(
    channel: EmailChannel, inbox: Inbox
) -> None:
    raw = fixture_mail("thunderbird_question.eml", **{"from": None})
    assert (await send(channel, raw, mail_from="Jane.Doe@customer.example"))[0] == 250
    assert inbox.accepted[0].sender_id == "jane.doe@customer.example"


async def test_stop_closes_open_connections(bare_settings: Settings, inbox: Inbox) -> None:
    configure_email(bare_settings, 9)
    channel = EmailChannel(bare_settings, inbox)
    await channel.start()
    port = channel.smtp_port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert (await reader.readline()).startswith(b"220 lumen.example")
    await channel.stop()
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # the server hung up
    writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


def nested_mail(depth: int) -> bytes:
    """A mail whose multipart parts nest ``depth`` levels deep, with text at the bottom."""
    head = fixture_mail("thunderbird_question.eml").split(b"\r\n\r\n", 1)[0]
    head = head.replace(
        b"Content-Type: text/plain; charset=UTF-8; format=flowed",
        b'Content-Type: multipart/mixed; boundary="b0"',
    )
    opening = b"".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'.encode()
        for i in range(depth - 1)
    )
    bottom = f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nhello from below\r\n".encode()
    closing = b"".join(f"--b{i}--\r\n".encode() for i in reversed(range(depth)))
    return head + b"\r\n\r\n" + opening + bottom + closing


async def test_a_mail_nested_too_deep_is_kept_by_its_headers(
    channel: EmailChannel, inbox: Inbox
) -> None:
    # 1,500 levels would exhaust the parser's stack: taken (250, not a 451 the sender
    # would retry for days), with who sent it and a notice for the agent.
    code, _ = await send(channel, nested_mail(1500))
    assert code == 250
    [kept] = inbox.accepted
    assert kept.sender_email == "jane.doe@customer.example"
    assert kept.text.startswith("[This email nests its parts deeper")
    assert kept.attachments == ()
    # A mail of ordinary depth is read as usual.
    inbox.accepted.clear()
    raw = nested_mail(5).replace(b"Message-ID: <", b"Message-ID: <five-")
    assert (await send(channel, raw))[0] == 250
    assert inbox.accepted[0].text == "hello from below"
