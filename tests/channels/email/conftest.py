"""Email test fixtures: real-shaped .eml files, an SMTP client run in a thread, the
loopback SMTP peer that catches outbound mail, and the whole service with email on."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from omnidesk.bot.services import Services
from omnidesk.channels.email import EmailChannel
from omnidesk.config import EmailSettings, Settings
from omnidesk.helpdesk import Conversation, Message
from tests.channels.email.peers import Caught, SmtpPeer

OURS = "support@lumen.example"
JANE = "jane.doe@customer.example"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"


def fixture_mail(name: str, **headers: str | None) -> bytes:
    """A fixture as it travels over SMTP (CRLF line ends), with ``headers`` replaced
    (``None`` removes one; ``in_reply_to`` stands for In-Reply-To)."""
    raw = (FIXTURES / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return with_headers(raw, **headers) if headers else raw


def with_headers(raw: bytes, **headers: str | None) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line  # a folded continuation line
        else:
            fields.append(line)
    wanted = {name.replace("_", "-").lower(): value for name, value in headers.items()}
    kept = [f for f in fields if f.split(b":", 1)[0].decode().strip().lower() not in wanted]
    added = [
        f"{name.title()}: {value}".encode() for name, value in wanted.items() if value is not None
    ]
    return b"\r\n".join(added + kept) + sep + body


def smtp_send(port: int, raw: bytes, *, mail_from: str = JANE, rcpt: str = OURS) -> tuple[int, str]:
    """One real SMTP transaction with smtplib; the reply to the last step taken."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30) as client:
        client.ehlo()
        code, reply = client.mail(mail_from)
        if code == 250:
            code, reply = client.rcpt(rcpt)
            if code == 250:
                code, reply = client.data(raw)
        return code, reply.decode()


def configure_email(settings: Settings, relay_port: int, **overrides: Any) -> None:
    values: dict[str, Any] = {
        "address": OURS,
        "display_name": "Lumen Support",
        "inbound_smtp_port": 0,
        "smtp_host": "127.0.0.1",
        "smtp_port": relay_port,
        "smtp_starttls": False,
        "smtp_timeout": 5.0,
        "max_attachment_bytes": 4096,
    }
    values.update(overrides)
    settings.email = EmailSettings(**values)


@pytest.fixture
def bare_settings(tmp_path: Path) -> Settings:
    """Settings for tests of the channel alone, which need no database (so they do not
    run once per database backend)."""
    return Settings(data_dir=tmp_path / "data", port=0)


@pytest.fixture
async def smtp_peer() -> AsyncIterator[SmtpPeer]:
    peer = SmtpPeer()
    await peer.start()
    yield peer
    await peer.stop()


class Desk:
    """The service with email on, driven step by step like ``tests/bot/conftest.py``."""

    def __init__(self, services: Services, peer: SmtpPeer) -> None:
        self.services = services
        self.peer = peer

    @property
    def channel(self) -> EmailChannel:
        channel = self.services.channels["email"]
        assert isinstance(channel, EmailChannel)
        return channel

    async def send(self, raw: bytes, *, mail_from: str = JANE, rcpt: str = OURS) -> tuple[int, str]:
        port = self.channel.smtp_port
        assert port is not None
        return await asyncio.to_thread(smtp_send, port, raw, mail_from=mail_from, rcpt=rcpt)

    async def process(self) -> list[Caught]:
        """Work off the inbox and the outbox; the mails the relay caught meanwhile."""
        before = len(self.peer.caught)
        await self.services.inbox.drain()
        await self.services.outbox.dispatch_ready()
        return self.peer.caught[before:]

    async def conversations(self) -> list[Conversation]:
        async with self.services.sessionmaker() as session:
            return list(
                (await session.scalars(select(Conversation).order_by(Conversation.id))).all()
            )

    async def messages(self, conversation_id: int | None = None) -> list[Message]:
        query = select(Message).order_by(Message.id)
        if conversation_id is not None:
            query = query.where(Message.conversation_id == conversation_id)
        async with self.services.sessionmaker() as session:
            return list((await session.scalars(query)).all())

    async def count(self, model: Any) -> int:
        async with self.services.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def desk(settings: Settings, db: object, smtp_peer: SmtpPeer) -> AsyncIterator[Desk]:
    configure_email(settings, smtp_peer.port)
    services = Services(settings, workers=False)
    async with services:
        yield Desk(services, smtp_peer)
