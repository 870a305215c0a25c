"""MIME structure, charsets and machine-mail signals on real shapes: Outlook Express
boundaries, labels narrower than their text (GBK as gb2312, cp949 as ks_c_5601),
UTF-8 under a Latin-1 label, opaque S/MIME, forwarded mail, and the senders and
headers that mark a mail as sent by a machine (and those that must not)."""

from __future__ import annotations

import base64
import re

import pytest

from omnidesk.channels.email import ParsedMail, parse_mail
from omnidesk.channels.email.charsets import decode_bytes, decode_words
from omnidesk.channels.email.parse import FORWARD_MARK
from tests.channels.email.conftest import FIXTURES, OURS, fixture_mail, with_headers


def parse(raw: bytes) -> ParsedMail:
    return parse_mail(raw, our_address=OURS)


def mail(body: bytes, content_type: str, **headers: str) -> bytes:
    head = {
        "From": "Jane Doe <jane.doe@customer.example>",
        "To": OURS,
        "Subject": "Help",
        "Message-ID": "<m1@customer.example>",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
        **headers,
    }
    lines = [f"{name}: {value}" for name, value in head.items()]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


# -- charsets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codec", "label"),
    [
        ("喆镕 订单没到", "gbk", "gb2312"),  # GBK-only characters under the GB2312 label
        ("價格 €10", "cp950", "big5"),  # the euro sign exists only in code page 950
        ("똠방각하 주문", "cp949", "ks_c_5601-1987"),  # hangul outside KS X 1001
        ("똠방각하", "cp949", "euc-kr"),
        ("①番の注文", "cp932", "shift_jis"),  # NEC circled digits: code page 932 only
        (
            "Grüße \N{EN DASH} \N{LEFT DOUBLE QUOTATION MARK}q\N{RIGHT DOUBLE QUOTATION MARK}",
            "cp1252",
            "iso-8859-1",
        ),
        ("Envoyé", "utf-8", "iso-8859-1"),  # UTF-8 bytes, Latin-1 label
        ("Envoyé", "utf-8", "us-ascii"),
        ("Привет", "koi8-r", "koi8-r"),
        ("Привет", "utf-8", "koi8-r"),
        ("plain words", "ascii", "x-unknown-charset"),
        ("すみません", "iso-2022-jp", "iso-2022-jp"),  # 7-bit, needs its own codec
    ],
)
def test_body_bytes_read_as_their_sender_meant(text: str, codec: str, label: str) -> None:
    assert decode_bytes(text.encode(codec), label) == text


def test_a_narrow_label_would_have_damaged_the_text() -> None:
    # What the label alone gives: the reason the superset is used.
    assert "喆镕".encode("gbk").decode("gb2312", "replace") != "喆镕"
    assert decode_bytes("喆镕".encode("gbk"), "gb2312") == "喆镕"


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("=?iso-8859-1?Q?Envoy=C3=A9?=", "Envoyé"),
        (
            "=?gb2312?B?" + base64.b64encode("喆镕的订单".encode("gbk")).decode() + "?=",
            "喆镕的订单",
        ),
        ("Re: =?utf-8?q?caf=C3=A9?= order", "Re: café order"),
        ("=?utf-8?B?44G+44G/?= =?utf-8?B?44KA?=", "まみむ"),
        ("no words here", "no words here"),
        ("=?bogus-charset?Q?Hi?=", "Hi"),
    ],
)
def test_encoded_words_use_the_same_reading(raw: str, decoded: str) -> None:
    assert decode_words(raw) == decoded


def test_subject_and_sender_name_in_a_narrow_charset() -> None:
    name = base64.b64encode("喆镕".encode("gbk")).decode()
    subject = base64.b64encode("订单喆".encode("gbk")).decode()
    raw = mail(
        "你好".encode("gbk"),
        'text/plain; charset="gb2312"',
        From=f"=?gb2312?B?{name}?= <zhe@customer.example>",
        Subject=f"=?gb2312?B?{subject}?=",
    )
    parsed = parse(raw)
    assert (parsed.sender_name, parsed.subject, parsed.text) == ("喆镕", "订单喆", "你好")


def test_utf8_body_labelled_latin1_in_a_real_mail() -> None:
    raw = mail("Envoyé depuis mon téléphone, merci".encode(), "text/plain; charset=iso-8859-1")
    assert parse(raw).text == "Envoyé depuis mon téléphone, merci"


