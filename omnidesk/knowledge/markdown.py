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


def _inline_plain(token: Token) -> str:
    # Like inline_text, but keeps line breaks and link targets a reader needs.
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(inline_text(child))
    return "".join(parts)


def markdown_to_text(markdown: str) -> str:
    """Markdown as plain text for channels that show text only: emphasis dropped,
    list items kept as ``-`` or ``1.`` lines, paragraphs separated by blank lines."""
    tokens = md_parser().parse(markdown)
    blocks: list[str] = []
    lists: list[list[int]] = []  # per open list: [ordered, next number]
    item_prefix = ""
    gap = False
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open") and not lists and blocks:
            gap = True
        if token.type == "bullet_list_open":
            lists.append([0, 0])
        elif token.type == "ordered_list_open":
            lists.append([1, int(token.attrs.get("start", 1) or 1)])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open" and lists:
            ordered, number = lists[-1]
            indent = "  " * (len(lists) - 1)
            item_prefix = f"{indent}{number}. " if ordered else f"{indent}- "
            if ordered:
                lists[-1][1] += 1
        elif token.type == "inline":
            text = _inline_plain(token).strip()
            if not text:
                continue
            if item_prefix:
                blocks.append(("\n" if gap else "") + item_prefix + text)
                item_prefix = ""
                gap = False
            elif lists:
                blocks.append("  " * len(lists) + text)
            else:
                blocks.append("\n" + text if blocks else text)
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    return "\n".join(blocks).strip()
