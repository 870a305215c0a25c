"""What the customer wrote this time, out of a mail's body text: RFC 3676 format=flowed
undone, the quoted history and its reply headers dropped wherever they stand (above,
below or between the customer's lines), and the signature at the very end removed.

mail-parser-reply supplies the reply headers it knows in many languages ("On ... wrote:",
"Am ... schrieb:", Outlook and Lotus Notes "From:/Von:" blocks, "Original Message"); its
own splitting keeps only the text above the first header and its signature rule ends a
mail at any line starting "- " or "Thanks,", so the walk over the lines and the signature
rules are ours. Pure functions of text.
"""

from __future__ import annotations

import re
import unicodedata
from email.message import Message

from mailparser_reply.parser import EmailMessage

from omnidesk.channels.email.forwards import (
    FORWARD_INTRO,
    FORWARD_WORDS,
    SEPARATOR,
    forward_marker,
    forward_subject,
    opens_forward,
)

MAX_TEXT_CHARS = 50_000
CJK_START = "\u2e80"  # scripts written without spaces between words start here
# The languages whose reply headers mail-parser-reply recognises for us ("david" is a
# product's header, not a language).
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "da", "pl", "cs", "ja", "ko", "zh"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_C1 = re.compile(r"[\x80-\x9f]")
_BLANK_LINES = re.compile(r"\n{3,}")

