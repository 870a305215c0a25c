"""Database side of the knowledge base: article writes with revisions, chunk reads for the index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.knowledge.articles import ArticleInput
from omnidesk.knowledge.chunking import ChunkData, split_chunk_text
from omnidesk.knowledge.models import Article, ArticleRevision, ArticleStatus, Chunk


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """A stored passage of a published article, as search needs it."""

    id: int
    article_id: int
    slug: str
    title: str
    heading: str
    anchor: str
    text: str
    content_hash: str

    @property
    def body(self) -> str:
        return split_chunk_text(self.text)[1]


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


def _same_content(article: Article, data: ArticleInput) -> bool:
    return (
        article.title == data.title
        and article.body == data.body
        and article.category == data.category
        and list(article.tags or []) == list(data.tags)
        and article.language == data.language
        and article.status == data.status.value
    )


async def write_article(
    session: AsyncSession, data: ArticleInput, chunks: Sequence[ChunkData], by: str | None
) -> WriteResult:
    """Insert or update ``data`` by slug in the session's transaction.

    A content change bumps the version and records a revision; the chunks are replaced
    when their texts differ (also after a change of chunking settings). Draft articles
    get ``chunks=[]`` from the caller and so leave the index.
    """
    article = await session.scalar(
        select(Article).where(Article.slug == data.slug).with_for_update()
    )
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
        article.title = data.title
        article.body = data.body
        article.category = data.category
        article.tags = list(data.tags)
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
