"""Full-text search for agents over messages (internal notes included) and contacts.

SQLite uses the FTS5 tables of migration 0005, PostgreSQL the generated ``search_vector``
columns with their GIN indexes. The user's query never reaches either query language: it
is cut into words (runs of letters and digits), each word is quoted, all must match, and
the last one also matches as a prefix. A query with no words finds nothing.

The indexes only find; ranking is done here, the same on both backends (``score``). A very
common word matches most of a million messages, and bm25() or ts_rank() over all of them
takes 70 ms to seconds (bm25 reads every match to count documents). So the newest
``CANDIDATES`` matches are taken (FTS5 walks its doclists backwards and stops; PostgreSQL
reads the GIN index window by window from the newest ids, see ``_newest_postgres``) and
only those are ranked: in a helpdesk the recent conversation is the likely target, and a
more specific query narrows the matches below the cap anyway.

Snippets are plain text plus ``[start, end)`` character offsets of the matched words:
the console escapes the text and marks the ranges; no markup ever comes from here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import UTCDateTime
from omnidesk.helpdesk.actions import iso

WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
MAX_WORD_CHARS = 64
# A prefix shorter than this would expand to a large part of the vocabulary.
MIN_PREFIX_CHARS = 3
CANDIDATES = 300
# PostgreSQL reads matches in id windows (see ``_newest_postgres``): the first one's width
# and the margin by which the next is widened beyond what the density seen predicts.
FIRST_WINDOW = 20_000
WINDOW_MARGIN = 1.5
SNIPPET_WORDS = 24
SNIPPET_LEAD = 6
# BM25's usual constants; a typical chat message's length in words.
K1, B, AVERAGE_WORDS = 1.2, 0.75, 20.0


@dataclass(frozen=True)
class Terms:
    """The words of a query; the last one also matches as a prefix when ``prefix``."""

    words: tuple[str, ...]
    prefix: bool

    def fts5(self) -> str:
        """An FTS5 MATCH expression: every word a quoted string (no operator survives)."""
        parts = [f'"{w}"' for w in self.words]
        if self.prefix:
            parts[-1] += "*"
        return " ".join(parts)

    def tsquery(self) -> str:
        """A to_tsquery() text: every word a quoted lexeme, joined by AND."""
        parts = [f"'{w}'" for w in self.words]
        if self.prefix:
            parts[-1] += ":*"
        return " & ".join(parts)


def parse_query(query: str) -> Terms:
    """The searchable words of ``query``: lower-cased, de-duplicated, at most eight.
    Quotes, operators and other punctuation are separators, so they cannot change the
    meaning of the query on either backend."""
    words: list[str] = []
    for match in WORD.finditer(query.lower()):
        word = match.group()[:MAX_WORD_CHARS]
        if word not in words:
            words.append(word)
    words = words[:MAX_WORDS]
    # Prefix only when the query ends in a word being typed, not after a space or quote.
    ends_in_word = bool(words) and bool(WORD.search(query[-1:]))
    prefix = ends_in_word and len(words[-1]) >= MIN_PREFIX_CHARS
    return Terms(tuple(words), prefix)


def _fold(word: str) -> str:
    """Case and diacritics folded, as the FTS5 tokenizer does."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def highlights(value: str, terms: Terms) -> list[list[int]]:
    """``[start, end)`` offsets of the words of ``value`` that the query matches."""
    wanted = {_fold(w) for w in terms.words}
    last = _fold(terms.words[-1]) if terms.prefix else None
    spans = []
    for match in WORD.finditer(value):
        word = _fold(match.group())
        if word in wanted or (last is not None and word.startswith(last)):
            spans.append([match.start(), match.end()])
    return spans


def snippet(value: str, terms: Terms) -> dict[str, Any]:
    """A window of about ``SNIPPET_WORDS`` words around the first match, as plain text
    with match offsets relative to it; "…" marks a cut."""
    words = list(WORD.finditer(value))
    spans = highlights(value, terms)
    first = next((i for i, w in enumerate(words) if spans and w.start() == spans[0][0]), 0)
    start_word = max(0, first - SNIPPET_LEAD)
    end_word = min(len(words), start_word + SNIPPET_WORDS)
    start = words[start_word].start() if start_word > 0 else 0
    end = words[end_word - 1].end() if end_word < len(words) else len(value)
    lead = "…" if start > 0 else ""
    body = lead + value[start:end].strip("\n") + ("…" if end < len(value) else "")
    shift = len(lead) - start
    marks = [[s + shift, e + shift] for s, e in spans if s >= start and e <= end]
    return {"text": body, "highlights": marks}


def score(value: str, terms: Terms) -> float:
    """BM25's term-frequency part: more of the words, in a shorter text, rank higher.
    (Every candidate holds every word, so document frequencies would weigh them alike.)"""
    words = WORD.findall(_fold(value))
    if not words:
        return 0.0
    norm = K1 * (1 - B + B * len(words) / AVERAGE_WORDS)
    total = 0.0
    for i, word in enumerate(_fold(w) for w in terms.words):
        if terms.prefix and i == len(terms.words) - 1:
            tf = sum(1 for w in words if w.startswith(word))
        else:
            tf = words.count(word)
        total += tf * (K1 + 1) / (tf + norm)
    return total