_LIBRARY_HEADERS = EmailMessage(text="", languages=list(REPLY_LANGUAGES)).HEADER_REGEX
# "Von: ...", "**From:** ...", "De : ...": a field of a quoted mail's header block.
_FIELD = re.compile(r"^[*>\s]*[^\W\d_][^:\n]{0,25}?\s?[:\uff1a]")
# The last words of an attribution line, in the languages mail clients write them.
_WROTE = re.compile(
    r"(?:wrote|writes|schrieb|a écrit|escribió|escreveu|ha scritto|schreef|skrev|kirjoitti"
    r"|napsal\(a\)|napisał\(a\)|napisała?|написал\(а\)|написала?|ezt írta|yazdı|写道|寫道)"  # noqa: RUF001 (Cyrillic words)
    r"\s*[:\uff1a]$",
    re.IGNORECASE,
)
# Gmail in languages without a verb (Russian: "<weekday>, 30 <month> 2025 ... 15:19,
# John <j@x.example>:").
_ADDRESS_COLON = re.compile(r"[<(\[][^<>()\[\]\s]+@[^<>()\[\]\s]+[>)\]]+\s*[:\uff1a]$")
# Lotus Notes: '"Support" <s@x> schrieb am 03.06.2024 11:13:55:'.
_WROTE_ON = re.compile(r"\b(?:wrote|schrieb|a écrit)\s+(?:on|am|le)\b.*[:\uff1a]$", re.IGNORECASE)
# The words of a separator line (forwards.SEPARATOR) that end the customer's text:
# "-----Original Message-----", "-------- Message d'origine --------", a forward's marker
# (forwards.FORWARD_WORDS), or "---- On ... wrote ----"; a rule around other words
# ("=== Step 1 ===") is the customer's own formatting.
_SEPARATOR_WORDS = re.compile(
    r"original message|message d'origine|oprindelig (?:besked|meddelelse)"
    r"|ursprüngliche nachricht|mensaje original|mensagem original|messaggio originale"
    r"|oorspronkelijk bericht|ursprungligt meddelande|wiadomość oryginalna|původní zpráva"
    rf"|eredeti üzenet|{FORWARD_WORDS.pattern}",
    re.IGNORECASE,
)
# A date or a time in an attribution line: "2024", "11:13", "17.50".
_DATEISH = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)|(?<!\d)\d{1,2}[:.]\d{2}(?!\d)")
# What mobile clients append below the text: the end of what the customer typed. "Sent
# from my <device>" always; "Sent from <app>" when the app is named in a few words or a link
# ("Sent from the warehouse on Monday." is the customer's sentence).
_SENT_FROM_MY = re.compile(
    r"^(?:Sent from my|Von meinem .{1,30} gesendet|Gesendet von meinem|Envoyé de mon"
    r"|Envoyé depuis mon|Enviado desde mi|Enviado do meu|Inviato dal mio|Verzonden vanaf mijn"
    r"|Skickat från min|Sendt fra min|Wysłano z mojego|Odesláno z mého)\b.{0,60}$"
)
_SENT_FROM_APP = re.compile(
    r"^(?:Sent from|Sent with|Sent via|Get Outlook for|Download Outlook for|Gesendet von"
    r"|Gesendet mit|Envoyé de|Envoyé depuis|Télécharger Outlook pour|Enviado desde|Enviado do"
    r"|Inviato da|Verzonden met|Verzonden vanaf|Skickat från|Sendt fra|Wysłano z|Odesláno z)"
    r"\s(?P<app>.{1,80})$"
)
_RULE = re.compile(r"^[\u2014\u2013_]{2,}$")  # a rule of dashes or underscores above a signature
_CLOSING_WORDS = (
    r"thanks|thank you|many thanks|thanks again|cheers|best|best regards|kind regards"
    r"|warm regards|regards|sincerely|yours sincerely|yours truly|all the best|best wishes"
    r"|mit freundlichen grüßen|freundliche grüße|viele grüße|beste grüße|liebe grüße|grüße"
    r"|gruß|lg|mfg|cordialement|bien cordialement|salutations|bien à vous|merci"
    r"|saludos|un saludo|atentamente|cordiali saluti|saluti|distinti saluti"
    r"|met vriendelijke groet(?:en)?|groeten|hartelijke groet(?:en)?|med vänliga hälsningar"
    r"|vänliga hälsningar|hälsningar|mvh|med venlig hilsen|venlig hilsen|hilsen|pozdrawiam"
    r"|z poważaniem|s pozdravem|s úctou|üdvözlettel|udvozlettel|с уважением|спасибо"  # noqa: RUF001 (Cyrillic words)
    r"|atenciosamente|abraços|obrigad[oa]"
)
# "Best regards," or "Med venlig hilsen / Kind regards" alone on its line (an emoji may
# follow), or with the name after it: "Thanks, Jane".
_CLOSING = re.compile(
    rf"^(?:{_CLOSING_WORDS})(?:\s*/\s*(?:{_CLOSING_WORDS}))?[\s,.!…]*[^\w\s]*\s*$",
    re.IGNORECASE,
)
_CLOSING_AND_NAME = re.compile(
    rf"^(?:{_CLOSING_WORDS})[,!.]?\s+[A-ZÀ-Þ][\w.'-]*(?:\s[A-ZÀ-Þ][\w.'-]*){{0,2}}$",
    re.IGNORECASE,
)
_DASH_NAME = re.compile(r"^-[A-ZÀ-Þ][\w.'-]*(?:\s[\w.'-]+){0,3}$")  # "-Abhishek Kona"
_PS = re.compile(r"^p\.?\s?s\b", re.IGNORECASE)  # "P.S. my order number is 4711"
MAX_SIGNATURE_LINES = 6
MAX_SIGNATURE_LINE_CHARS = 80
MIN_WRAPPED_CHARS = 60  # clients wrap quoted lines at 72-78 characters
MAX_HEADER_LINE_CHARS = 300  # real attribution lines reach about 170
HEADER_WINDOW_LINES = 8  # a rule, From/Sent/To/Cc/Subject/Date and a wrapped line


def new_text(text: str, *, subject: str | None = None) -> str:
    """What the customer wrote this time: quoted history, reply headers and signature
    removed; a mail forwarded inline below it is kept whole (``forwards``, told by the
    mail's ``subject`` too). A mail that is nothing but a quote keeps its full text."""
    full = _clean_text(text)
    if not full:
        return ""
    lines = full.split("\n")
    kept, forward_at = _own_lines(lines, forwarding=forward_subject(subject))
    own = "\n".join(_without_signature(kept)).strip()
    forwarded = "\n".join(lines[forward_at:]).strip() if forward_at is not None else ""
    result = _BLANK_LINES.sub("\n\n", "\n\n".join(x for x in (own, forwarded) if x))
    return _truncate(result or full)


