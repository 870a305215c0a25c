"""Parsing real-shaped mail: clients, charsets (declared, wrong, unknown), HTML, quoted
history and signatures, machine-sent mail, ids and threading, subjects and tags."""

from __future__ import annotations

import pytest

from omnidesk.channels.email import ParsedMail, RejectedMail, parse_mail
from omnidesk.channels.email.parse import html_to_text, new_text, safe_filename
from omnidesk.channels.email.threads import (
    MAX_ID_CHARS,
    clean_subject,
    message_ids,
    normalize_id,
    reply_subject,
    thread_of,
)
from tests.channels.email.conftest import OURS, fixture_mail, with_headers

DASH = "\N{EN DASH}"  # Windows-1252 0x96 in the Outlook fixture


def parse(raw: bytes, envelope_from: str | None = None) -> ParsedMail:
    return parse_mail(raw, our_address=OURS, envelope_from=envelope_from)


@pytest.mark.parametrize(
    ("name", "sender", "sender_name", "subject", "text"),
    [
        (
            "thunderbird_question.eml",
            "jane.doe@customer.example",
            "Jane Doe",
            "Password reset",
            "Hello,\n\nhow do I reset my password?",
        ),
        (
            # HTML only, Windows-1252 quoted-printable, a German Outlook reply header.
            "outlook_html_only.eml",
            "rene.mueller@firma.example",
            "René Müller",
            f"Lampe geht nicht an {DASH} Bestellung 4711",
            f"Hallo,\n\nmeine Lampe geht nicht an {DASH} was kann ich tun? "
            "Die Grüße der Lampe ist M.",
        ),
        (
            "latin1_mutt.eml",
            "francois@firma.example",
            "François Bérenger",
            "Problème de facture",
            "Bonjour,\n\nOù puis-je télécharger ma facture ? Ça ne marche pas.\n\nMerci",
        ),
        (
            # Declares UTF-8 but is Latin-1, with a raw 8-bit subject.
            "wrong_charset.eml",
            "zoe@old-isp.example",
            "Zoe Muller",
            "Café lamp flickers",
            "Hi, my Café lamp flickers since the update. Naïve question: is it broken?",
        ),
        (
            "unknown_charset.eml",
            "tom@mailer.example",
            "Tom",
            "Where is my order?",
            "Where is my order? It was due last week.",
        ),
        (
            # Quoted history and the "-- " signature are stripped.
            "gmail_reply.eml",
            "jane.doe@customer.example",
            "Jane Doe",
            "Password reset",
            "Thanks, that worked! How do I change the email address on my account?",
        ),
    ],
)
def test_people_mail_is_read(
    name: str, sender: str, sender_name: str, subject: str, text: str
) -> None:
    mail = parse(fixture_mail(name))
    assert (mail.sender_email, mail.sender_name) == (sender, sender_name)
    assert mail.subject == subject and mail.text == text
    assert mail.automated is None


def test_html_is_converted_not_stripped() -> None:
    text = html_to_text(
        "<html><head><style>p{color:red}</style></head><body><p>Hi&nbsp;there,</p>"
        "<ul><li>one</li><li>two</li></ul><p>See <a href='https://x.example/a'>this</a>"
        "</p></body></html>"
    )
    assert "color" not in text and "Hi there," in text
    assert "* one\n  * two" in text and "[this](https://x.example/a)" in text


def test_html_reply_drops_the_quote() -> None:
    mail = parse(fixture_mail("gmail_reply.eml"))
    assert "Forgot password" not in mail.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes please.\n\nOn Mon, 3 Jun 2024, Support <s@x> wrote:\n> old\n> older", "Yes please."),
        ("Yes.\n\nAm 03.06.2024 um 11:13 schrieb Support <s@x>:\n> alt", "Yes."),
        ("Oui.\n\nLe lun. 3 juin 2024 à 11:13, Support <s@x> a écrit :\n> vieux", "Oui."),
        ("Sure.\n> quoted inline\nmore from me", "Sure.\nmore from me"),
        ("Fine\n-- \nJane\nACME Corp", "Fine"),
        ("Fine\n\nSent from my iPhone", "Fine"),
        ("> only a quote\n> nothing new", "> only a quote\n> nothing new"),
    ],
)
def test_new_text_strips_history_and_signatures(text: str, expected: str) -> None:
    assert new_text(text) == expected


@pytest.mark.parametrize(
    ("name", "envelope_from", "reason"),
    [
        ("postfix_bounce.eml", "", "auto-submitted: auto-replied"),
        ("exchange_out_of_office.eml", None, "auto-submitted: auto-generated"),
        ("vacation_autoreply.eml", None, "precedence: bulk"),
        ("thunderbird_question.eml", "", "null envelope sender"),
    ],
)
def test_machine_mail_is_marked(name: str, envelope_from: str | None, reason: str) -> None:
    assert parse(fixture_mail(name), envelope_from).automated == reason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"auto_submitted": "auto-replied; owner-email=x@y"}, "auto-submitted: auto-replied"),
        ({"precedence": "junk"}, "precedence: junk"),
        ({"precedence": "list"}, "precedence: list"),
        ({"x_autorespond": "yes"}, "x-autorespond header"),
        ({"list_id": "<news.lumen.example>"}, "mailing list"),
        ({"return_path": "<>"}, "null return path"),
        ({"from": "postmaster@customer.example"}, "postmaster sender"),
        ({"from": "Mailer-Daemon <MAILER-DAEMON@customer.example>"}, "mailer-daemon sender"),
        ({"from": f"Us <{OURS}>"}, "sent from our own address"),
        ({"auto_submitted": "no"}, None),
        ({"precedence": "first-class"}, None),
    ],
)
def test_automation_signals(headers: dict[str, str], reason: str | None) -> None:
    raw = fixture_mail("thunderbird_question.eml", **headers)
    assert parse(raw).automated == reason


