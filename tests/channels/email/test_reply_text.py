"""The customer's own words out of a mail body: format=flowed joins only within one quote
depth, quotes go wherever they stand, reply headers of many clients and languages go,
and only a real signature at the very end is removed (words in the middle never end a
mail). The captured corpus is in test_reply_corpus.py and test_corpus.py; these are the
shapes each rule is about, one by one."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from omnidesk.channels.email.parse import parse_mail
from omnidesk.channels.email.reply_text import MAX_TEXT_CHARS, _unflow, new_text
from tests.channels.email.conftest import OURS


def flowed_part(delsp: bool = False) -> EmailMessage:
    part = EmailMessage()
    part.set_content("x", params={"format": "flowed", **({"delsp": "yes"} if delsp else {})})
    return part


def test_flowed_lines_join_only_within_one_quote_depth() -> None:
    body = "Hi, \n> Your order ships on \n> Monday. \nCould it ship \nsooner? \n>> older \n> newer"
    assert _unflow(flowed_part(), body).split("\n") == [
        "Hi, ",
        "> Your order ships on Monday. ",
        "Could it ship sooner? ",
        ">> older ",
        "> newer",
    ]


def test_flowed_delsp_space_stuffing_and_the_signature_separator() -> None:
    body = "Wo\nrd \n From the start\n-- \nJane"
    assert _unflow(flowed_part(), body) == "Wo\nrd From the start\n-- \nJane"
    assert _unflow(flowed_part(delsp=True), "Lang \nwort") == "Langwort"
    assert _unflow(flowed_part(delsp=True), "日本語 \nです") == "日本語です"
    # A sender that broke prose at a single space under DelSp=yes (MimeKit issue 1130).
    assert _unflow(flowed_part(delsp=True), "now there is \na note") == "now there is a note"
    assert _unflow(flowed_part(delsp=True), "now there is  \na note") == "now there is a note"
    plain = EmailMessage()
    plain.set_content("x")
    assert _unflow(plain, "a \nb") == "a \nb"  # not flowed: lines stay as they are


def test_a_flowed_reply_below_the_quote_is_not_glued_to_it() -> None:
    raw = (
        b"From: Jane <jane@customer.example>\r\nTo: support@lumen.example\r\n"
        b"Subject: Re: Lamp\r\nMessage-ID: <flowed@customer.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n"
        b"On 03.06.2024 11:13, Lumen Support wrote:\r\n"
        b"> Please try the reset button at the \r\n"
        b"> back of the lamp. \r\n"
        b"I did, it still flickers. \r\n"
        b"What next?\r\n"
    )
    assert parse_mail(raw, our_address=OURS).text == "I did, it still flickers. What next?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a bullet list in the middle
            "Hi,\n\nthe lamp:\n- flickers\n- gets hot\n\nWhat can I do?",
            "Hi,\n\nthe lamp:\n- flickers\n- gets hot\n\nWhat can I do?",
        ),
        (  # "Thanks, ..." opening a line in the middle
            "Hi,\n\nit works now.\nThanks, and one more thing: the timer resets every night.\nWhy?",
            "Hi,\n\nit works now.\nThanks, and one more thing: the timer resets every night.\nWhy?",
        ),
        (  # "Best," and "Regards," lines in the middle, followed by long text
            "Best,\nI mean: the best lamp I had, until the update broke the dimmer and the "
            "timer, and the colours are gone too.\nCan you help?",
            "Best,\nI mean: the best lamp I had, until the update broke the dimmer and the "
            "timer, and the colours are gone too.\nCan you help?",
        ),
        ("Fine\n-- \nJane\nACME Corp", "Fine"),
        ("Fine\n\nSent from my iPhone", "Fine"),
        ("It broke.\n\nThanks,\nJane Doe\nACME Corp\n+49 30 1234567", "It broke."),
        ("It broke.\n\nMit freundlichen Grüßen\n\nJane Doe", "It broke."),
        ("It broke.\n\nThanks, Jane", "It broke."),
        ("It broke.\n\n-Jane", "It broke."),
        ("Thanks!", "Thanks!"),
        (  # a P.S. after the name is the customer's again
            "It broke.\n\nBest,\nJane\n\nP.S. my order number is 4711",
            "It broke.\n\nBest,\nJane\n\nP.S. my order number is 4711",
        ),
        ("It broke.\n\n" + "__\n" * 5000 + "Jane", "It broke."),
    ],
)
def test_only_a_signature_at_the_very_end_is_removed(text: str, expected: str) -> None:
    assert new_text(text) == expected


@pytest.mark.parametrize(
    "quote",
    [
        # German client, header wrapped over two lines, quoted
        "Am 03.06.2024 um 11:13 schrieb Lumen Support\n<support@lumen.example>:\n> Bitte "
        "Reset drücken.",
        # Lotus Notes, German field names, unquoted original below
        "Von:\tLumen Support <support@lumen.example>\nAn:\tJane <jane@customer.example>\n"
        "Datum:\t03.06.2024 11:13\nBetreff:\tRe: Lampe\n\nBitte Reset drücken.",
        # Lotus Notes attribution
        '"Lumen Support" <support@lumen.example> schrieb am 03.06.2024 11:13:55:\n\n> Bitte '
        "Reset drücken.",
        # Outlook, English
        "From: Lumen Support <support@lumen.example>\nSent: Monday, June 3, 2024 11:13 AM\n"
        "To: Jane\nSubject: RE: Lamp\n\nPlease press reset.",
        "-----Original Message-----\nFrom: Lumen Support\nSent: Monday\n\nPlease press reset.",
        "-----Ursprüngliche Nachricht-----\nVon: Lumen Support\nGesendet: Montag\n\nBitte Reset.",
        "Le lun. 3 juin 2024 à 11:13, Lumen Support <support@lumen.example> a écrit :\n> Merci",
        "Op ma 3 jun. 2024 om 11:13 schreef Lumen Support <support@lumen.example>:\n> Druk",
        "El lun, 3 jun 2024 a las 11:13, Lumen Support (<support@lumen.example>) escribió:\n"
        "> Pulse",
    ],
)
def test_reply_headers_and_the_agents_words_go(quote: str) -> None:
    assert new_text(f"Es flackert immer noch.\n\n{quote}") == "Es flackert immer noch."


def test_the_customers_lines_are_kept_wherever_they_stand() -> None:
    text = (
        "Hi,\n\nOn Mon, 3 Jun 2024 at 11:13, Lumen Support <support@lumen.example> wrote:\n"
        "> Which model is it?\n\nThe Aurora 2.\n\n> Since when?\n\nSince the update.\n\n"
        "-- \nJane"
    )
    assert new_text(text) == "Hi,\n\nThe Aurora 2.\n\nSince the update."


@pytest.mark.parametrize(
    "text",
    [
        "My order:\n=== Step 1 ===\nI opened the box.\n=== Step 2 ===\nIt was empty.",
        "Sent from the warehouse on Monday.\nIt still has not arrived.",
        "Send 2 copies to <jane@customer.example>:\nthe invoice and the receipt.",
        "Prices:\n-Apple\n-Pear",
        "I wrote:\nthe lamp is broken.\nPlease call me.",
    ],
)
def test_the_customers_own_lines_that_look_like_markers_stay(text: str) -> None:
    assert new_text(text) == text


def test_one_field_like_line_of_the_customer_is_no_header_block() -> None:
    text = "Data: the export is empty.\nDo: I restarted twice.\n\nWhat else can I try?"
    assert new_text(text) == text


def test_a_bare_quote_or_forward_keeps_its_full_text() -> None:
    assert new_text("> only a quote\n> nothing new") == "> only a quote\n> nothing new"
    forward = "---------- Forwarded message ---------\nFrom: Shop <s@x.example>\nDate: Mon\n\nOrder"
    assert new_text(forward) == forward


def test_text_is_cleaned_and_bounded() -> None:
    assert new_text("Caf\u0065\u0301 \x00ok\x96\r\n\r\n\r\n\r\nnext") == "Café ok\u2013\n\nnext"
    assert new_text("  \n ") == ""
    long = new_text("a" * (MAX_TEXT_CHARS + 10))
    assert len(long) < MAX_TEXT_CHARS + 30 and long.endswith("[message truncated]")


def test_an_overlong_line_is_never_taken_for_a_header() -> None:
    # main ran the header patterns over the whole text: a 90,000-character line of
    # "On " backtracked for minutes; header candidates are now bounded lines.
    text = "On " * 30_000 + "wrote:\n> quoted"
    assert new_text(text).startswith("On On On")


NOTE = "Please look at this, the shop never answered."
GMAIL_FORWARD = (
    "---------- Forwarded message ---------\nFrom: Shop <s@shop.example>\n"
    "Date: Mon, 3 Jun 2024 at 11:13\nSubject: Your order\nTo: <jane@customer.example>\n\n"
    "Your order 4711 ships next week."
)


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        (f"{NOTE}\n\n{GMAIL_FORWARD}", None),
        (f"{NOTE}\n\nThanks,\nJane\n\n{GMAIL_FORWARD}", "Fwd: Your order"),
        (f"{NOTE}\n\n{GMAIL_FORWARD.replace('Forwarded message', 'Message transféré')}", None),
    ],
)
def test_a_forward_below_the_note_is_kept(text: str, subject: str | None) -> None:
    kept = new_text(text, subject=subject)
    assert kept.startswith(f"{NOTE}\n\n---------- ") and "Jane" not in kept
    assert kept.endswith(
        "Subject: Your order\nTo: <jane@customer.example>\n\nYour order 4711 ships next week."
    )


def test_an_apple_forward_below_the_phones_line_is_kept() -> None:
    forward = (
        "Begin forwarded message:\n\n> From: Shop <s@shop.example>\n> Subject: Order\n>\n"
        "> Ships soon."
    )
    text = f"{NOTE}\n\nSent from my iPhone\n\n{forward}"
    assert new_text(text) == f"{NOTE}\n\n{forward}"


OUTLOOK_BLOCK = (
    "-----Original Message-----\nFrom: Shop <s@shop.example>\nSent: Monday, June 3, 2024 11:13\n"
    "To: Jane\nSubject: Your order\n\nYour order 4711 ships next week."
)


def test_an_outlook_block_forwards_only_when_the_subject_says_so() -> None:
    text = f"{NOTE}\n\n{OUTLOOK_BLOCK}"
    assert new_text(text, subject="FW: Your order") == text
    assert new_text(text, subject="WG: Your order") == text
    assert new_text(text, subject="RE: Your order") == NOTE
    assert new_text(text, subject="Re: Fwd: Your order") == NOTE
    assert new_text(text) == NOTE


def test_a_quote_in_a_forwarded_mail_is_still_a_quote_when_replied_to() -> None:
    # "On ... wrote:" only ever introduces a quote, even in a mail titled "Fwd:".
    quoted = "\n".join(f"> {line}" for line in GMAIL_FORWARD.split("\n"))
    quote = f"On Mon, 3 Jun 2024 at 11:13, Shop <s@shop.example> wrote:\n{quoted}"
    assert new_text(f"{NOTE}\n\n{quote}", subject="Fwd: Your order") == NOTE


def test_a_dateless_attribution_over_its_quote_goes() -> None:
    # Netscape 4 and many list clients write only "Marc Slemko wrote:"; with the quote
    # right below it the line introduces the quote, whatever the date.
    text = "Marc Slemko wrote:\n> If you have a real uid of root...\n\nIsn't that the case?"
    assert new_text(text) == "Isn't that the case?"
    assert new_text("I wrote:\nthe lamp is broken.") == "I wrote:\nthe lamp is broken."
