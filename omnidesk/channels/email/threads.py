"""Mail threading as pure functions: Message-ID normalisation, the thread root and the
message answered, the subject's ``[#123]`` ticket tag, and the headers of a reply that
make the customer's mail client file it under the same thread."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

# The longest id we keep verbatim: thread keys and message external ids are
# VARCHAR(255) columns, and PostgreSQL refuses longer values.
MAX_ID_CHARS = 250

_BRACKETED_ID = re.compile(r"<([^<>\s]+)>")
_BARE_ID = re.compile(r"^[^<>\s@]+@[^<>\s@]+$")
_TICKET_TAG = re.compile(r"\s*\[#(\d{1,12})\]\s*")
# Reply and forward prefixes of the common mail clients, in several languages (Re, Fwd,
# Fw, German Aw/Wg, Scandinavian Sv/Vs, Dutch Antw, French Tr, Spanish Rv), optionally
# numbered like "Re[2]:".
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|sv|vs|antw|tr|rv)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Thread:
    """Where one mail sits in its thread."""

    key: str  # the id of the thread's first message
    reply_to: str | None  # the id of the message this one answers


def normalize_id(value: str) -> str:
    """One message id as we store it: without angle brackets, and hashed when too long
    for the database, the same way everywhere so lookups still match."""
    value = value.strip().strip("<>").strip()
    if len(value) <= MAX_ID_CHARS:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{digest[:48]}@long-id.invalid"


def message_ids(value: str | None) -> list[str]:
    """Every ``<id>`` of a Message-ID, In-Reply-To or References header, in order."""
    if not value:
        return []
    found = _BRACKETED_ID.findall(value)
    if not found:
        # Some broken clients drop the brackets; accept a lone bare id.
        bare = value.strip()
        found = [bare] if _BARE_ID.match(bare) else []
    seen: set[str] = set()
    ids: list[str] = []
    for raw in found:
        normalized = normalize_id(raw)
        if normalized and normalized not in seen:
            seen.add(normalized)
            ids.append(normalized)
    return ids


def synthetic_id(parts: Iterable[bytes]) -> str:
    """A stable id for a mail that has no Message-ID, so a second delivery of the same
    mail is still recognised as a duplicate."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return f"{digest.hexdigest()[:48]}@synthesised.invalid"


def thread_of(message_id: str, in_reply_to: list[str], references: list[str]) -> Thread:
    """The thread root is the first References id (RFC 5322 keeps it first), else the
    message answered, else the message itself; the message answered is In-Reply-To,
    else the last reference."""
    reply_to = in_reply_to[0] if in_reply_to else (references[-1] if references else None)
    root = references[0] if references else (reply_to or message_id)
    return Thread(key=root, reply_to=reply_to)


def clean_subject(subject: str | None) -> tuple[str, int | None]:
    """The subject without Re:/Fwd: prefixes and without its ``[#123]`` ticket tag, and
    the ticket number the tag carried."""
    if not subject:
        return "", None
    text = _SPACE.sub(" ", subject).strip()
    match = _TICKET_TAG.search(text)
    ticket = int(match.group(1)) if match else None
    text = _TICKET_TAG.sub(" ", text).strip()
    # Prefixes can stack ("Re: Fwd: Re:") and a tag can sit between them.
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped.strip()
    return text, ticket


def reply_subject(subject: str | None, ticket: int | None) -> str:
    """The subject of our reply: ``Re: <subject> [#<ticket>]``."""
    clean, _ = clean_subject(subject)
    text = f"Re: {clean or 'Your message'}"
    if ticket is not None:
        text += f" [#{ticket}]"
    return text


def reply_references(thread_key: str, reply_to: str | None) -> list[str]:
    """The References of a reply: the thread root, then the message answered."""
    ids = [i for i in (thread_key, reply_to) if i]
    return list(dict.fromkeys(ids))


def format_ids(ids: Iterable[str]) -> str:
    """Ids as a header value: ``<a@x> <b@y>``."""
    return " ".join(f"<{i}>" for i in ids)
