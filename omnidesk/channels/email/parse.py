"""Raw RFC 5322 bytes to the parts of a mail the service needs: sender, ids, subject,
the customer's new text (HTML converted, quoted history and signature stripped), the
attachments, and whether a machine sent it. Pure and synchronous: callers run it in a
worker thread, since a big mail takes a while to parse.

Mail in the wild is often broken; parsing never fails on a bad charset or header
(``charsets``) or a broken MIME structure (``mime``). The one refusal
(``RejectedMail``) is a mail without a usable sender, which nobody could answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import getaddresses

import html2text

from omnidesk.channels.email.automated import automated_reason, looked_at
from omnidesk.channels.email.charsets import decode_bytes, decode_words
from omnidesk.channels.email.mime import Forwarded, MailPart, file_name, parse_bytes, read_content
from omnidesk.channels.email.reply_text import (
    _C1,
    _CONTROL,
    _from_cp1252,
    _truncate,
    _unflow,
    new_text,
)
from omnidesk.channels.email.threads import (
    Thread,
    clean_subject,
    message_ids,
    synthetic_id,
    thread_of,
)

MAX_ADDRESS_CHARS = 254  # RFC 5321's limit on a forward path
MAX_FILENAME_CHARS = 150
# How a forwarded mail's text is introduced: Gmail's marker, which agents know.
FORWARD_MARK = "---------- Forwarded message ----------"
_FORWARD_HEADERS = (("From", "from"), ("Date", "date"), ("Subject", "subject"), ("To", "to"))

_ANGLE_ADDRESS = re.compile(r"<([^<>\s@]+@[^<>\s@]+)>")
_ADDRESS_TOKEN = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")
_SPACE = re.compile(r"\s+")


# Real mail nests a handful of levels (a forward of a reply with attachments: about six).
MAX_NESTING = 30
TOO_DEEP_TEXT = (
    "[This email nests its parts deeper than omnidesk reads, so its text and attachments "
    "were not kept. Ask the sender to send it again in a simpler form.]"
)


class RejectedMail(Exception):
    """A mail that cannot be taken in at all; ``str(exc)`` says why."""


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """What one mail says, channel-neutral."""

    message_id: str
    thread: Thread
    subject: str  # without Re:/Fwd: prefixes and ticket tag
    ticket_ref: int | None
    sender_email: str
    sender_name: str | None
    text: str
    automated: str | None  # why a machine sent it, or None
    attachments: tuple[MailPart, ...]
    date: str | None


def parse_mail(raw: bytes, *, our_address: str, envelope_from: str | None = None) -> ParsedMail:
    """Parse one mail; ``envelope_from`` is SMTP's ``MAIL FROM`` when it came that way.

    A mail whose parts nest deeper than ``MAX_NESTING`` is kept by its headers only (who
    sent it, on which thread) with a notice for the agent instead of its body: refusing
    it would make the sender retry for days, and reading it would exhaust the stack."""
    msg, too_deep = _read(raw)
    sender_email, sender_name = _sender(msg, envelope_from)
    headers = {name: value for name in looked_at() if (value := header(msg, name)) is not None}
    own_ids = message_ids(header(msg, "message-id", decoded=False))
    message_id = own_ids[0] if own_ids else _synthesised_id(msg, raw)
    thread = thread_of(
        message_id,
        message_ids(header(msg, "in-reply-to", decoded=False)),
        message_ids(header(msg, "references", decoded=False)),
    )
    subject, ticket_ref = clean_subject(header(msg, "subject"))
    text, files = (new_text(TOO_DEEP_TEXT), []) if too_deep else _content(msg)
    return ParsedMail(
        message_id=message_id,
        thread=thread,
        subject=subject,
        ticket_ref=ticket_ref,
        sender_email=sender_email,
        sender_name=sender_name,
        text=text,
        automated=automated_reason(
            msg,
            headers,
            sender_email,
            envelope_from=envelope_from,
            our_address=our_address.lower(),
        ),
        attachments=tuple(_attachment(part) for part in files),
        date=header(msg, "date"),
    )


def _read(raw: bytes) -> tuple[EmailMessage, bool]:
    """The parsed mail, and whether it was too deeply nested to read past its headers."""
    try:
        msg = parse_bytes(raw)
        too_deep = _nesting(msg) > MAX_NESTING
    except RecursionError:
        too_deep = True
    if too_deep:
        msg = parse_bytes(raw, headersonly=True)
    assert isinstance(msg, EmailMessage)
    return msg, too_deep


def _nesting(msg: Message) -> int:
    """How deep the mail's multipart parts nest, without recursion."""
    deepest, stack = 0, [(msg, 0)]
    while stack:
        part, level = stack.pop()
        deepest = max(deepest, level)
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend((c, level + 1) for c in payload if isinstance(c, Message))
    return deepest


# -- headers -------------------------------------------------------------------------------


def header(msg: Message, name: str, *, decoded: bool = True) -> str | None:
    """The first ``name`` header, decoded, whatever its encoding (None when absent).

    ``decoded=False`` keeps the raw text, for id headers that the header registry's
    parser can mangle when they are slightly malformed. Encoded words and raw 8-bit
    bytes are decoded by ``charsets``, which reads wrong and narrow charset labels as
    their senders meant them (the header registry would trust the label).
    """
    raw = _raw_header(msg, name)
    if raw is None:
        return None
    return _one_line(decode_words(raw, _body_charset(msg)) if decoded else raw)


def _body_charset(msg: Message) -> str | None:
    """The charset the mail's first text part declares, if any."""
    for part in msg.walk():
        if part.get_content_maintype() == "text" and (charset := part.get_content_charset()):
            return charset
    return None


