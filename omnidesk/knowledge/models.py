"""Knowledge tables: articles, their revisions, and the chunks the index is built from
(passages of the body and the example questions an article answers)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from omnidesk.db import Base, utcnow


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ChunkKind(enum.StrEnum):
    """What a chunk is: a passage of the body (quoted in answers) or a question it answers."""

    PASSAGE = "passage"
    QUESTION = "question"


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    # Example questions given with the article (front matter ``questions:``, an import's
    # pairs); those listed in the body are read from the body. NULL on rows before 0012.
    questions: Mapped[list[Any] | None] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(16), default="en")
    status: Mapped[str] = mapped_column(String(16), default=ArticleStatus.PUBLISHED)
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="article", cascade="all, delete-orphan", passive_deletes=True
    )


class ArticleRevision(Base):
    """An article as it was after one change: who, when, what.

    ``slug``, ``category``, ``tags`` and ``language`` are NULL on revisions written
    before they were recorded (migration 0003).
    """

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    slug: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[Any] | None] = mapped_column()
    questions: Mapped[list[Any] | None] = mapped_column()
    language: Mapped[str | None] = mapped_column(String(16))
    changed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Chunk(Base):
    """A passage of a published article, or one question it answers; its id is the
    vector's id in the index. Questions are embedded alone (no title, no windows)."""

    __tablename__ = "chunks"
    __table_args__ = (UniqueConstraint("article_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(
        String(16), default=ChunkKind.PASSAGE, server_default=ChunkKind.PASSAGE.value
    )
    heading: Mapped[str] = mapped_column(String(300), default="")
    anchor: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text)
    # Hash of the text the vector was made from, so index and database can be compared.
    content_hash: Mapped[str] = mapped_column(String(64))

    article: Mapped[Article] = relationship(back_populates="chunks")
