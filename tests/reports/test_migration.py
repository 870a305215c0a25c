"""Migration 0022 fills the report facts of conversations that already had messages,
as ``record_message`` would have kept them, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from omnidesk.bot.migrate import upgrade
from omnidesk.db import create_engine, is_sqlite
from tests.conftest import reset_postgres

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
async def old_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    if not is_sqlite(db_url):
        await reset_postgres(db_url)
    engine = create_engine(db_url)
    await upgrade(engine, "0021")  # the revision before 0022
    yield engine
    await engine.dispose()


async def test_facts_are_backfilled_from_existing_messages(old_engine: AsyncEngine) -> None:
    at = [T0 + dt.timedelta(minutes=m) for m in range(6)]
    messages = [  # (author, private, payload, time)
        ("contact", False, "{}", at[0]),
        ("bot", False, '{"citations": [{"slug": "a", "title": "A", "url": "/kb/a"}]}', at[1]),
        ("contact", False, "{}", at[2]),
        ("bot", False, '{"citations": []}', at[3]),  # cites nothing: no answer
        ("agent", True, "{}", at[4]),  # a note
        ("agent", False, "{}", at[5]),
    ]
    async with old_engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO contacts (id, attributes, created_at) VALUES (1, '{}', :t)"),
            {"t": T0},
        )
        await conn.execute(
            text(
                "INSERT INTO channel_identities (id, contact_id, channel, external_id, "
                "created_at) VALUES (1, 1, 'webchat', 'v1', :t)"
            ),
            {"t": T0},
        )
        await conn.execute(
            text(
                "INSERT INTO conversations (id, contact_id, identity_id, channel, thread_key, "
                "state, priority, low_confidence_streak, created_at, updated_at) "
                "VALUES (1, 1, 1, 'webchat', '', 'bot', 'normal', 0, :t, :t)"
            ),
            {"t": T0},
        )
        for author, private, payload, when in messages:
            await conn.execute(
                text(
                    "INSERT INTO messages (conversation_id, author, private, text, payload, "
                    "created_at) VALUES (1, :a, :p, 'x', :j, :t)"
                ),
                {"a": author, "p": private, "j": payload, "t": when},
            )
    await upgrade(old_engine)
    async with old_engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT contact_messages, bot_messages, agent_messages, last_answer_at, "
                    "answer_followed_at FROM conversations WHERE id = 1"
                )
            )
        ).one()
    assert tuple(row[:3]) == (2, 2, 1)
    answered, followed = (
        v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(v) for v in row[3:]
    )
    assert answered.replace(tzinfo=dt.UTC) == at[1]
    assert followed.replace(tzinfo=dt.UTC) == at[2]