def _raw_header(msg: Message, name: str) -> str | None:
    return next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)


def _sender(msg: EmailMessage, envelope_from: str | None) -> tuple[str, str | None]:
    candidates: list[tuple[str, str]] = []
    try:
        found = msg["From"]
        addresses = getattr(found, "addresses", ()) if found is not None else ()
        candidates = [(a.display_name, _addr_spec(a)) for a in addresses]
    except Exception:  # a From the header registry chokes on
        candidates = []
    raw_from = header(msg, "from") or ""
    if not any(_valid_address(addr) for _, addr in candidates):
        # The registry could not parse From (or there is none): try the plain parser,
        # then any lone address in it ("Big Bug bb@bug.com" has no angle brackets).
        candidates = getaddresses([raw_from])
        candidates += [("", token) for token in _ADDRESS_TOKEN.findall(raw_from)]
    # "alice@example.com <bob@example.com>": both parsers take the unquoted address in
    # the display name for the sender's; replies go to the one in angle brackets.
    angled = _ANGLE_ADDRESS.findall(raw_from)
    if angled and candidates and candidates[0][1].lower() not in {a.lower() for a in angled}:
        candidates = [("", address) for address in angled] + candidates
    for name, addr in candidates:
        if _valid_address(addr):
            return addr.lower(), _display_name(msg, addr) or _one_line(name) or None
    if envelope_from and _valid_address(envelope_from):
        return envelope_from.lower(), None
    raise RejectedMail("the mail has no valid sender address")


def _display_name(msg: Message, addr: str) -> str | None:
    """The sender's name as written, its encoded words decoded by ``charsets`` (the
    header registry decodes them by their label alone: GBK names labelled gb2312
    come out as replacement characters)."""
    raw = _raw_header(msg, "from")
    if not raw or ("=?" not in raw and not _has_surrogates(raw)):
        return None
    for name, found in getaddresses([raw.replace("\r", "").replace("\n", "")]):
        if found.lower() == addr.lower() and name:
            return _one_line(decode_words(name)) or None
    return None


def _addr_spec(address: Address) -> str:
    return f"{address.username}@{address.domain}" if address.domain else address.username


def _valid_address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(
        at
        and local
        and domain
        and "@" not in domain
        and len(address) <= MAX_ADDRESS_CHARS
        and not any(c.isspace() or c in "<>," for c in address)
        and not _has_surrogates(address)
    )


def _synthesised_id(msg: Message, raw: bytes) -> str:
    # From, To, Date, Subject and the body identify a mail across retries; the whole
    # raw mail would not, as every relay prepends its own Received header.
    fields = [(header(msg, n) or "").encode("utf-8", "replace") for n in ("from", "to", "date")]
    fields.append((header(msg, "subject") or "").encode("utf-8", "replace"))
    return synthetic_id([*fields, _raw_body(raw)])


def _raw_body(raw: bytes) -> bytes:
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[min(ends) :].strip() if ends else b""


# -- body ----------------------------------------------------------------------------------


def _content(msg: Message) -> tuple[str, list[Message]]:
    """The text to show for the mail, and its attached files (those of forwarded mails
    included): what the sender wrote this time, then each forwarded mail, marked."""
    content = read_content(msg, _part_text)
    blocks = [
        new_text(content.text, subject=header(msg, "subject")),
        *(_forward_block(f) for f in content.forwarded),
    ]
    return _truncate("\n\n".join(b for b in blocks if b)), content.files


def _forward_block(forwarded: Forwarded) -> str:
    lines = [FORWARD_MARK]
    for label, name in _FORWARD_HEADERS:
        value = header(forwarded.message, name)
        if value:
            lines.append(f"{label}: {value}")
    text = new_text(forwarded.text)
    return "\n".join(lines) + (f"\n\n{text}" if text else "")


def _part_text(part: Message) -> str:
    """One text part as text: format=flowed undone, HTML converted."""
    if part.get_content_type() == "text/html":
        return html_to_text(decode_part(part))
    return _unflow(part, decode_part(part))


def decode_part(part: Message) -> str:
    """A text part's content, tolerating unknown and wrongly declared charsets."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, part.get_content_charset())


def html_to_text(html: str) -> str:
    """An HTML mail body as readable text (html2text's Markdown-flavoured output)."""
    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping; the console wraps
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.unicode_snob = True
    text = converter.handle(html)
    return "\n".join(line.rstrip() for line in text.replace("\xa0", " ").split("\n"))


# -- attachments ---------------------------------------------------------------------------


def _attachment(part: Message) -> MailPart:
    payload = part.get_payload(decode=True)
    return MailPart(
        filename=safe_filename(file_name(part), part.get_content_type()),
        content_type=part.get_content_type(),
        data=payload if isinstance(payload, bytes) else b"",
    )


def safe_filename(name: str | None, content_type: str) -> str:
    """A file name fit to show: no path, no control characters, not too long."""
    text = _one_line(name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip(" .")
    if not text:
        text = "attachment"
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        keep = MAX_FILENAME_CHARS - 10
        text = (stem[:keep] + dot + ext[:8]) if dot else text[:MAX_FILENAME_CHARS]
    return text


# -- helpers -------------------------------------------------------------------------------


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def _one_line(value: str) -> str:
    """A header value as one clean line (safe in a reply's headers and in the database)."""
    value = _C1.sub(_from_cp1252, value.encode("utf-8", "replace").decode("utf-8"))
    return _SPACE.sub(" ", _CONTROL.sub("", value)).strip()