# -- structure -----------------------------------------------------------------------------


def test_unquoted_outlook_express_boundary_is_read_whole() -> None:
    body = (
        b"This is a multi-part message in MIME format.\r\n\r\n"
        b"------=_NextPart_000_0004_01D6A1B2.3C4D5E60\r\n"
        b"Content-Type: text/plain; charset=windows-1252\r\n\r\n"
        b"My order 4711 never arrived.\r\n\r\n"
        b"------=_NextPart_000_0004_01D6A1B2.3C4D5E60\r\n"
        b"Content-Type: application/pdf; name=receipt.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"JVBERi0xLjQK\r\n"
        b"------=_NextPart_000_0004_01D6A1B2.3C4D5E60--\r\n"
    )
    parsed = parse(
        mail(body, "multipart/mixed; boundary=----=_NextPart_000_0004_01D6A1B2.3C4D5E60")
    )
    assert parsed.text == "My order 4711 never arrived."
    assert [(a.filename, a.data) for a in parsed.attachments] == [("receipt.pdf", b"%PDF-1.4\n")]


def test_text_after_and_between_files_is_kept() -> None:
    body = (
        b"--b\r\nContent-Type: image/png; name=a.png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"iVBORw0KGgo=\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe photo shows the crack.\r\n"
        b"--b\r\nContent-Type: application/pdf; name=b.pdf\r\nContent-Disposition: inline\r\n\r\n"
        b"%PDF-1.4\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nAnd here is the invoice.\r\n"
        b"--b--\r\n"
    )
    parsed = parse(mail(body, "multipart/mixed; boundary=b"))
    assert parsed.text == "The photo shows the crack.\n\nAnd here is the invoice."
    assert [a.filename for a in parsed.attachments] == ["a.png", "b.pdf"]


def test_forwarded_mail_follows_the_senders_text_with_its_files() -> None:
    forwarded = (
        b"From: Shop <orders@shop.example>\r\nDate: Mon, 3 Jun 2024 10:00:00 +0000\r\n"
        b"Subject: Your order 4711\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=inner\r\n\r\n"
        b"--inner\r\nContent-Type: text/plain\r\n\r\nWe shipped your lamp.\r\n"
        b"--inner\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename=label.pdf\r\n\r\n%PDF-1.4\r\n"
        b"--inner--\r\n"
    )
    body = (
        b"--outer\r\nContent-Type: text/plain\r\n\r\nIt never came, see below.\r\n"
        b"--outer\r\nContent-Type: message/rfc822\r\n"
        b"Content-Disposition: attachment; filename=order.eml\r\n\r\n" + forwarded + b"\r\n"
        b"--outer--\r\n"
    )
    parsed = parse(mail(body, "multipart/mixed; boundary=outer"))
    assert parsed.text == (
        f"It never came, see below.\n\n{FORWARD_MARK}\nFrom: Shop <orders@shop.example>\n"
        "Date: Mon, 3 Jun 2024 10:00:00 +0000\nSubject: Your order 4711\n\n"
        "We shipped your lamp."
    )
    assert [a.filename for a in parsed.attachments] == ["label.pdf"]


def _p7s_of_flanker_signed_mail() -> bytes:
    raw = (FIXTURES / "mailgun-flanker" / "signed.eml").read_text()
    blob = raw.split('filename="smime.p7s"', 1)[1].split("------E0F28B", 1)[0]
    return base64.b64decode("".join(blob.split()))


def test_opaque_smime_signed_mail_is_unwrapped() -> None:
    p7m = base64.encodebytes(_p7s_of_flanker_signed_mail())
    raw = mail(
        p7m,
        'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"',
        **{"Content-Transfer-Encoding": "base64"},
    )
    parsed = parse(raw)
    # The signed entity inside is an application/plain part: its content, not the blob.
    assert [a.data for a in parsed.attachments] == ["a pöstal sign of our times".encode()]


def test_encrypted_smime_stays_a_file() -> None:
    raw = mail(
        base64.encodebytes(b"\x30\x80 not readable without the key"),
        'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
        **{"Content-Transfer-Encoding": "base64"},
    )
    assert [a.filename for a in parse(raw).attachments] == ["smime.p7m"]


