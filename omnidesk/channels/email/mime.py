"""Walking a mail's MIME tree for what a person would see in it: the text the sender
wrote (however many inline parts it is split into, beside or between files, inside a
signed part), the forwarded mails it carries, and the files attached at any depth.

Structure rules follow what mail clients show: of ``multipart/alternative`` one
version (plain text preferred, HTML when the plain one is empty); of
``multipart/signed`` the content, not the signature; of a report (bounce, abuse
feedback) its human-readable part; a ``message/rfc822`` part is a forwarded mail, read
like the mail itself; an opaque S/MIME signed part is unwrapped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy

from omnidesk.channels.email.charsets import decode_words
from omnidesk.channels.email.smime import signed_content

# Types that only carry a signature over the rest of the mail, never a file the
# sender chose to attach.
SIGNATURE_TYPES = frozenset(
    {
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
    }
)
_OPAQUE_SIGNED = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
_FORWARDED = frozenset({"message/rfc822", "message/global"})
# A header field line (RFC 5322 field name and colon), a folded continuation, or the
# mbox "From " line some mailers leave at the top.
_HEADER_LINE = re.compile(rb"^(?:[\x21-\x39\x3b-\x7e]+:|[ \t]|From )")
# "X-Invalid Header: oops": an extension field whose name has a space, last in the block.
_SPACED_FIELD = re.compile(rb"^X-[\x21-\x39\x3b-\x7e]*(?: [\x21-\x39\x3b-\x7e]+){1,3}:", re.I)
_BODY_SUBTYPES = ("plain", "html")
# An unquoted parameter value holding a character that RFC 2045 only allows quoted, as
# Outlook Express writes its boundaries: ``boundary=----=_NextPart_000_0093...``.
_UNQUOTED_PARAM = re.compile(r"(;\s*[A-Za-z][\w.-]*\s*=\s*)([^\s\";][^\s;]*[=()<>@,:/?[\]][^\s;]*)")
# An unquoted file name with spaces, as Apple Mail once wrote them: "name=My file.txt".
_UNQUOTED_NAME = re.compile(
    r"(;\s*(?:file)?name\s*=\s*)"
    r"([^\s\";][^;\r\n\"]*?[ \t][^;\r\n\"]*?)(?=[ \t]*(?:;|\r?\n|$))"
)


class _LenientPolicy(EmailPolicy):
    """The standard policy, but an unquoted parameter value with an ``=`` or another
    special character in it is read whole, as every mail client reads it, instead of
    being cut at that character (which loses the boundary and so the whole body)."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        if name.lower() in ("content-type", "content-disposition"):
            value = _UNQUOTED_NAME.sub(r'\1"\2"', _UNQUOTED_PARAM.sub(r'\1"\2"', value))
        return name, value


READ_POLICY = _LenientPolicy()


def parse_bytes(raw: bytes, *, headersonly: bool = False) -> Message:
    """Raw mail bytes as a message, read with ``READ_POLICY``."""
    raw = _without_stray_header_lines(raw)
    return BytesParser(policy=READ_POLICY).parsebytes(raw, headersonly=headersonly)


def _without_stray_header_lines(raw: bytes) -> bytes:
    """The mail without garbled lines amid its headers ("quite Delivered-To: x", or the
    unindented tail of a DKIM signature a news gateway unfolded): the parser would end
    the headers at the first and read From, Subject and the rest as body. Such a run of
    lines is dropped only where a header line follows it, or where it is an "X-" field
    with a space in its name just above the blank line."""
    lines = raw.splitlines(keepends=True)
    stray: list[int] = []
    run: list[int] = []  # the lines since the last header line that are no header
    for index, line in enumerate(lines):
        if not line.strip(b"\r\n"):
            stray += [i for i in run if _SPACED_FIELD.match(lines[i])]
            break  # the end of the headers
        if not _HEADER_LINE.match(line):
            run += [index] if index else []
        elif line[:1] not in (b" ", b"\t"):  # a field, not a continuation: the run ends
            stray += run
            run = []
    else:
        return raw  # no blank line: nothing is sure to be a header
    if not stray:
        return raw
    return b"".join(line for index, line in enumerate(lines) if index not in stray)


@dataclass(frozen=True, slots=True)
class MailPart:
    """One attached file as found in the mail, before any limit is applied."""

    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class Forwarded:
    """A mail carried whole inside this one, and the text read from it."""

    message: Message
    text: str


@dataclass(slots=True)
class Content:
    """What a person sees in a mail: its own text, the mails it forwards (in order,
    nested ones after their carrier), and every attached file in order."""

    texts: list[str] = field(default_factory=list)
    forwarded: list[Forwarded] = field(default_factory=list)
    files: list[Message] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(t.strip("\n") for t in self.texts if t.strip())


TextOf = Callable[[Message], str]


