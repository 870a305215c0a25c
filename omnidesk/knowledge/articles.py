"""Article input: the validated fields of one article and its Markdown-with-front-matter form."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from omnidesk.knowledge.markdown import inline_text, md_parser, slugify_heading
from omnidesk.knowledge.models import ArticleStatus

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


class ArticleFormatError(ValueError):
    """An article file or input that cannot be imported; the message says why."""


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """What an author gives for one article; ``slug`` is its stable identity."""

    slug: str
    title: str
    body: str
    category: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    language: str = "en"
    status: ArticleStatus = ArticleStatus.PUBLISHED

    def __post_init__(self) -> None:
        if not SLUG_RE.match(self.slug):
            raise ArticleFormatError(
                f"slug {self.slug!r} must be lower-case letters, digits and hyphens"
            )
        if not self.title.strip():
            raise ArticleFormatError("title is empty")
        if len(self.title) > 300:
            raise ArticleFormatError("title is longer than 300 characters")
        object.__setattr__(self, "tags", tuple(self.tags))
        try:
            object.__setattr__(self, "status", ArticleStatus(self.status))
        except ValueError:
            raise ArticleFormatError(
                f"status {self.status!r} is not one of: published, draft"
            ) from None


def parse_markdown_article(text: str, fallback_slug: str) -> ArticleInput:
    """An article from Markdown with optional YAML front matter.

    Front matter keys: ``title``, ``slug``, ``category``, ``tags`` (list or
    comma-separated), ``language``, ``status`` (``published`` or ``draft``); other keys
    (``date``, ``author`` from a static-site export) are ignored. Without a
    title, the first ``# Heading`` is the title. A leading H1 equal to the title is
    dropped from the body, since pages and passages carry the title themselves.
    Raises :class:`ArticleFormatError` on anything it cannot use.
    """
    meta: dict[str, Any] = {}
    body = text.lstrip("\ufeff")
    match = _FRONT_MATTER.match(body)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise ArticleFormatError(f"front matter is not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ArticleFormatError("front matter must be a mapping of keys to values")
        meta = loaded or {}
        body = body[match.end() :]
    elif body.startswith("---\n"):
        raise ArticleFormatError("front matter is not closed by a '---' line")

    title = _opt_str(meta, "title")
    h1_title, rest = _leading_h1(body)
    if title is None:
        if h1_title is None:
            raise ArticleFormatError("no title: give 'title' in front matter or a '# Heading'")
        title, body = h1_title, rest
    elif h1_title is not None and h1_title.strip().lower() == title.strip().lower():
        body = rest

    status_text = _opt_str(meta, "status") or ArticleStatus.PUBLISHED.value
    try:
        status = ArticleStatus(status_text)
    except ValueError:
        raise ArticleFormatError(
            f"status {status_text!r} is not one of: published, draft"
        ) from None
    return ArticleInput(
        slug=_opt_str(meta, "slug") or _slug_from(fallback_slug),
        title=title.strip(),
        body=body.strip() + "\n",
        category=_opt_str(meta, "category"),
        tags=_tags(meta.get("tags")),
        language=_opt_str(meta, "language") or "en",
        status=status,
    )


def _opt_str(meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise ArticleFormatError(f"front matter {key!r} must be text")
    text = str(value).strip()
    return text or None


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items: Sequence[Any]
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise ArticleFormatError("front matter 'tags' must be a list or comma-separated text")
    return tuple(dict.fromkeys(str(t).strip() for t in items if str(t).strip()))


def _slug_from(name: str) -> str:
    return re.sub(r"-{2,}", "-", slugify_heading(name).replace("_", "-")).strip("-")


def _leading_h1(body: str) -> tuple[str | None, str]:
    """The first block's H1 text, and the body after it; ``(None, body)`` without one."""
    tokens = md_parser().parse(body)
    if len(tokens) < 2 or tokens[0].type != "heading_open" or tokens[0].tag != "h1":
        return None, body
    end = tokens[0].map[1] if tokens[0].map else 1
    return inline_text(tokens[1]), "\n".join(body.splitlines()[end:])