def _own_lines(lines: list[str], *, forwarding: bool) -> tuple[list[str], int | None]:
    """The customer's lines in order, and where a mail they forward inline starts: quoted
    lines and the attributions that introduce them are dropped, and the text ends where
    a header block, a separator, an attribution over unquoted history, a "-- " signature
    or a mobile client's line starts. A forward may follow that signature line.
    """
    headers = _headers(lines)
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if index in headers:
            end, is_attribution = headers[index]
            if opens_forward(line, is_attribution=is_attribution, forwarding=forwarding):
                return _trimmed(kept), index
            following = next((x for x in lines[end:] if x.strip()), "")
            if not (is_attribution and _quoted(following)):
                break  # the rest is history that was not quoted with ">"
            index = end
            continue
        if line in ("--", "-- ") or _sent_from(line.strip()):
            after = min((i for i in headers if i > index), default=None)
            if after is not None and forward_marker(lines[after]):
                return _trimmed(kept), after  # "Sent from my iPhone" over "Begin forwarded"
            break
        if not _quoted(line) and not _wrapped_quote(lines, index):
            kept.append(line)
        index += 1
    return _trimmed(kept), None


def _trimmed(kept: list[str]) -> list[str]:
    while kept and (not kept[-1].strip() or _RULE.match(kept[-1].strip())):
        kept.pop()  # the blank lines and the "_____" rule above a cut-off header
    return kept


def _headers(lines: list[str]) -> dict[int, tuple[int, bool]]:
    """Where reply headers start: line index to (index after the header, whether it is
    an attribution line, after which quoted lines and the customer's own may alternate).
    Quoted lines are dropped anyway, and overlong ones are never a header (which also
    keeps the header patterns' backtracking short)."""
    found: dict[int, tuple[int, bool]] = {}
    for index, line in enumerate(lines):
        if line.strip() and not _quoted(line) and len(line) <= MAX_HEADER_LINE_CHARS:
            header = _library_header(lines, index) or _own_header(lines, index)
            if header is not None:
                found[index] = header
    return found


def _library_header(lines: list[str], index: int) -> tuple[int, bool] | None:
    """A header mail-parser-reply knows, starting at ``lines[index]``."""
    window: list[str] = []
    for line in lines[index : index + HEADER_WINDOW_LINES]:
        if len(line) > MAX_HEADER_LINE_CHARS:
            break
        window.append(line)
    if not any(c in "".join(window[:2]) for c in ":\uff1a") and "Original" not in window[0]:
        return None  # every header it knows has a colon or "Original Message" up front
    match = _LIBRARY_HEADERS.match("\n".join(window))
    block = match.group().rstrip("\n") if match else ""
    if not block.strip():
        return None
    end = index + block.count("\n") + 1
    if _FIELD.match(lines[index]):
        fields = sum(1 for part in block.split("\n") if _FIELD.match(part))
        return (end, False) if fields >= 2 else None  # one "Data:" line is the customer's
    return end, block.rstrip().endswith((":", "\uff1a"))


def _own_header(lines: list[str], index: int) -> tuple[int, bool] | None:
    """A separator line or an attribution in a language or shape the library misses."""
    line = lines[index]
    if _separator(line) or FORWARD_INTRO.match(line.strip()):
        return index + 1, False
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if _attribution(line) or (_WROTE.search(line.strip()) and _quoted(following)):
        return index + 1, True  # "Marc Slemko wrote:" right over its quote needs no date
    if len(following) <= MAX_HEADER_LINE_CHARS and _wrapped_attribution(line, following):
        return index + 2, True
    return None


def _separator(line: str) -> bool:
    match = SEPARATOR.match(line)
    if match is None:
        return False
    words = match.group("words")
    return bool(_SEPARATOR_WORDS.search(words) or (_DATEISH.search(words) and "wrote" in words))


def _sent_from(line: str) -> bool:
    if _SENT_FROM_MY.match(line):
        return True
    match = _SENT_FROM_APP.match(line)
    if match is None:
        return False
    app = match.group("app")
    return "http" in app or (len(app.split()) <= 4 and not app.endswith((".", "!", "?", ",")))


def _attribution(line: str) -> bool:
    """An "On <date>, <who> wrote:" line in any language we know."""
    text = line.strip()
    if not _DATEISH.search(text):
        return False
    return bool(_WROTE.search(text) or _WROTE_ON.search(text) or _ADDRESS_COLON.search(text))


