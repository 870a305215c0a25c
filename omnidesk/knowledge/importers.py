"""Reading articles from files: Markdown with front matter, HTML pages, and CSV or JSON
question/answer pairs. Every failure names its file (and row), so one broken file never
stops an import."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tqdm import tqdm

from omnidesk.knowledge.articles import (
    ArticleFormatError,
    ArticleInput,
    parse_markdown_article,
    parse_status,
    slug_from_text,
)

log = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
PAIRS_SUFFIXES = (".csv", ".json")
SUFFIXES = MARKDOWN_SUFFIXES + HTML_SUFFIXES + PAIRS_SUFFIXES
# One file is at most this big; a larger one is refused, not read into memory.
MAX_FILE_BYTES = 20 * 1024 * 1024
# Column (or key) names accepted for the two halves of a pair, first match wins.
QUESTION_KEYS = ("question", "title", "q")
ANSWER_KEYS = ("answer", "body", "a")


@dataclass(frozen=True, slots=True)
class ImportFailure:
    """One file (or one row of a file, ``path:row``) that could not be imported."""

    path: str
    error: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Slugs per outcome of an import, and one entry per file that could not be imported."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    errors: tuple[ImportFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        lines = [
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.errors)} failed"
        ]
        lines.extend(f"  {failure.path}: {failure.error}" for failure in self.errors)
        return "\n".join(lines)


Parsed = list[tuple[str, ArticleInput]]


def read_articles(
    root: Path, *, progress: bool = False, suffixes: tuple[str, ...] = SUFFIXES
) -> tuple[Parsed, list[ImportFailure]]:
    """Every article under ``root`` (a folder, searched recursively, or one file).

    Hidden files and folders are skipped; in a folder, only files ending in one of
    ``suffixes`` are read; a file of another type named directly is refused. Returns
    ``(source, article)`` pairs, where ``source`` names the file (and line for pairs),
    and the failures.
    """
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file()
            and p.suffix.lower() in suffixes
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
    else:
        return [], [ImportFailure(str(root), "no such file or folder")]
    parsed: Parsed = []
    failures: list[ImportFailure] = []
    for file in tqdm(files, desc="reading", unit="file", disable=not progress):
        try:
            read = _reader_for(file)
            for source, item in read(file):
                if isinstance(item, ArticleInput):
                    parsed.append((source, item))
                else:
                    failures.append(ImportFailure(source, item))
        except (OSError, UnicodeDecodeError, ArticleFormatError) as exc:
            failures.append(ImportFailure(str(file), describe(exc)))
    return parsed, failures


def describe(exc: BaseException) -> str:
    """The first line of an error's message, bounded, for a report."""
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start})"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


# A reader yields (source, article) or (source, error message) per article in a file.
Reader = Callable[[Path], Iterator[tuple[str, ArticleInput | str]]]


def _reader_for(file: Path) -> Reader:
    suffix = file.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return _read_markdown
    if suffix in HTML_SUFFIXES:
        return _read_html
    if suffix == ".csv":
        return _read_csv
    if suffix == ".json":
        return _read_json
    raise ArticleFormatError(
        f"unknown file type {file.suffix or '(none)'!r}; import takes " + ", ".join(SUFFIXES)
    )


def _text(file: Path) -> str:
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ArticleFormatError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return file.read_text(encoding="utf-8-sig")


def _read_markdown(file: Path) -> Iterator[tuple[str, ArticleInput | str]]:
    yield str(file), parse_markdown_article(_text(file), fallback_slug=file.stem)


# -- HTML pages ---------------------------------------------------------------------------


class _TitleParser(HTMLParser):
    """Collects the text of ``<title>`` and of the first ``<h1>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self._in: str | None = None
        self._h1_done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.title:
            self._in = "title"
        elif tag == "h1" and not self._h1_done:
            self._in = "h1"

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            if tag == "h1":
                self._h1_done = True
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data


def html_title(html: str) -> str | None:
    """The page's first ``<h1>``, else its ``<title>``: the h1 is the article's own
    heading, while a title usually carries the site's name as well."""
    parser = _TitleParser()
    parser.feed(html)
    parser.close()
    for text in (parser.h1, parser.title):
        title = " ".join(text.split())
        if title:
            return title
    return None


