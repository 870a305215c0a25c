"""Database side of the knowledge base: article writes with revisions, chunk reads for the index."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from omnidesk.knowledge.articles import ArticleConflictError, ArticleInput, ArticleNotFoundError
from omnidesk.knowledge.chunking import ChunkData, split_chunk_text
from omnidesk.knowledge.models import Article, ArticleRevision, ArticleStatus, Chunk, ChunkKind


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """A stored chunk of a published article (a passage or a question), as search needs it."""

    id: int
    article_id: int
    slug: str
    title: str
    heading: str
    anchor: str
    text: str
    content_hash: str
    kind: str = ChunkKind.PASSAGE.value

    @property
    def is_question(self) -> bool:
        return self.kind == ChunkKind.QUESTION.value

    @property
    def body(self) -> str:
        """A passage without its "Title — Heading" prefix; a question as it is."""
        return self.text if self.is_question else split_chunk_text(self.text)[1]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one article write changed: the article, and the chunk ids that left and came."""

    article: Article
    outcome: str  # "created" | "updated" | "rechunked" | "unchanged"
    removed: tuple[int, ...]
    added: tuple[ChunkRecord, ...]


async def published_chunks(session: AsyncSession) -> list[ChunkRecord]:
    rows = await session.execute(
        select(
            Chunk.id,
            Chunk.article_id,
            Article.slug,
            Article.title,
            Chunk.heading,
            Chunk.anchor,
            Chunk.text,
            Chunk.content_hash,
            Chunk.kind,
        )
        .join(Article, Article.id == Chunk.article_id)
        .where(Article.status == ArticleStatus.PUBLISHED.value)
        .order_by(Chunk.id)
    )
    return [ChunkRecord(*row) for row in rows.tuples()]


async def count_articles(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Article)) or 0)


async def article_by_slug(session: AsyncSession, slug: str) -> Article | None:
    return await session.scalar(select(Article).where(Article.slug == slug))


async def list_articles(session: AsyncSession, *, published_only: bool) -> list[Article]:
    query = select(Article).order_by(Article.category, Article.title)
    if published_only:
        query = query.where(Article.status == ArticleStatus.PUBLISHED.value)
    return list(await session.scalars(query))


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """What an article list is narrowed to; ``None`` (or empty) means any."""

    status: ArticleStatus | None = None
    category: str | None = None
    tag: str | None = None
    language: str | None = None
    query: str | None = None  # words that must all appear in the title, slug or body


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def find_articles(session: AsyncSession, where: ArticleFilter) -> list[Article]:
    """Articles matching ``where``, by category then title; bodies are not loaded."""
    query = (
        select(Article)
        .options(defer(Article.body))
        .order_by(Article.category, Article.title, Article.slug)
    )
    if where.status is not None:
        query = query.where(Article.status == where.status.value)
    if where.category:
        query = query.where(Article.category == where.category)
    if where.language:
        query = query.where(Article.language == where.language)
    for word in (where.query or "").split():
        pattern = _like(word)
        query = query.where(
            or_(
                Article.title.ilike(pattern, escape="\\"),
                Article.slug.ilike(pattern, escape="\\"),
                Article.body.ilike(pattern, escape="\\"),
            )
        )
    if where.tag:
        # Tags are a JSON list: narrow in SQL on its text (portable across SQLite and
        # PostgreSQL), then compare exactly here.
        needle = json.dumps(where.tag.strip())
        query = query.where(cast(Article.tags, Text).ilike(_like(needle), escape="\\"))
    rows = list(await session.scalars(query))
    if where.tag:
        wanted = where.tag.strip().casefold()
        rows = [a for a in rows if any(str(t).casefold() == wanted for t in a.tags or [])]
    return rows


async def categories(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(Article.category).where(Article.category.is_not(None)).distinct()
    )
    return sorted(c for c in rows if c)


async def revisions(session: AsyncSession, article_id: int) -> list[ArticleRevision]:
    """Every revision of an article, newest first."""
    return list(
        await session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.article_id == article_id)
            .order_by(ArticleRevision.version.desc())
        )
    )


def _same_content(article: Article, data: ArticleInput) -> bool:
    return (
        article.slug == data.slug
        and article.title == data.title
        and article.body == data.body
        and article.category == data.category
        and list(article.tags or []) == list(data.tags)
        and list(article.questions or []) == list(data.questions)
        and article.language == data.language
        and article.status == data.status.value
    )


WriteMode = Literal["upsert", "create", "update"]


