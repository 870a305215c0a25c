"""The whole service with email on: mail in through our SMTP server (smtplib in a thread),
the router and knowledge base for real, replies out to a loopback relay."""

from __future__ import annotations

import asyncio
import re
from email.message import EmailMessage

from sqlalchemy import select

from omnidesk.bot.services import Services
from omnidesk.channels.email import EmailChannel
from omnidesk.config import Settings
from omnidesk.helpdesk import (
    Author,
    Contact,
    ConversationState,
    InboxItem,
    Message,
    OutboxItem,
    Ticket,
)
from tests.channels.email.conftest import (
    JANE,
    OURS,
    Desk,
    configure_email,
    fixture_mail,
    smtp_send,
)
from tests.channels.email.peers import SmtpPeer

QUESTION = "thunderbird_question.eml"
DASH = "\N{EN DASH}"  # Windows-1252 0x96 in the Outlook fixture
QUESTION_ID = "5c1f0a4e-8f1b-4a5e-9c33-2a1d4c0b7e11@customer.example"


def plain(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def bare(header: object) -> str:
    return str(header).strip().strip("<>")


async def test_question_is_answered_by_threaded_mail(desk: Desk) -> None:
    code, reply = await desk.send(fixture_mail(QUESTION))
    assert code == 250, reply

    (caught,) = await desk.process()
    assert caught.mail_from == OURS and caught.rcpt_tos == [JANE]
    msg = caught.message
    assert msg["To"].addresses[0].addr_spec == JANE
    assert msg["From"].addresses[0].display_name == "Lumen Support"
    assert msg["From"].addresses[0].addr_spec == OURS
    assert str(msg["Subject"]) == "Re: Password reset"
    assert bare(msg["In-Reply-To"]) == QUESTION_ID
    assert str(msg["References"]).split() == [f"<{QUESTION_ID}>"]
    assert bare(msg["Message-ID"]).endswith("@lumen.example")
    # The bot's answer is an automatic response: other auto-responders must not answer it.
    assert str(msg["Auto-Submitted"]) == "auto-replied"
    text = plain(msg)
    assert "password" in text.lower() and "Source: " in text
    html = msg.get_body(preferencelist=("html",))
    assert html is not None and "<p>" in str(html.get_content())

    (conversation,) = await desk.conversations()
    assert conversation.channel == "email" and conversation.thread_key == QUESTION_ID
    assert conversation.subject == "Password reset"
    customer, bot = await desk.messages()
    assert (
        customer.author == Author.CONTACT
        and customer.text == "Hello,\n\nhow do I reset my password?"
    )
    # The Message-ID we sent is stored, so the customer's reply to it finds its way back.
    assert bot.author == Author.BOT and bot.external_id == bare(msg["Message-ID"])
    async with desk.services.sessionmaker() as session:
        contact = await session.scalar(select(Contact))
        assert contact is not None
        assert (contact.email, contact.name) == (JANE, "Jane Doe")


async def test_replies_stay_in_one_conversation(desk: Desk) -> None:
    """Question, then three replies, each answering the bot's last mail: one thread."""
    assert (await desk.send(fixture_mail(QUESTION)))[0] == 250
    (answer,) = await desk.process()
    replies = [
        # Gmail: In-Reply-To and the full References chain.
        ("gmail_reply.eml", "r1@mail.gmail.com", "How do I change the email address?", True),
        ("gmail_reply.eml", "r2@mail.gmail.com", "Where can I download my invoices?", True),
        # A client that drops References: In-Reply-To alone must still find the thread.
        ("gmail_reply.eml", "r3@mail.gmail.com", "How do I cancel Lumen Plus?", False),
    ]
    chain = [QUESTION_ID]
    for fixture, message_id, question, with_references in replies:
        ours = bare(answer.message["Message-ID"])
        chain.append(ours)
        raw = fixture_mail(
            fixture,
            message_id=f"<{message_id}>",
            in_reply_to=f"<{ours}>",
            references=" ".join(f"<{i}>" for i in chain) if with_references else None,
        ).replace(
            b"Thanks, that worked! How do I change the email address on my account?",
            question.encode(),
        )
        assert (await desk.send(raw))[0] == 250
        (answer,) = await desk.process()
        msg = answer.message
        assert bare(msg["In-Reply-To"]) == message_id
        assert str(msg["References"]).split() == [f"<{QUESTION_ID}>", f"<{message_id}>"]
        assert str(msg["Subject"]) == "Re: Password reset"
        chain.append(message_id)

    (conversation,) = await desk.conversations()
    messages = await desk.messages(conversation.id)
    assert [m.author for m in messages] == [Author.CONTACT, Author.BOT] * 4
    assert messages[2].text == "How do I change the email address?"
    assert messages[6].text == "How do I cancel Lumen Plus?"


async def test_subject_tag_finds_the_ticket_without_headers(desk: Desk) -> None:
    raw = fixture_mail(QUESTION).replace(
        b"how do I reset my password?", b"I want to talk to a human please."
    )
    assert (await desk.send(raw))[0] == 250
    (handoff,) = await desk.process()
    async with desk.services.sessionmaker() as session:
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None
    # A fresh mail (new Message-ID, no In-Reply-To or References) quoting the ticket tag.
    tagged = fixture_mail(
        QUESTION,
        message_id="<fresh-1@customer.example>",
        subject=f"Re: Password reset [#{ticket.id}]",
    ).replace(b"how do I reset my password?", b"Any news on this?")
    assert (await desk.send(tagged))[0] == 250
    assert await desk.process() == []  # queued for a person: the bot keeps quiet

    (conversation,) = await desk.conversations()
    assert conversation.state == ConversationState.QUEUED
    texts = [m.text for m in await desk.messages(conversation.id)]
    assert texts[-1] == "Hello,\n\nAny news on this?"
    assert bare(handoff.message["In-Reply-To"]) == QUESTION_ID


async def test_machine_mail_is_stored_but_never_answered(desk: Desk) -> None:
    sent = [
        (fixture_mail("postfix_bounce.eml"), ""),
        (fixture_mail("exchange_out_of_office.eml"), "mark.lee@bigcorp.example"),
        (fixture_mail("vacation_autoreply.eml"), "anna@smallshop.example"),
        # Nothing but the null reverse path gives this one away.
        (fixture_mail(QUESTION, message_id="<bounce-2@customer.example>"), ""),
    ]
    for raw, mail_from in sent:
        assert (await desk.send(raw, mail_from=mail_from))[0] == 250
    assert await desk.process() == []
    assert await desk.count(OutboxItem) == 0
    stored = await desk.messages()
    assert len(stored) == 4 and all(m.author == Author.CONTACT for m in stored)
    async with desk.services.sessionmaker() as session:
        payloads = (await session.scalars(select(InboxItem.payload))).all()
    assert all(p["automated"] for p in payloads)
    assert {p["raw"]["automated_reason"] for p in payloads} >= {"null envelope sender"}


async def test_attachments_stored_and_unsafe_ones_skipped(desk: Desk, settings: Settings) -> None:
    assert (await desk.send(fixture_mail("apple_mail_attachments.eml")))[0] == 250
    await desk.process()
    (message, *_) = await desk.messages()
    attachments = message.payload["attachments"]
    assert [(a["filename"], a["content_type"]) for a in attachments] == [
        ("lamp photo.png", "image/png"),
        ("invoice-4711.pdf", "application/pdf"),
    ]
    files = sorted(p.name for p in settings.uploads_dir.iterdir())
    assert sorted(a["url"].rsplit("/", 1)[1] for a in attachments) == files
    assert all(re.fullmatch(r"[0-9a-f]{32}\.(png|pdf)", name) for name in files)
    assert all(a["url"].startswith("/api/v1/attachments/") for a in attachments)
    png = settings.uploads_dir / attachments[0]["url"].rsplit("/", 1)[1]
    assert png.read_bytes().startswith(b"\x89PNG")
    async with desk.services.sessionmaker() as session:
        payload = await session.scalar(select(InboxItem.payload))
    assert payload is not None
    skipped = {s["filename"]: s["reason"] for s in payload["raw"]["skipped_attachments"]}
    assert skipped == {
        "lamp-fix.exe": "type application/x-msdownload is not allowed",
        "not-really.png": "content is not image/png",
        "orders.csv": "larger than 4096 bytes",
    }


async def test_a_retried_mail_is_answered_once(desk: Desk, settings: Settings) -> None:
    raw = fixture_mail("apple_mail_attachments.eml")
    first = await desk.send(raw)
    second = await desk.send(raw)
    assert first[0] == second[0] == 250 and "already received" in second[1]
    assert len(await desk.process()) == 1
    assert await desk.count(Message) == 2
    assert len(list(settings.uploads_dir.iterdir())) == 2  # the duplicate's files removed


async def test_foreign_mails_parsed_through_the_service(desk: Desk) -> None:
    for name, sender in [
        ("outlook_html_only.eml", "rene.mueller@firma.example"),
        ("latin1_mutt.eml", "francois@firma.example"),
        ("wrong_charset.eml", "zoe@old-isp.example"),
    ]:
        assert (await desk.send(fixture_mail(name), mail_from=sender))[0] == 250
    await desk.process()
    texts = [m.text for m in await desk.messages() if m.author == Author.CONTACT]
    assert texts == [
        f"Hallo,\n\nmeine Lampe geht nicht an {DASH} was kann ich tun? Die Grüße der Lampe ist M.",
        "Bonjour,\n\nOù puis-je télécharger ma facture ? Ça ne marche pas.\n\nMerci",
        "Hi, my Café lamp flickers since the update. Naïve question: is it broken?",
    ]
    subjects = [c.subject for c in await desk.conversations()]
    assert subjects == [
        f"Lampe geht nicht an {DASH} Bestellung 4711",
        "Problème de facture",
        "Café lamp flickers",
    ]


async def test_live_workers_answer_without_help(
    settings: Settings, db: object, smtp_peer: SmtpPeer
) -> None:
    configure_email(settings, smtp_peer.port)
    async with Services(settings, workers=True) as services:
        channel = services.channels["email"]
        assert isinstance(channel, EmailChannel) and channel.smtp_port is not None
        code, _ = await asyncio.to_thread(smtp_send, channel.smtp_port, fixture_mail(QUESTION))
        assert code == 250
        (caught,) = await smtp_peer.wait_for(1)
        assert bare(caught.message["In-Reply-To"]) == QUESTION_ID