# Candidates: the newest matches, id and searchable text only.
_CANDIDATES_SQL = {
    ("sqlite", "messages"): """
        SELECT m.id, m.text FROM messages_fts JOIN messages AS m ON m.id = messages_fts.rowid
        WHERE messages_fts MATCH :q {private}
        ORDER BY messages_fts.rowid DESC LIMIT :candidates""",
    ("postgresql", "messages"): """
        SELECT m.id, m.text FROM messages AS m
        WHERE m.search_vector @@ to_tsquery('simple', :q) {private}
          AND m.id > :lo AND m.id <= :hi
        ORDER BY m.id DESC LIMIT :candidates""",
    ("sqlite", "contacts"): """
        SELECT c.id, coalesce(c.name, '') || ' ' || coalesce(c.email, '')
        FROM contacts_fts JOIN contacts AS c ON c.id = contacts_fts.rowid
        WHERE contacts_fts MATCH :q
        ORDER BY contacts_fts.rowid DESC LIMIT :candidates""",
    ("postgresql", "contacts"): """
        SELECT c.id, coalesce(c.name, '') || ' ' || coalesce(c.email, '') FROM contacts AS c
        WHERE c.search_vector @@ to_tsquery('simple', :q) AND c.id > :lo AND c.id <= :hi
        ORDER BY c.id DESC LIMIT :candidates""",
}

_MESSAGE_ROWS = (
    text(
        "SELECT id, conversation_id, author, author_name, private, created_at, text"
        " FROM messages WHERE id IN :ids"
    )
    .columns(created_at=UTCDateTime(), private=Boolean())
    .bindparams(bindparam("ids", expanding=True))
)

_CONTACT_ROWS = (
    text("SELECT id, name, email, created_at FROM contacts WHERE id IN :ids")
    .columns(created_at=UTCDateTime())
    .bindparams(bindparam("ids", expanding=True))
)


async def _best_ids(
    session: AsyncSession, table: str, terms: Terms, limit: int, *, private: bool = True
) -> list[int]:
    """Ids of the ``limit`` best of the newest matches, best first (newer among equals)."""
    backend = "sqlite" if session.get_bind().dialect.name == "sqlite" else "postgresql"
    sql = _CANDIDATES_SQL[(backend, table)].format(private="" if private else "AND NOT m.private")
    if backend == "sqlite":
        params = {"q": terms.fts5(), "candidates": CANDIDATES}
        rows: Sequence[Any] = (await session.execute(text(sql), params)).all()
    else:
        rows = await _newest_postgres(session, table, text(sql), terms.tsquery())
    ranked = sorted(range(len(rows)), key=lambda i: (-score(rows[i][1] or "", terms), i))
    return [rows[i][0] for i in ranked[:limit]]


async def _newest_postgres(
    session: AsyncSession, table: str, sql: TextClause, tsquery: str
) -> list[Any]:
    """The newest ``CANDIDATES`` matches, read in id windows from the newest backwards.

    The GIN index finds every match at once but not in id order, so a word in 1% of a
    million rows costs ten thousand scattered heap reads before the newest 300 are known
    (150 ms). Within a window of ids PostgreSQL ANDs the GIN bitmap with the primary key's
    and reads only that window's matches; the next window's width follows the density
    seen so far, so a common word stops in the first window and a rare one needs a few
    cheap index probes.
    """
    # asyncpg prepares statements, and after a few runs PostgreSQL may switch to a generic
    # plan blind to the query and the window; planned per query, each gets its own.
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    top = await session.scalar(text(f"SELECT max(id) FROM {table}"))
    rows: list[Any] = []
    high, width = int(top or 0), FIRST_WINDOW
    while high > 0 and len(rows) < CANDIDATES:
        low = max(0, high - width)
        params = {"q": tsquery, "lo": low, "hi": high, "candidates": CANDIDATES - len(rows)}
        found = (await session.execute(sql, params)).all()
        rows.extend(found)
        missing = CANDIDATES - len(rows)
        # Matches per id so far predict the width that holds the rest (with a margin).
        grown = int(WINDOW_MARGIN * missing * width / len(found)) if found else width * 8
        width, high = min(max(grown, width), width * 8), low
    return rows


async def search_messages(
    session: AsyncSession, query: str | Terms, *, limit: int = 20, agent_visible: bool = True
) -> list[dict[str, Any]]:
    """Messages matching ``query``, best first: ``{conversation_id, message, snippet}``.
    Internal notes are included for agents (``agent_visible``), left out otherwise."""
    terms = query if isinstance(query, Terms) else parse_query(query)
    if not terms.words or limit < 1:
        return []
    ids = await _best_ids(session, "messages", terms, limit, private=agent_visible)
    if not ids:
        return []
    found = {
        row["id"]: row for row in (await session.execute(_MESSAGE_ROWS, {"ids": ids})).mappings()
    }
    rows = [found[i] for i in ids if i in found]
    return [
        {
            "conversation_id": row["conversation_id"],
            "message": {
                "id": row["id"],
                "conversation_id": row["conversation_id"],
                "author": row["author"],
                "author_name": row["author_name"],
                "private": bool(row["private"]),
                "created_at": iso(row["created_at"]),
            },
            "snippet": snippet(row["text"] or "", terms),
        }
        for row in rows
    ]


async def search_contacts(
    session: AsyncSession, query: str | Terms, *, limit: int = 20
) -> list[dict[str, Any]]:
    """Contacts whose name or e-mail matches ``query``, best first, with the offsets of
    the matched words in each."""
    terms = query if isinstance(query, Terms) else parse_query(query)
    if not terms.words or limit < 1:
        return []
    ids = await _best_ids(session, "contacts", terms, limit)
    if not ids:
        return []
    found = {
        row["id"]: row for row in (await session.execute(_CONTACT_ROWS, {"ids": ids})).mappings()
    }
    rows = [found[i] for i in ids if i in found]
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "email": row["email"],
            "created_at": iso(row["created_at"]),
            "highlights": {
                "name": highlights(row["name"] or "", terms),
                "email": highlights(row["email"] or "", terms),
            },
        }
        for row in rows
    ]