async def write_article(
    session: AsyncSession,
    data: ArticleInput,
    chunks: Sequence[ChunkData],
    by: str | None,
    *,
    mode: WriteMode = "upsert",
    slug: str | None = None,
    expected_version: int | None = None,
) -> WriteResult:
    """Insert or update ``data`` in the session's transaction.

    ``mode="upsert"`` matches by ``data.slug``; ``"create"`` refuses a slug in use;
    ``"update"`` changes the article ``slug`` (default ``data.slug``), which may be
    renamed to ``data.slug``, and refuses when its version is not ``expected_version``.
    Refusals raise before anything is written, so the caller's rollback leaves no trace.

    A content change bumps the version and records a revision; the chunks are replaced
    when their texts differ (also after a change of chunking settings). Draft articles
    get ``chunks=[]`` from the caller and so leave the index.
    """
    current_slug = slug or data.slug
    article = await session.scalar(
        select(Article).where(Article.slug == current_slug).with_for_update()
    )
    if mode == "create" and article is not None:
        raise ArticleConflictError(f"an article with slug {data.slug!r} already exists")
    if mode == "update":
        if article is None:
            raise ArticleNotFoundError(f"no article with slug {current_slug!r}")
        if expected_version is not None and article.version != expected_version:
            raise ArticleConflictError(
                f"article {current_slug!r} was changed meanwhile (now version "
                f"{article.version}, you edited version {expected_version}); reload it"
            )
    if article is not None and data.slug != article.slug:
        taken = await session.scalar(select(Article.id).where(Article.slug == data.slug))
        if taken is not None:
            raise ArticleConflictError(f"an article with slug {data.slug!r} already exists")
    old: list[tuple[int, str]] = []
    if article is None:
        article = Article(slug=data.slug, version=1)
        session.add(article)
        outcome = "created"
    else:
        rows = await session.execute(
            select(Chunk.id, Chunk.content_hash)
            .where(Chunk.article_id == article.id)
            .order_by(Chunk.ordinal)
        )
        old = [(int(i), h) for i, h in rows.tuples()]
        same_chunks = [h for _, h in old] == [c.content_hash for c in chunks]
        if _same_content(article, data):
            if same_chunks:
                session.expunge(article)
                return WriteResult(article, "unchanged", (), ())
            outcome = "rechunked"
        else:
            article.version += 1
            outcome = "updated"

    if outcome != "rechunked":
        article.slug = data.slug
        article.title = data.title
        article.body = data.body
        article.category = data.category
        article.tags = list(data.tags)
        article.questions = list(data.questions)
        article.language = data.language
        article.status = data.status.value
        article.updated_by = by
    await session.flush()
    if outcome != "rechunked":
        session.add(
            ArticleRevision(
                article_id=article.id,
                version=article.version,
                title=data.title,
                body=data.body,
                status=data.status.value,
                slug=data.slug,
                category=data.category,
                tags=list(data.tags),
                questions=list(data.questions),
                language=data.language,
                changed_by=by,
            )
        )
    if old:
        await session.execute(delete(Chunk).where(Chunk.article_id == article.id))
        await session.flush()
    rows_added = [
        Chunk(
            article_id=article.id,
            ordinal=c.ordinal,
            kind=c.kind.value,
            heading=c.heading[:300],
            anchor=c.anchor[:300],
            text=c.text,
            content_hash=c.content_hash,
        )
        for c in chunks
    ]
    session.add_all(rows_added)
    await session.flush()
    added = tuple(
        ChunkRecord(
            id=row.id,
            article_id=article.id,
            slug=article.slug,
            title=article.title,
            heading=row.heading,
            anchor=row.anchor,
            text=row.text,
            content_hash=row.content_hash,
            kind=row.kind,
        )
        for row in rows_added
    )
    for row in rows_added:
        session.expunge(row)
    session.expunge(article)
    return WriteResult(article, outcome, tuple(i for i, _ in old), added)


async def delete_article(session: AsyncSession, slug: str) -> tuple[int, ...] | None:
    """Delete an article with its chunks and revisions; its chunk ids, or None if unknown."""
    article_id = await session.scalar(
        select(Article.id).where(Article.slug == slug).with_for_update()
    )
    if article_id is None:
        return None
    ids = tuple(await session.scalars(select(Chunk.id).where(Chunk.article_id == article_id)))
    # Explicit deletes rather than relying on ON DELETE CASCADE being enforced.
    await session.execute(delete(Chunk).where(Chunk.article_id == article_id))
    await session.execute(delete(ArticleRevision).where(ArticleRevision.article_id == article_id))
    await session.execute(delete(Article).where(Article.id == article_id))
    return ids