def html_main_text(html: str) -> str | None:
    """The page's main text as Markdown, navigation and footers left out (trafilatura)."""
    try:
        import trafilatura
    except ImportError as exc:  # trafilatura needs lxml's html-clean part at import time
        raise ArticleFormatError(f"HTML import is unavailable: {exc}") from None
    text = trafilatura.extract(
        html,
        output_format="markdown",
        include_formatting=True,
        include_links=False,
        include_images=False,
        include_comments=False,
        include_tables=True,
        favor_recall=True,
    )
    return str(text) if text and text.strip() else None


def _read_html(file: Path) -> Iterator[tuple[str, ArticleInput | str]]:
    html = _text(file)
    title = html_title(html)
    if title is None:
        raise ArticleFormatError("no title: the page has neither <h1> nor <title>")
    body = html_main_text(html)
    if body is None:
        raise ArticleFormatError("no main text found in the page")
    yield (
        str(file),
        ArticleInput(slug=slug_from_text(file.stem, max_chars=200), title=title, body=body),
    )


# -- question/answer pairs ----------------------------------------------------------------


def pair_article(record: Mapping[str, Any]) -> ArticleInput:
    """An article from one question/answer record: title = question, body = answer.

    The question is also the article's first example question, indexed on its own.
    Optional keys: ``questions`` (other ways customers ask it: a list, or in CSV one per
    line or separated by ``|``), ``slug`` (else made from the question), ``category``,
    ``tags`` (list or comma-separated), ``language``, ``status``.
    """
    fields = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
    question = _first(fields, QUESTION_KEYS)
    answer = _first(fields, ANSWER_KEYS)
    if not question:
        raise ArticleFormatError("no question (column 'question')")
    if not answer:
        raise ArticleFormatError("no answer (column 'answer')")
    tags = fields.get("tags") or ()
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, (list, tuple)):
        raise ArticleFormatError("'tags' must be a list or comma-separated text")
    slug = _opt(fields, "slug")
    return ArticleInput(
        slug=slug or slug_from_text(question),
        title=question,
        body=answer,
        category=_opt(fields, "category"),
        tags=tuple(str(t) for t in tags),
        questions=(question, *_more_questions(fields.get("questions"))),
        language=_opt(fields, "language") or "en",
        status=parse_status(_opt(fields, "status")),
    )


def _more_questions(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [q for q in re.split(r"\s*(?:\r?\n|\|)\s*", value) if q.strip()]
    if isinstance(value, list) and not any(isinstance(q, (dict, list)) for q in value):
        return [str(q) for q in value if q is not None]
    raise ArticleFormatError("'questions' must be a list, or questions one per line or '|'")


def _first(fields: Mapping[str, Any], keys: Iterable[str]) -> str:
    for key in keys:
        value = fields.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def _opt(fields: Mapping[str, Any], key: str) -> str | None:
    value = fields.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise ArticleFormatError(f"'{key}' must be text")
    return str(value).strip() or None


def _pairs(
    file: Path, records: Iterable[tuple[str, Any]]
) -> Iterator[tuple[str, ArticleInput | str]]:
    any_record = False
    for where, record in records:
        any_record = True
        source = f"{file}:{where}"
        if not isinstance(record, Mapping):
            yield source, "each entry must be an object with 'question' and 'answer'"
            continue
        try:
            yield source, pair_article(record)
        except ArticleFormatError as exc:
            yield source, describe(exc)
    if not any_record:
        raise ArticleFormatError("no question/answer pairs in the file")


def _read_csv(file: Path) -> Iterator[tuple[str, ArticleInput | str]]:
    text = _text(file)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = {(name or "").strip().lower() for name in reader.fieldnames or ()}
    if not header & set(QUESTION_KEYS) or not header & set(ANSWER_KEYS):
        raise ArticleFormatError(
            "the first row must name the columns, with 'question' and 'answer'"
        )
    try:
        rows = [(f"line {reader.line_num}", row) for row in reader]
    except csv.Error as exc:
        raise ArticleFormatError(f"not valid CSV: {exc}") from None
    yield from _pairs(file, rows)


def _read_json(file: Path) -> Iterator[tuple[str, ArticleInput | str]]:
    try:
        data = json.loads(_text(file))
    except json.JSONDecodeError as exc:
        raise ArticleFormatError(f"not valid JSON: {exc}") from None
    if isinstance(data, Mapping):
        # {"items": [...]} or {"faq": [...]}: a single list under one key.
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ArticleFormatError("expected a list of {question, answer} objects")
        data = lists[0]
    if not isinstance(data, list):
        raise ArticleFormatError("expected a list of {question, answer} objects")
    yield from _pairs(file, ((f"item {i + 1}", item) for i, item in enumerate(data)))
