"""Migration 0012 on a database with articles: chunks become passages, and the way back
keeps every article and passage (SQLite must not rebuild and so cascade the tables)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from omnidesk.bot.migrate import alembic_config, upgrade
from omnidesk.db import create_engine

ARTICLE = (
    "INSERT INTO articles (slug, title, body, tags, language, status, version, created_at, "
    "updated_at) VALUES ('a', 'A', 'b', '[]', 'en', 'published', 1, CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP)"
)
PASSAGE = (
    "INSERT INTO chunks (article_id, ordinal, heading, anchor, text, content_hash) "
    "VALUES (1, 0, '', '', 'A\n\nb', 'h')"
)


async def test_up_and_down_keep_the_articles(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await upgrade(engine, "0005")
        async with engine.begin() as conn:
            await conn.execute(text(ARTICLE))
            await conn.execute(text(PASSAGE))
        await upgrade(engine, "0012")
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT kind FROM chunks"))).scalars().all() == [
                "passage"
            ]
            await conn.execute(
                text(
                    "INSERT INTO chunks (article_id, ordinal, kind, heading, anchor, text, "
                    "content_hash) VALUES (1, 1, 'question', '', '', 'q?', 'q')"
                )
            )

        def down(connection: object) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")

        async with engine.begin() as conn:
            await conn.run_sync(down)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT text FROM chunks"))).scalars().all() == [
                "A\n\nb"
            ]
            assert (await conn.execute(text("SELECT slug FROM articles"))).scalars().all() == ["a"]
    finally:
        await engine.dispose()