def test_a_dsn_without_any_header_hint_is_still_machine_mail() -> None:
    raw = fixture_mail(
        "postfix_bounce.eml", auto_submitted=None, return_path=None, **{"from": "relay@x.example"}
    )
    assert parse(raw).automated == "delivery status notification"


def test_attachments_are_found_and_named_safely() -> None:
    mail = parse(fixture_mail("apple_mail_attachments.eml"))
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("lamp photo.png", "image/png"),
        ("invoice-4711.pdf", "application/pdf"),
        ("lamp-fix.exe", "application/x-msdownload"),
        ("not-really.png", "image/png"),
        ("orders.csv", "text/csv"),
    ]
    assert mail.attachments[0].data.startswith(b"\x89PNG")
    assert safe_filename("../../etc/passwd", "text/plain") == "passwd"
    assert safe_filename("C:\\Users\\x\\evil\x00.pdf", "application/pdf") == "evil.pdf"
    assert safe_filename(None, "image/png") == "attachment"


def test_a_mail_without_a_sender_is_rejected() -> None:
    with pytest.raises(RejectedMail):
        parse(fixture_mail("thunderbird_question.eml", **{"from": None}))
    with pytest.raises(RejectedMail):
        parse(fixture_mail("thunderbird_question.eml", **{"from": "not an address"}), "")


@pytest.mark.parametrize(
    ("from_", "sender"),
    [
        # The display name is itself an address: replies go to the one in brackets.
        ("alice@example.com <bob@example.com>", "bob@example.com"),
        ("Jane Doe <jane@customer.example>, Joe <joe@customer.example>", "jane@customer.example"),
        ("jane@customer.example (Jane Doe)", "jane@customer.example"),
    ],
)
def test_the_sender_is_the_address_replies_go_to(from_: str, sender: str) -> None:
    assert parse(fixture_mail("thunderbird_question.eml", **{"from": from_})).sender_email == sender


def test_missing_message_id_gets_a_stable_one() -> None:
    raw = fixture_mail("thunderbird_question.eml", message_id=None)
    first = parse(raw).message_id
    # A relay on the way adds its Received header: still the same mail.
    relayed = with_headers(raw, received="from relay.example by mx.lumen.example")
    assert parse(relayed).message_id == first and first.endswith("@synthesised.invalid")
    changed = raw.replace(b"reset my password", b"change my password")
    assert parse(changed).message_id != first
    assert parse(raw).thread.key == first


def test_threading_headers() -> None:
    raw = fixture_mail(
        "gmail_reply.eml",
        references="<root@a.example>\r\n <b@lumen.example> <c@a.example>",
        in_reply_to="<b@lumen.example> (Lumen Support's message)",
    )
    mail = parse(raw)
    assert mail.thread.key == "root@a.example" and mail.thread.reply_to == "b@lumen.example"


@pytest.mark.parametrize(
    ("message_id", "in_reply_to", "references", "key", "reply_to"),
    [
        ("m", [], [], "m", None),
        ("m", ["p"], [], "p", "p"),
        ("m", ["p"], ["r", "p"], "r", "p"),
        ("m", [], ["r", "q"], "r", "q"),  # In-Reply-To dropped: the last reference
    ],
)
def test_thread_of(
    message_id: str, in_reply_to: list[str], references: list[str], key: str, reply_to: str | None
) -> None:
    thread = thread_of(message_id, in_reply_to, references)
    assert (thread.key, thread.reply_to) == (key, reply_to)


def test_message_ids() -> None:
    assert message_ids("<a@x> <b@y>\r\n\t<a@x>") == ["a@x", "b@y"]
    assert message_ids("bare@x.example") == ["bare@x.example"]
    assert message_ids("garbage") == [] and message_ids(None) == []
    long = "x" * 400 + "@example.com"
    assert len(normalize_id(long)) <= MAX_ID_CHARS
    assert normalize_id(f"<{long}>") == normalize_id(long)


@pytest.mark.parametrize(
    ("subject", "clean", "ticket"),
    [
        ("Re: Password reset", "Password reset", None),
        ("RE: Fwd: AW: Re[2]: Password reset [#123]", "Password reset", 123),
        ("[#42] Re: Lamp", "Lamp", 42),
        ("Re: Lamp [#42] flickers", "Lamp flickers", 42),
        ("Sv: Vs: Fw: Order", "Order", None),
        ("Regarding my order", "Regarding my order", None),
        ("Re:   multi\n line\tsubject", "multi line subject", None),
        (None, "", None),
    ],
)
def test_clean_subject(subject: str | None, clean: str, ticket: int | None) -> None:
    assert clean_subject(subject) == (clean, ticket)


def test_reply_subject() -> None:
    assert reply_subject("Password reset", 12) == "Re: Password reset [#12]"
    assert reply_subject("Re: Password reset [#12]", None) == "Re: Password reset"
    assert reply_subject(None, None) == "Re: Your message"
