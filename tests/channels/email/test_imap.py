"""Polling a mailbox over real IMAP (a loopback IMAP4rev1 peer): fetch unseen mail
without marking it, flag \\Seen only after the inbox took it, retry what failed, skip
what is too big, and the whole service answering mail that came that way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from omnidesk.bot.services import Services
from omnidesk.channels import InboundMessage, InboundResult
from omnidesk.channels.email import EmailChannel
from omnidesk.channels.email.imap import ImapError
from omnidesk.config import Settings
from tests.channels.email.conftest import JANE, configure_email, fixture_mail
from tests.channels.email.peers import ImapPeer, SmtpPeer

PASSWORD = "imap-secret"


class Inbox:
    def __init__(self) -> None:
        self.accepted: list[InboundMessage] = []
        self.fail_on: set[str] = set()

    async def __call__(self, inbound: InboundMessage) -> InboundResult:
        if inbound.dedupe_key in self.fail_on:
            raise ConnectionError("database unreachable")
        if any(m.dedupe_key == inbound.dedupe_key for m in self.accepted):
            return InboundResult.DUPLICATE
        self.accepted.append(inbound)
        return InboundResult.ACCEPTED


@pytest.fixture
async def imap_peer() -> AsyncIterator[ImapPeer]:
    peer = ImapPeer("support@lumen.example", PASSWORD)
    await peer.start()
    yield peer
    await peer.stop()


def configure_imap(settings: Settings, peer: ImapPeer, **overrides: object) -> None:
    values: dict[str, object] = {
        "inbound_smtp_port": None,
        "imap_host": "127.0.0.1",
        "imap_port": peer.port,
        "imap_ssl": False,
        "imap_password": SecretStr(PASSWORD),
        # The background poller waits an hour: these tests poll by hand.
        "imap_poll_seconds": 3600.0,
    }
    configure_email(settings, 9, **{**values, **overrides})


@pytest.fixture
async def polled(
    bare_settings: Settings, imap_peer: ImapPeer
) -> AsyncIterator[tuple[EmailChannel, Inbox]]:
    configure_imap(bare_settings, imap_peer)
    inbox = Inbox()
    channel = EmailChannel(bare_settings, inbox)
    yield channel, inbox
    await channel.stop()


async def test_unseen_mail_is_taken_in_then_flagged_seen(
    polled: tuple[EmailChannel, Inbox], imap_peer: ImapPeer
) -> None:
    channel, inbox = polled
    old = imap_peer.add(fixture_mail("latin1_mutt.eml"), seen=True)
    first = imap_peer.add(fixture_mail("thunderbird_question.eml"))
    second = imap_peer.add(fixture_mail("outlook_html_only.eml"))

    assert await channel.poll_imap() == 2
    assert [m.sender_id for m in inbox.accepted] == [JANE, "rene.mueller@firma.example"]
    assert all(m.raw["source"] == "imap" for m in inbox.accepted)
    assert imap_peer.mail(first).seen and imap_peer.mail(second).seen
    assert imap_peer.mail(old).seen
    commands = [c.split(" ", 1)[1] for c in imap_peer.commands]
    assert "UID SEARCH UNSEEN" in commands
    assert f"UID FETCH {first} (BODY.PEEK[])" in commands
    assert f"UID STORE {first} +FLAGS.SILENT (\\Seen)" in commands
    # Fetching never set \Seen by itself: each STORE came after its mail was taken in.
    fetch = commands.index(f"UID FETCH {second} (BODY.PEEK[])")
    store = commands.index(f"UID STORE {second} +FLAGS.SILENT (\\Seen)")
    assert fetch < store

    assert await channel.poll_imap() == 0  # nothing new; same session
    assert imap_peer.logins == 1


async def test_a_mail_the_inbox_could_not_take_stays_unseen(
    polled: tuple[EmailChannel, Inbox], imap_peer: ImapPeer
) -> None:
    channel, inbox = polled
    failing = imap_peer.add(fixture_mail("thunderbird_question.eml"))
    fine = imap_peer.add(fixture_mail("outlook_html_only.eml"))
    inbox.fail_on = {"5c1f0a4e-8f1b-4a5e-9c33-2a1d4c0b7e11@customer.example"}
    assert await channel.poll_imap() == 1
    assert not imap_peer.mail(failing).seen and imap_peer.mail(fine).seen

    inbox.fail_on = set()
    assert await channel.poll_imap() == 1
    assert imap_peer.mail(failing).seen
    assert len(inbox.accepted) == 2


async def test_oversized_and_senderless_mail_is_skipped_not_retried(
    bare_settings: Settings, imap_peer: ImapPeer
) -> None:
    configure_imap(bare_settings, imap_peer, max_message_bytes=4096)
    inbox = Inbox()
    channel = EmailChannel(bare_settings, inbox)
    big = imap_peer.add(fixture_mail("apple_mail_attachments.eml"))  # about 8 KB
    nobody = imap_peer.add(fixture_mail("thunderbird_question.eml", **{"from": None}))
    assert await channel.poll_imap() == 0
    assert imap_peer.mail(big).seen and imap_peer.mail(nobody).seen
    assert inbox.accepted == []
    assert not any(f"UID FETCH {big} (BODY.PEEK[])" in c for c in imap_peer.commands)
    await channel.stop()


async def test_wrong_password_is_an_error_then_reconnects(
    bare_settings: Settings, imap_peer: ImapPeer
) -> None:
    configure_imap(bare_settings, imap_peer)
    channel = EmailChannel(bare_settings, Inbox())
    imap_peer.password = "changed"
    with pytest.raises(ImapError, match="AUTHENTICATIONFAILED"):
        await channel.poll_imap()
    imap_peer.password = PASSWORD
    assert await channel.poll_imap() == 0
    assert imap_peer.logins == 1
    await channel.stop()
    assert imap_peer.commands[-1].endswith("LOGOUT")


async def test_the_service_answers_mail_from_the_mailbox(
    settings: Settings, db: object, imap_peer: ImapPeer, smtp_peer: SmtpPeer
) -> None:
    configure_imap(settings, imap_peer, smtp_port=smtp_peer.port, imap_poll_seconds=0.05)
    uid = imap_peer.add(fixture_mail("thunderbird_question.eml"))
    async with Services(settings, workers=True):
        (reply,) = await smtp_peer.wait_for(1)
        async with asyncio.timeout(10):
            while not imap_peer.mail(uid).seen:
                await asyncio.sleep(0.02)
    msg = reply.message
    assert str(msg["In-Reply-To"]) == "<5c1f0a4e-8f1b-4a5e-9c33-2a1d4c0b7e11@customer.example>"
    assert "password" in str(msg.get_body(preferencelist=("plain",)).get_content()).lower()  # type: ignore[union-attr]
