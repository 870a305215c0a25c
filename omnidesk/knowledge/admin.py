"""What admins do with the knowledge base, as plain data for an HTTP API: list, read,
create, edit, publish and delete articles, their history, a safe preview, grouping of
unanswered questions into drafts, and evaluation.

Inputs are JSON-shaped mappings, outputs JSON-ready dicts; refusals raise a
:class:`KnowledgeError` whose ``code`` and ``http_status`` the API layer answers with.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from omnidesk.knowledge.articles import (
    MAX_BODY_BYTES,
    ArticleConflictError,
    ArticleFormatError,
    ArticleInput,
    ArticleNotFoundError,
    input_of,
    parse_status,
    short_slug,
    slug_from_text,
)
from omnidesk.knowledge.evaluation import evaluate, load_cases, read_cases
from omnidesk.knowledge.gaps import distinct_examples, draft_body, draft_title, group_vectors
from omnidesk.knowledge.models import Article, ArticleRevision, ArticleStatus
from omnidesk.knowledge.pages import render_markdown
from omnidesk.knowledge.service import KnowledgeBase
from omnidesk.knowledge.store import ArticleFilter

EDITABLE = ("slug", "title", "body", "category", "tags", "questions", "language", "status")
# Fields a revision records, compared to tell what each change did.
REVISION_FIELDS = (
    "slug",
    "title",
    "body",
    "category",
    "tags",
    "questions",
    "language",
    "status",
)
DRAFT_TAG = "from-gaps"
MAX_DRAFT_QUESTIONS = 20
# Clustering holds an n x n distance matrix: 3000 questions are some 70 MB for a moment.
MAX_GROUPED_QUESTIONS = 3000


class ArticleAdmin:
    """Admin operations over one :class:`KnowledgeBase`."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb

    # -- reading ----------------------------------------------------------------------

    async def list_articles(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Article summaries (no bodies) filtered by ``status``, ``category``, ``tag``,
        ``language`` and ``q`` (words in the title, slug or body), and the categories
        in use."""
        status = (params.get("status") or "").strip()
        where = ArticleFilter(
            status=parse_status(status) if status and status != "all" else None,
            category=(params.get("category") or "").strip() or None,
            tag=(params.get("tag") or "").strip() or None,
            language=(params.get("language") or "").strip() or None,
            query=(params.get("q") or "").strip()[:200] or None,
        )
        articles = await self._kb.find_articles(where)
        return {
            "articles": [self.article_dict(a, body=False) for a in articles],
            "total": len(articles),
            "categories": await self._kb.categories(),
        }

    async def get_article(self, slug: str) -> dict[str, Any]:
        return self.article_dict(await self._article(slug))

    async def revisions(self, slug: str) -> dict[str, Any]:
        """Who changed what and when, newest first (bodies left out)."""
        article, revisions = await self._kb.revisions(slug)
        entries = []
        for i, revision in enumerate(revisions):
            older = revisions[i + 1] if i + 1 < len(revisions) else None
            entries.append(
                {
                    "version": revision.version,
                    "by": revision.changed_by,
                    "at": _iso(revision.created_at),
                    "changed": _changed(revision, older),
                    "title": revision.title,
                    "slug": revision.slug,
                    "status": revision.status,
                    "body_chars": len(revision.body),
                }
            )
        return {"article": self.article_dict(article, body=False), "revisions": entries}

    async def revision(self, slug: str, version: int) -> dict[str, Any]:
        """One revision in full."""
        _, revisions = await self._kb.revisions(slug)
        for revision in revisions:
            if revision.version == version:
                return {
                    "version": revision.version,
                    "by": revision.changed_by,
                    "at": _iso(revision.created_at),
                    **{name: _revision_value(revision, name) for name in REVISION_FIELDS},
                }
        raise ArticleNotFoundError(f"article {slug!r} has no version {version}")

    def preview(self, body: str) -> str:
        """The HTML an article page shows for ``body``: raw HTML in it is escaped."""
        if len(body.encode("utf-8")) > MAX_BODY_BYTES:
            raise ArticleFormatError(f"body is larger than {MAX_BODY_BYTES // 1024} KB")
        return render_markdown(body)

    # -- writing ----------------------------------------------------------------------

    async def create_article(self, fields: Mapping[str, Any], by: str) -> dict[str, Any]:
        """A new article; the slug defaults to one made from the title, status to draft."""
        _only_editable(fields)
        title = _text(fields, "title") or ""
        slug = _text(fields, "slug") or (slug_from_text(title) if title.strip() else "")
        if not title.strip():
            raise ArticleFormatError("title is empty")
        data = _input(
            fields,
            ArticleInput(slug=slug, title=title, body="", status=ArticleStatus.DRAFT),
        )
        return self.article_dict(await self._kb.create_article(data, by=by))

    async def update_article(
        self,
        slug: str,
        fields: Mapping[str, Any],
        by: str,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Change the given fields only. Without ``expected_version`` the version read
        here is expected, so a concurrent edit is refused rather than overwritten."""
        _only_editable(fields)
        current = await self._article(slug)
        data = _input(fields, input_of(current))
        version = current.version if expected_version is None else expected_version
        updated = await self._kb.update_article(slug, data, by=by, expected_version=version)
        return self.article_dict(updated)

    async def set_status(self, slug: str, status: str, by: str) -> dict[str, Any]:
        return await self.update_article(slug, {"status": status}, by)

    async def delete_article(self, slug: str) -> None:
        """Delete it; it leaves answers at once."""
        if not await self._kb.delete_article(slug):
            raise ArticleNotFoundError(f"no article with slug {slug!r}")

    # -- gaps and evaluation ----------------------------------------------------------

    async def group_questions(self, questions: Sequence[str]) -> list[list[int]]:
        """Indices of ``questions`` grouped by meaning, biggest group first, each group's
        most central question first. Only the first ``MAX_GROUPED_QUESTIONS`` count."""
        if not questions:
            return []
        texts = [q[:500] for q in questions[:MAX_GROUPED_QUESTIONS]]
        vectors = await self._kb.embedder.aencode(texts)
        # Clustering is CPU work of up to seconds: off the event loop.
        groups = await asyncio.to_thread(group_vectors, vectors)
        return [list(g.members) for g in groups]

    async def draft_from_questions(self, questions: Sequence[str], by: str) -> dict[str, Any]:
        """A draft article for questions about one thing: titled by the most central
        question, its body a template listing what was asked."""
        asked = distinct_examples([q for q in questions if q.strip()], MAX_DRAFT_QUESTIONS)
        if not asked:
            raise ArticleFormatError("give at least one question")
        vectors = await self._kb.embedder.aencode(asked)
        centrality = (vectors @ vectors.T).mean(axis=1)
        order = [int(i) for i in np.argsort(-centrality, kind="stable")]
        title = draft_title(asked[order[0]])
        body = draft_body([asked[i] for i in order])
        # A short slug of the question's meaningful words, not the whole sentence.
        base = short_slug(title)
        for n in range(1, 100):
            slug = base if n == 1 else f"{base[:190]}-{n}"
            data = ArticleInput(
                slug=slug, title=title, body=body, tags=(DRAFT_TAG,), status=ArticleStatus.DRAFT
            )
            try:
                return self.article_dict(await self._kb.create_article(data, by=by))
            except ArticleConflictError:
                continue
        raise ArticleConflictError(f"no free slug near {base!r}")

    async def evaluate(self, csv_text: str | None) -> dict[str, Any]:
        """hit@1, hit@5, MRR and calibration on the given CSV, or the packaged sample."""
        cases = read_cases(csv_text) if csv_text and csv_text.strip() else load_cases()
        return (await evaluate(self._kb, cases)).to_dict()

    # -- helpers ----------------------------------------------------------------------

    async def _article(self, slug: str) -> Article:
        article = await self._kb.get_article(slug)
        if article is None:
            raise ArticleNotFoundError(f"no article with slug {slug!r}")
        return article

    def article_dict(self, article: Article, *, body: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "slug": article.slug,
            "title": article.title,
            "category": article.category,
            "tags": list(article.tags or []),
            "questions": list(article.questions or []),
            "language": article.language,
            "status": article.status,
            "version": article.version,
            "updated_by": article.updated_by,
            "created_at": _iso(article.created_at),
            "updated_at": _iso(article.updated_at),
            "url": self._kb.article_url(article.slug),
        }
        if body:
            data["body"] = article.body
        return data


def _only_editable(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ArticleFormatError(
            f"unknown field {unknown[0]!r}; articles have: {', '.join(EDITABLE)}"
        )


def _text(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArticleFormatError(f"'{name}' must be a string")
    return value


def _input(fields: Mapping[str, Any], base: ArticleInput) -> ArticleInput:
    """``base`` with the given fields replaced; each is type-checked, then validated."""

    def text(name: str, default: str) -> str:
        return (_text(fields, name) or "") if name in fields else default

    tags: tuple[str, ...] = base.tags
    if "tags" in fields:
        raw = fields["tags"]
        if raw is None:
            tags = ()
        elif isinstance(raw, str):
            tags = tuple(raw.split(","))
        elif isinstance(raw, list) and all(isinstance(t, str) for t in raw):
            tags = tuple(raw)
        else:
            raise ArticleFormatError("'tags' must be a list of strings")
    questions = base.questions
    if "questions" in fields:
        raw = fields["questions"]
        if raw is None:
            questions = ()
        elif isinstance(raw, str):
            questions = tuple(raw.splitlines())  # a text area: one question a line
        elif isinstance(raw, list) and all(isinstance(q, str) for q in raw):
            questions = tuple(raw)
        else:
            raise ArticleFormatError("'questions' must be a list of strings")
    return ArticleInput(
        slug=text("slug", base.slug).strip(),
        title=text("title", base.title),
        body=text("body", base.body),
        category=_text(fields, "category") if "category" in fields else base.category,
        tags=tags,
        questions=questions,
        language=text("language", base.language).strip(),
        status=_status(fields["status"]) if "status" in fields else base.status,
    )


def _status(value: Any) -> ArticleStatus:
    if not isinstance(value, str):
        raise ArticleFormatError("'status' must be 'draft' or 'published'")
    return parse_status(value)


def _revision_value(revision: ArticleRevision, name: str) -> Any:
    value = getattr(revision, name)
    if name == "questions" and value is None:
        return []  # revisions from before migration 0012 had none
    return list(value) if isinstance(value, list) else value


def _changed(revision: ArticleRevision, older: ArticleRevision | None) -> list[str]:
    """The fields ``revision`` changed relative to the one before it."""
    if older is None:
        return ["created"]
    # Revisions from before migration 0003 record only title, body and status.
    recorded = older.slug is not None and revision.slug is not None
    names = REVISION_FIELDS if recorded else ("title", "body", "status")
    return [n for n in names if _revision_value(revision, n) != _revision_value(older, n)]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
