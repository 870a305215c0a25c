"""Example questions: the questions an article answers, each indexed on its own.

They come from the front matter (``questions:``), from a "Questions customers ask" list
in the body, and from question/answer pairs of an import. A list under such a heading is
read as questions and kept out of the passages, so that an FAQ's many phrasings are not
cut into 180-word windows with each other (issue 13: a plain nearest-question search beat
the passages because of that).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from omnidesk.knowledge.markdown import headings, inline_text, md_parser

MAX_QUESTIONS = 200
MAX_QUESTION_CHARS = 500
# "Questions customers ask", "Questions customers asked" (the Gaps draft), "Example
# questions", "Common questions", "How customers ask", "Also asked as".
_HEADING = re.compile(
    r"^(?:(?:example|common|sample|other|customer|related)\s+questions"
    r"|questions\s+(?:customers|people|users|visitors|clients)\s+(?:ask|asked|ask us)"
    r"|how\s+(?:customers|people)\s+ask(?:\s+this)?|also\s+asked(?:\s+as)?)\s*:?$",
    re.IGNORECASE,
)


def is_questions_heading(text: str) -> bool:
    """True for a heading whose list holds example questions rather than content."""
    return bool(_HEADING.match(" ".join(text.split())))


def normalise_questions(items: Iterable[object]) -> tuple[str, ...]:
    """Questions as stored: whitespace collapsed, empty and repeated ones (any case) dropped,
    each cut to :data:`MAX_QUESTION_CHARS`, at most :data:`MAX_QUESTIONS`."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        text = " ".join(str(item).split())[:MAX_QUESTION_CHARS].strip()
        key = text.casefold()
        if not text or key in seen:
            continue
        seen.add(key)
        out.append(text)
        if len(out) == MAX_QUESTIONS:
            break
    return tuple(out)


def body_questions(body: str) -> list[str]:
    """The list items under every "questions customers ask" heading of ``body``."""
    tokens = md_parser().parse(body)
    heads = [h for h in headings(tokens) if not h.nested]
    found: list[str] = []
    for i, head in enumerate(heads):
        if not is_questions_heading(head.text):
            continue
        # The section runs to the next heading of the same or a higher level.
        stop = next((h.token_index for h in heads[i + 1 :] if h.level <= head.level), len(tokens))
        in_item = 0
        for j in range(head.token_index + 3, stop):
            token = tokens[j]
            if token.type == "list_item_open":
                in_item += 1
            elif token.type == "list_item_close":
                in_item -= 1
            elif token.type == "inline" and in_item:
                found.append(inline_text(token))
    return found


def article_questions(given: Iterable[str], body: str) -> tuple[str, ...]:
    """Every question of an article: those given with it, then those listed in its body."""
    return normalise_questions([*given, *body_questions(body)])