# -- machine mail --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        # iCloud's vacation responder: no Auto-Submitted, only its own header.
        ({"x_apple_action": "VACATION"}, "x-apple-action header"),
        ({"subject": "Auto reply: Password reset"}, "auto-reply subject"),
        ({"subject": "Automatic reply: Password reset"}, "auto-reply subject"),
        ({"subject": "Abwesenheitsnotiz: Passwort"}, "auto-reply subject"),
        ({"subject": "Réponse automatique : mot de passe"}, "auto-reply subject"),
        ({"subject": "Out of Office: Password reset"}, "auto-reply subject"),
        ({"subject": "AUTO: Jane Doe is out of the office (back 5 June)"}, "auto-reply subject"),
        ({"list_unsubscribe": "<mailto:leave@news.example>"}, "mailing list"),
        ({"list_subscribe": "<mailto:join@news.example>"}, "mailing list"),
        ({"list_post": "<mailto:list@news.example>"}, "mailing list"),
        ({"mailing_list": "contact internals-help@lists.php.net; run by ezmlm"}, "mailing list"),
        ({"from": "AWS Notifications <no-reply@sns.amazonaws.com>"}, "no-reply sender"),
        ({"from": "noreply@github.com"}, "no-reply sender"),
        ({"from": "do-not-reply@bank.example"}, "no-reply sender"),
        ({"from": "noreply-dmarc-support@google.com"}, "no-reply sender"),
        ({"from": "MAILER-DAEMON@amazonses.com"}, "mailer-daemon sender"),
    ],
)
def test_machine_signals(headers: dict[str, str], reason: str) -> None:
    assert parse(fixture_mail("thunderbird_question.eml", **headers)).automated == reason


@pytest.mark.parametrize(
    "headers",
    [
        # A person whose display name says "no reply" still writes as a person.
        {"from": '"No Reply Needed, Jane" <jane.doe@customer.example>'},
        {"from": "Noreply Fan <noreplyfan@customer.example>"},
        {"from": "Reply Norman <norman.reply@customer.example>"},
        {"subject": "Re: auto reply settings do not work"},
        {"subject": "My out of office reply is not sent"},
        {"subject": "Automatic replies: how do I turn them off?"},
        {"subject": "Auto: insurance claim for my car"},
        {"x_apple_action": ""},
    ],
)
def test_people_are_not_taken_for_machines(headers: dict[str, str]) -> None:
    assert parse(fixture_mail("thunderbird_question.eml", **headers)).automated is None


def test_arf_report_is_a_feedback_report() -> None:
    raw = fixture_mail("postfix_bounce.eml", auto_submitted=None, return_path=None)
    raw = re.sub(rb"report-type=\"?delivery-status\"?", b"report-type=feedback-report", raw)
    raw = with_headers(raw, **{"from": "scomp@aol.net"})
    assert parse(raw).automated == "feedback report"


def test_unindented_header_continuations_do_not_end_the_headers() -> None:
    # A news gateway unfolded a DKIM signature: its tail lines lost their indentation
    # (no colon, or one in the wrong place). From and Subject below them still count.
    raw = fixture_mail("thunderbird_question.eml")
    head, sep, body = raw.partition(b"\r\n\r\n")
    garbled = b"DKIM-Signature: v=1;\r\nd=gmail.com; s 120113;\r\n:cc:content-type;\r\n"
    mail = parse(garbled + head + sep + body)
    assert mail.sender_email == parse(raw).sender_email
    assert mail.subject == parse(raw).subject and mail.text == parse(raw).text


def test_a_report_explained_in_its_preamble_keeps_the_words() -> None:
    # sprynet's 1996 MTA wrote its explanation before the first boundary, then went
    # straight to the machine-readable delivery status.
    raw = (
        b"From: The Post Office <postmaster@mm1.sprynet.example>\r\nSubject: error\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/report; boundary="b"\r\n\r\n'
        b"error: err.nosuchuser: news@imusic.example\r\n\r\n--b\r\n"
        b"Content-Type: message/delivery-status\r\n\r\nAction: failed\r\n--b--\r\n"
    )
    assert parse(raw).text == "error: err.nosuchuser: news@imusic.example"


def test_an_x_field_with_a_space_in_its_name_is_no_text() -> None:
    raw = fixture_mail("thunderbird_question.eml")
    head, sep, body = raw.partition(b"\r\n\r\n")
    mail = parse(head + b"\r\nX-Invalid Header: oops, this is invalid" + sep + body)
    assert mail.text == parse(raw).text and "oops" not in mail.text