def read_content(msg: Message, text_of: TextOf) -> Content:
    """The text, forwarded mails and files of ``msg``; ``text_of`` turns one text/plain
    or text/html part into text (the caller decides about charsets and HTML)."""
    content = Content()
    _walk(msg, content, text_of)
    return content


def _walk(part: Message, into: Content, text_of: TextOf) -> None:
    ctype = part.get_content_type()
    maintype, _, subtype = ctype.partition("/")
    payload = part.get_payload()
    if maintype == "multipart":
        if isinstance(payload, list) and payload:
            _multipart(part, subtype, into, text_of)
        elif isinstance(payload, str) and payload.strip():
            # A multipart whose boundary never occurs: clients show its body as text.
            into.texts.append(text_of(part))
        return
    if ctype in _FORWARDED and isinstance(payload, list) and isinstance(payload[0], Message):
        _forwarded(payload[0], into, text_of)
    elif maintype == "message" or ctype in SIGNATURE_TYPES:
        return  # delivery status and the like: machine data, not the sender's
    elif ctype in _OPAQUE_SIGNED and (inner := signed_content(part)) is not None:
        _walk(parse_bytes(inner), into, text_of)
    elif is_body_text(part) or _shown_inline(part, into):
        into.texts.append(text_of(part))
    else:
        into.files.append(part)


def _shown_inline(part: Message, into: Content) -> bool:
    """A named text part not marked as an attachment is what clients show as the body
    when no text came before it (some mailers send every body that way); later ones
    are files."""
    return (
        part.get_content_maintype() == "text"
        and part.get_content_subtype() in _BODY_SUBTYPES
        and part.get_content_disposition() != "attachment"
        and not into.text
    )


def _multipart(part: Message, subtype: str, into: Content, text_of: TextOf) -> None:
    children = [c for c in part.get_payload() if isinstance(c, Message)]
    if not children:
        return
    if subtype == "alternative":
        _alternative(children, into, text_of)
    elif subtype == "report":
        # The first part explains the report in words; the rest is for machines. Some
        # MTAs wrote those words before the first boundary instead, as the preamble.
        if children[0].get_content_maintype() != "text" and (part.preamble or "").strip():
            into.texts.append(part.preamble or "")
        else:
            _walk(children[0], into, text_of)
    else:
        for child in children:
            _walk(child, into, text_of)


def _alternative(children: list[Message], into: Content, text_of: TextOf) -> None:
    """One version's text (plain preferred, the first that says anything); the files
    of every version, since inline images hang off the HTML one."""
    versions = []
    for child in children:
        version = Content()
        _walk(child, version, text_of)
        versions.append((child, version))
    ranked = sorted(versions, key=lambda cv: 0 if _has_plain(cv[0]) else 1)
    chosen = next((v for _, v in ranked if v.text.strip()), None)
    for _, version in versions:
        if version is chosen:
            into.texts.extend(version.texts)
            into.forwarded.extend(version.forwarded)
        into.files.extend(version.files)


def _has_plain(part: Message) -> bool:
    if part.get_content_type() == "text/plain":
        return True
    if part.get_content_maintype() != "multipart":
        return False
    return any(sub.get_content_type() == "text/plain" and is_body_text(sub) for sub in part.walk())


def _forwarded(message: Message, into: Content, text_of: TextOf) -> None:
    inner = Content()
    _walk(message, inner, text_of)
    into.forwarded.append(Forwarded(message, inner.text))
    into.forwarded.extend(inner.forwarded)
    into.files.extend(inner.files)


def is_body_text(part: Message) -> bool:
    """Whether ``part`` is the sender's text rather than a file: a text/plain or
    text/html part that is neither marked as an attachment nor named like a file."""
    if part.get_content_maintype() != "text" or part.get_content_subtype() not in _BODY_SUBTYPES:
        return False
    return part.get_content_disposition() != "attachment" and not part.get_filename()


def file_name(part: Message) -> str | None:
    """The name a file part carries, however its mailer wrote it: a Content-Disposition
    filename, a Content-Type name (encoded words decoded by ``charsets``), a Content-Type
    filename, or the last segment of its Content-Location."""
    name = part.get_filename()
    for header_name, param in (("content-disposition", "filename"), ("content-type", "name")):
        raw = _raw_header(part, header_name)
        if raw and "=?" in raw:
            legacy = Message()  # the compat32 parser keeps the parameter as written
            legacy[header_name] = raw
            value = legacy.get_param(param, header=header_name)
            if isinstance(value, str) and "=?" in value:
                return decode_words(value)
    if not name:
        value = part.get_param("filename", header="content-type")
        name = value if isinstance(value, str) and value else None
    if not name:
        location = (_raw_header(part, "content-location") or "").strip()
        name = location.rstrip("/").rsplit("/", 1)[-1] or None
    return name


def _raw_header(part: Message, name: str) -> str | None:
    return next((v for k, v in part.raw_items() if k.lower() == name), None)
