"""The one Markdown dialect of the knowledge base: parser, heading text and GitHub-style anchors."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

_NOT_ANCHOR = re.compile(r"[^\w\- ]", re.UNICODE)


def md_parser() -> MarkdownIt:
    """CommonMark plus tables and strikethrough; raw HTML is not interpreted (shown as text)."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"]
    )


def slugify_heading(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return _NOT_ANCHOR.sub("", text).replace(" ", "-")


def inline_text(token: Token | None) -> str:
    """The plain text of an inline token (emphasis, links and code reduced to their text)."""
    if token is None:
        return ""
    if not token.children:
        return token.content
    parts: list[str] = []
    for child in token.children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(inline_text(child))
    return "".join(parts).strip()


@dataclass(frozen=True, slots=True)
class Heading:
    """One heading of a document, where it is and the anchor a page gives it."""

    token_index: int
    level: int
    text: str
    anchor: str
    nested: bool  # inside a block quote or list: shown, but not a section boundary
    line_start: int
    line_end: int


def headings(tokens: Sequence[Token]) -> list[Heading]:
    """Every heading in document order; repeated anchors get ``-1``, ``-2`` like GitHub."""
    seen: dict[str, int] = {}
    found: list[Heading] = []
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        text = inline_text(tokens[i + 1] if i + 1 < len(tokens) else None)
        base = slugify_heading(text)
        count = seen.get(base, 0)
        anchor = base if count == 0 else f"{base}-{count}"
        seen[base] = count + 1
        start, end = token.map if token.map else (0, 0)
        found.append(
            Heading(
                token_index=i,
                level=int(token.tag[1:]),
                text=text,
                anchor=anchor,
                nested=token.level > 0,
                line_start=start,
                line_end=end,
            )
        )
    return found
