"""Split an article's Markdown into passages along its H1-H3 headings, title kept in each,
and turn its example questions into chunks of their own."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from omnidesk.knowledge.markdown import headings, md_parser
from omnidesk.knowledge.models import ChunkKind
from omnidesk.knowledge.questions import is_questions_heading

SECTION_LEVELS = (1, 2, 3)
TITLE_SEPARATOR = " — "
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class ChunkData:
    """One passage before it is stored: what the index embeds and the answer quotes."""

    ordinal: int
    heading: str
    anchor: str
    text: str  # "Title — Heading\n\nbody", or "Title\n\nbody" before the first heading
    body: str
    content_hash: str
    kind: ChunkKind = ChunkKind.PASSAGE  # a question's text is the question alone


def content_hash(text: str) -> str:
    """Identity of a passage's text, independent of the embedding model."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_prefix(title: str, heading: str) -> str:
    title = title.strip()
    if heading and heading.strip().lower() != title.lower():
        return f"{title}{TITLE_SEPARATOR}{heading.strip()}"
    return title


def split_chunk_text(text: str) -> tuple[str, str]:
    """``(prefix, body)`` of a stored chunk text; the prefix never holds a blank line."""
    prefix, _, body = text.partition("\n\n")
    return prefix, body


def chunk_markdown(
    title: str, body: str, *, max_words: int = 180, overlap_words: int = 30
) -> list[ChunkData]:
    """Passages of one article: one per H1/H2/H3 section, long sections in overlapping windows.

    Sections without text of their own (a heading directly followed by a sub-heading)
    give no passage. Deeper headings stay inside their section's text. A section of
    example questions ("Questions customers ask") gives no passage: its questions are
    indexed one by one (:func:`question_chunks`).
    """
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    overlap_words = max(0, min(overlap_words, max_words - 1))
    lines = body.splitlines()
    tokens = md_parser().parse(body)
    bounds = [h for h in headings(tokens) if h.level in SECTION_LEVELS and not h.nested]

    sections: list[tuple[str, str, str]] = []  # heading, anchor, text
    first = bounds[0].line_start if bounds else len(lines)
    sections.append(("", "", "\n".join(lines[:first])))
    for i, head in enumerate(bounds):
        stop = bounds[i + 1].line_start if i + 1 < len(bounds) else len(lines)
        sections.append((head.text, head.anchor, "\n".join(lines[head.line_end : stop])))

    chunks: list[ChunkData] = []
    for heading, anchor, section in sections:
        if heading and is_questions_heading(heading):
            continue
        prefix = chunk_prefix(title, heading)
        for window in _windows(section.strip(), max_words, overlap_words):
            text = f"{prefix}\n\n{window}"
            chunks.append(
                ChunkData(
                    ordinal=len(chunks),
                    heading=heading,
                    anchor=anchor,
                    text=text,
                    body=window,
                    content_hash=content_hash(text),
                )
            )
    return chunks


def question_chunks(questions: Sequence[str], first_ordinal: int) -> list[ChunkData]:
    """One chunk per question, numbered on from ``first_ordinal``; embedded as asked.

    The hash is of the kind and the text, so a passage that reads exactly like a
    question is still a different chunk.
    """
    return [
        ChunkData(
            ordinal=first_ordinal + i,
            heading="",
            anchor="",
            text=question,
            body=question,
            content_hash=content_hash(f"{ChunkKind.QUESTION.value}\n{question}"),
            kind=ChunkKind.QUESTION,
        )
        for i, question in enumerate(questions)
    ]


def _windows(text: str, max_words: int, overlap: int) -> list[str]:
    """Slices of ``text`` of at most ``max_words`` words, keeping its own line breaks."""
    words = list(_WORD.finditer(text))
    if not words:
        return []
    if len(words) <= max_words:
        return [text]
    step = max_words - overlap
    out: list[str] = []
    start = 0
    while True:
        end = min(start + max_words, len(words))
        out.append(text[words[start].start() : words[end - 1].end()])
        if end == len(words):
            return out
        start += step
