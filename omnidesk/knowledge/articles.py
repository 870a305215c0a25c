"""Article input: the validated fields of one article, its Markdown-with-front-matter form,
and the errors article operations raise."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml

from omnidesk.knowledge.markdown import inline_text, md_parser, slugify_heading
from omnidesk.knowledge.models import Article, ArticleStatus
from omnidesk.knowledge.questions import normalise_questions

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?$")
LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,3}$")
MAX_TITLE_CHARS = 300
MAX_BODY_BYTES = 200 * 1024
MAX_CATEGORY_CHARS = 100
MAX_TAGS = 30
MAX_TAG_CHARS = 50
# Slugs made from a title or a question stay readable in a URL.
GENERATED_SLUG_CHARS = 80
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


class KnowledgeError(Exception):
    """An article operation refused for a reason the caller can show.

    ``code`` is machine-readable and ``http_status`` is what an HTTP API answers, so the
    API layer maps these errors without knowing each class.
    """

    code: ClassVar[str] = "invalid"
    http_status: ClassVar[int] = 400


class ArticleFormatError(KnowledgeError, ValueError):
    """An article file or input that cannot be imported; the message says why."""


class ArticleNotFoundError(KnowledgeError, LookupError):
    """No article has the slug asked for."""

    code = "not_found"
    http_status = 404


class ArticleConflictError(KnowledgeError):
    """The slug is taken, or the article changed since the caller read it."""

    code = "conflict"
    http_status = 409


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """What an author gives for one article; ``slug`` is its stable identity.

    Values are normalised on construction so that every way in (API, import, export
    and re-import) stores the same text: line endings become ``\\n``, the body is
    stripped and ends with one newline, a leading ``# Heading`` equal to the title is
    dropped (pages and passages carry the title themselves), whitespace in the title
    collapses, tags are stripped and unique, and so are ``questions`` (the example
    questions given with the article; a list in its body is read from the body).
    """

    slug: str
    title: str
    body: str
    category: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    questions: tuple[str, ...] = field(default_factory=tuple)
    language: str = "en"
    status: ArticleStatus = ArticleStatus.PUBLISHED

    def __post_init__(self) -> None:
        if not isinstance(self.slug, str) or not SLUG_RE.match(self.slug):
            raise ArticleFormatError(
                f"slug {self.slug!r} must be lower-case letters, digits and hyphens "
                "(at most 200), starting and ending with a letter or digit"
            )
        title = " ".join(str(self.title).split())
        if not title:
            raise ArticleFormatError("title is empty")
        if len(title) > MAX_TITLE_CHARS:
            raise ArticleFormatError(f"title is longer than {MAX_TITLE_CHARS} characters")
        object.__setattr__(self, "title", title)
        body = normalise_body(title, str(self.body))
        if len(body.encode("utf-8")) > MAX_BODY_BYTES:
            raise ArticleFormatError(f"body is larger than {MAX_BODY_BYTES // 1024} KB")
        object.__setattr__(self, "body", body)
        category = (self.category or "").strip() or None
        if category is not None and len(category) > MAX_CATEGORY_CHARS:
            raise ArticleFormatError(f"category is longer than {MAX_CATEGORY_CHARS} characters")
        object.__setattr__(self, "category", category)
        tags = tuple(dict.fromkeys(t.strip() for t in self.tags if t and t.strip()))
        if len(tags) > MAX_TAGS:
            raise ArticleFormatError(f"more than {MAX_TAGS} tags")
        if any(len(t) > MAX_TAG_CHARS for t in tags):
            raise ArticleFormatError(f"a tag is longer than {MAX_TAG_CHARS} characters")
        object.__setattr__(self, "tags", tags)
        object.__setattr__(self, "questions", normalise_questions(self.questions))
        if not LANGUAGE_RE.match(self.language or ""):
            raise ArticleFormatError(
                f"language {self.language!r} must be a language tag such as 'en' or 'pt-BR'"
            )
        try:
            object.__setattr__(self, "status", ArticleStatus(self.status))
        except ValueError:
            raise ArticleFormatError(
                f"status {self.status!r} is not one of: published, draft"
            ) from None


def normalise_body(title: str, body: str) -> str:
    """The body as stored: ``\\n`` line ends, stripped, one final newline, no title H1."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    h1_title, rest = _leading_h1(text)
    if h1_title is not None and h1_title.strip().lower() == title.strip().lower():
        text = rest
    text = text.strip()
    return text + "\n" if text else ""