def _wrapped_attribution(line: str, following: str) -> bool:
    """An attribution the client wrapped over two lines ("... Rick Sanchez <" then
    "rick@example.com>:"); the first half carries the date."""
    head = line.strip()
    if not head or not any(c.isdigit() for c in head) or head.endswith((".", "!", "?")):
        return False
    return not _quoted(following) and _attribution(f"{head} {following.strip()}")


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _wrapped_quote(lines: list[str], index: int) -> bool:
    """An unquoted line between two quoted ones, under a long one: the tail of a quoted
    line that the sender's client wrapped without quoting it again."""
    before = lines[index - 1] if index else ""
    after = lines[index + 1] if index + 1 < len(lines) else ""
    return _quoted(before) and _quoted(after) and len(before) >= MIN_WRAPPED_CHARS


def _without_signature(lines: list[str]) -> list[str]:
    """``lines`` without the signature at their very end: a block under a rule of dashes,
    a closing with the name block below it ("Best regards," / "Jane Doe" / "ACME"), or a
    usenet "-Name". Words in the middle of the text never end it."""
    lines = _rstrip_blank(lines)
    while (start := _signature_start(lines)) is not None:
        lines = _rstrip_blank(lines[:start])
    return lines


def _signature_start(lines: list[str]) -> int | None:
    for index in range(len(lines) - 1, 0, -1):
        line = lines[index].strip()
        tail = [x.strip() for x in lines[index + 1 :] if x.strip()]
        if not _short_block(tail):
            return None
        if _RULE.match(line) or (tail and _CLOSING.match(line)):
            return index
        after_blank = not lines[index - 1].strip()
        if not tail and (_CLOSING_AND_NAME.match(line) or (after_blank and _DASH_NAME.match(line))):
            return index
    return None


def _short_block(tail: list[str]) -> bool:
    """Whether ``tail`` can be a name block: a few short lines, no question, no P.S."""
    return len(tail) <= MAX_SIGNATURE_LINES and all(
        len(x) <= MAX_SIGNATURE_LINE_CHARS and not x.endswith("?") and not _PS.match(x)
        for x in tail
    )


def _rstrip_blank(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def _unflow(part: Message, text: str) -> str:
    """Undo RFC 3676 format=flowed: a line ending in a space continues on the next line
    of the same quote depth; a quoted line never runs on into the customer's own."""
    if str(part.get_param("format", "", header="content-type")).lower() != "flowed":
        return text
    delsp = str(part.get_param("delsp", "", header="content-type")).lower() == "yes"
    out: list[str] = []
    carry: tuple[int, str] | None = None  # the paragraph being joined: depth, text
    for raw in text.replace("\r\n", "\n").split("\n"):
        depth = len(raw) - len(raw.lstrip(">"))
        line = raw[depth:]
        if line.startswith(" "):
            line = line[1:]  # space-stuffing (and the space after the quote marks)
        if carry is not None and carry[0] != depth:
            out.append(_quote(*carry))  # a flowed line before a change of depth is fixed
            carry = None
        flowed = line.endswith(" ") and line != "-- "
        joined = (carry[1] if carry else "") + (_delsp(line) if flowed and delsp else line)
        if flowed:
            carry = (depth, joined)
            continue
        out.append(_quote(depth, joined))
        carry = None
    if carry is not None:
        out.append(_quote(*carry))
    return "\n".join(out)


def _delsp(line: str) -> str:
    """A flowed line under DelSp=yes without the space it ends in, which the sender added
    to break a long word or CJK text. A client that broke prose at a space it did not
    double ("there is " / "a ...") would have its words run together: there it stays."""
    body = line[:-1]
    if body.endswith(" ") or " " not in body.strip() or body[-1:] >= CJK_START:
        return body
    return line


def _quote(depth: int, text: str) -> str:
    return f"{'>' * depth} {text}" if depth else text


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", _C1.sub(_from_cp1252, unicodedata.normalize("NFC", text)))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _truncate(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    return text[:MAX_TEXT_CHARS].rstrip() + "\n[message truncated]"


def _from_cp1252(match: re.Match[str]) -> str:
    # An RFC 2047 word labelled ISO-8859-1 decodes 0x80-0x9F to C1 controls; the
    # sender meant Windows-1252 (see parse._READ_AS_CP1252). Undefined bytes are dropped.
    try:
        return bytes([ord(match.group())]).decode("cp1252")
    except UnicodeDecodeError:
        return ""
