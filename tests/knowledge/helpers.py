"""Small builders shared by the knowledge tests."""

from __future__ import annotations

from omnidesk.knowledge import ArticleInput, ArticleStatus


def article(
    slug: str,
    title: str,
    body: str | None = None,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
) -> ArticleInput:
    text = body if body is not None else f"This article explains: {title.lower()}.\n"
    return ArticleInput(slug=slug, title=title, body=text, status=status)