def slug_from_text(text: str, max_chars: int = GENERATED_SLUG_CHARS) -> str:
    """A slug made from a title, question or file name; cut at a word boundary.

    Raises :class:`ArticleFormatError` when nothing usable is left (a title of emoji).
    """
    # Accented letters keep their base letter ("Café" → "cafe"); other scripts drop out.
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9-]", "", _slug_from(ascii_text))
    slug = re.sub(r"-{2,}", "-", slug).strip("-")
    if len(slug) > max_chars:
        cut = slug[: max_chars + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut else cut[:max_chars]
        slug = slug.strip("-")
    if not slug:
        raise ArticleFormatError(f"cannot make a slug from {text[:60]!r}; give one")
    return slug


# Words a short slug leaves out: they carry no meaning in a URL.
_SLUG_STOP = frozenset(
    (  # noqa: SIM905  (a word list reads better as words)
        "a an the i me my we our you your it its is are was were be been am do does did can "
        "could would should will shall may might must how what when where why who which "
        "there here this that these those to of in on at for from by with about into and or "
        "but if not no so than then please hi hello help need want get"
    ).split()
)
SHORT_SLUG_WORDS = 5


def short_slug(text: str, max_words: int = SHORT_SLUG_WORDS) -> str:
    """A slug of the first few meaningful words of a question ("How do I reset my
    password when I am locked out?" → ``reset-password-locked-out``); the plain slug of
    the text when nothing meaningful is left."""
    words = [w for w in slug_from_text(text, max_chars=200).split("-") if w]
    kept = [w for w in words if w not in _SLUG_STOP][:max_words]
    return "-".join(kept) if kept else slug_from_text(text)


def parse_markdown_article(text: str, fallback_slug: str) -> ArticleInput:
    """An article from Markdown with optional YAML front matter.

    Front matter keys: ``title``, ``slug``, ``category``, ``tags`` (list or
    comma-separated), ``questions`` (list of example questions), ``language``,
    ``status`` (``published`` or ``draft``); other keys (``date``, ``author`` from a
    static-site export) are ignored. Values are read as text: ``slug: no``,
    ``title: yes`` and ``slug: 404`` stay the strings written. Without a
    title, the first ``# Heading`` is the title. A leading H1 equal to the title is
    dropped from the body, since pages and passages carry the title themselves.
    Raises :class:`ArticleFormatError` on anything it cannot use.
    """
    meta: dict[str, Any] = {}
    body = text.lstrip("\ufeff")
    match = _FRONT_MATTER.match(body)
    if match:
        try:
            loaded = yaml.load(match.group(1), Loader=_TextLoader)  # noqa: S506 (safe)
        except yaml.YAMLError as exc:
            raise ArticleFormatError(f"front matter is not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ArticleFormatError("front matter must be a mapping of keys to values")
        meta = loaded or {}
        body = body[match.end() :]
    elif body.startswith("---\n"):
        raise ArticleFormatError("front matter is not closed by a '---' line")

    title = _opt_str(meta, "title")
    if title is None:
        h1_title, rest = _leading_h1(body)
        if h1_title is None:
            raise ArticleFormatError("no title: give 'title' in front matter or a '# Heading'")
        title, body = h1_title, rest

    return ArticleInput(
        slug=_opt_str(meta, "slug") or slug_from_text(fallback_slug, max_chars=200),
        title=title,
        body=body,
        category=_opt_str(meta, "category"),
        tags=_tags(meta.get("tags")),
        questions=_questions(meta.get("questions")),
        language=_opt_str(meta, "language") or "en",
        status=parse_status(_opt_str(meta, "status")),
    )


def input_of(article: Article) -> ArticleInput:
    """The stored article as input again, for an edit or an export."""
    return ArticleInput(
        slug=article.slug,
        title=article.title,
        body=article.body,
        category=article.category,
        tags=tuple(str(t) for t in article.tags or ()),
        questions=tuple(str(q) for q in article.questions or ()),
        language=article.language,
        status=parse_status(article.status),
    )


def to_markdown(article: ArticleInput) -> str:
    """The article as Markdown with front matter; :func:`parse_markdown_article` of it
    gives ``article`` back unchanged."""
    meta: dict[str, Any] = {"title": article.title, "slug": article.slug}
    if article.category:
        meta["category"] = article.category
    if article.tags:
        meta["tags"] = list(article.tags)
    if article.questions:
        meta["questions"] = list(article.questions)
    meta["language"] = article.language
    meta["status"] = article.status.value
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n\n{article.body}"


def parse_status(text: str | None) -> ArticleStatus:
    """``published`` (also for no value) or ``draft``; anything else is refused."""
    try:
        return ArticleStatus(text or ArticleStatus.PUBLISHED.value)
    except ValueError:
        raise ArticleFormatError(f"status {text!r} is not one of: published, draft") from None


def _opt_str(meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise ArticleFormatError(f"front matter {key!r} must be text")
    text = str(value).strip()
    return text or None


class _TextLoader(yaml.SafeLoader):
    """YAML's safe loader with plain scalars read as text: YAML 1.1 reads ``no``, ``yes``,
    ``on`` as booleans, ``404`` as a number and ``2024-01-01`` as a date, which made
    ``slug: no`` the slug ``False``. Empty values still read as null."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _questions(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or any(isinstance(q, (dict, list)) for q in value):
        raise ArticleFormatError("front matter 'questions' must be a list of questions")
    return tuple(str(q) for q in value if q is not None)


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
