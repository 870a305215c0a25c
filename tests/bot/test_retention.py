"""Retention: conversations resolved or closed longer ago than ``privacy.retention_days``
are redacted or deleted with their files, recent and still-open ones are kept, every run
is recorded and admins read the runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from omnidesk.bot.app import create_app
from omnidesk.bot.retention import RetentionTask
from omnidesk.config import PrivacySettings, Settings
from omnidesk.helpdesk import EventBus
from omnidesk.helpdesk.models import Conversation, Message, RetentionRun
from tests.accounts import bearer
from tests.conftest import Database
from tests.helpdesk.rights_helpers import Customer, old, rich_customer, rows_mentioning


async def aged(db: Database, customer: Customer, state: str, days: float) -> None:
    async with db.sessionmaker() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == customer.conversation_id)
            .values(state=state, updated_at=old(days))
        )
        await session.commit()


async def three_customers(db: Database, uploads: Path) -> tuple[Customer, Customer, Customer]:
    gone = await rich_customer(db.sessionmaker, uploads, "0ld0ld0ld1")
    recent = await rich_customer(db.sessionmaker, uploads, "4ecen74ecen")
    waiting = await rich_customer(db.sessionmaker, uploads, "wa17wa17wa")
    await aged(db, gone, "resolved", 40)
    await aged(db, recent, "closed", 5)
    await aged(db, waiting, "queued", 400)
    return gone, recent, waiting


def task(db: Database, uploads: Path, mode: str, batch: int = 200) -> RetentionTask:
    settings = PrivacySettings(retention_days=30, retention_mode=mode, retention_batch=batch)  # type: ignore[arg-type]
    return RetentionTask(db.sessionmaker, EventBus(), settings, uploads)


async def test_redact_mode_empties_old_closed_conversations_and_keeps_the_rest(
    db: Database, tmp_path: Path
) -> None:
    gone, recent, waiting = await three_customers(db, tmp_path)
    run = await task(db, tmp_path, "redact", batch=1).run_once()
    assert run is not None and run.finished_at is not None
    assert (run.mode, run.days, run.conversations, run.messages, run.attachments) == (
        "redact", 30, 1, 3, 1,
    )  # fmt: skip
    async with db.sessionmaker() as session:
        conversation = await session.get_one(Conversation, gone.conversation_id)
        assert conversation.redacted_at is not None
        texts = (
            await session.scalars(
                select(Message.text).where(Message.conversation_id == conversation.id)
            )
        ).all()
        assert texts and set(texts) == {""}
        # Its messages' words and the questions the gaps read are gone; the contact stays.
        # (The inbox row is a message still waiting, written today.)
        leftovers = [
            r
            for r in await rows_mentioning(session, gone.marker)
            if "quux" in r and not r.startswith("inbox:")
        ]
        assert leftovers == []
        for kept in (recent, waiting):
            assert any("quux" in r for r in await rows_mentioning(session, kept.marker))
    assert not (tmp_path / gone.file_name).exists()
    assert (tmp_path / recent.file_name).exists() and (tmp_path / waiting.file_name).exists()

    again = await task(db, tmp_path, "redact").run_once()
    assert again is not None and again.conversations == 0
    async with db.sessionmaker() as session:
        assert len((await session.scalars(select(RetentionRun))).all()) == 2


async def test_delete_mode_removes_old_closed_conversations_whole(
    db: Database, tmp_path: Path
) -> None:
    gone, recent, waiting = await three_customers(db, tmp_path)
    run = await task(db, tmp_path, "delete").run_once()
    assert run is not None and (run.mode, run.conversations, run.messages) == ("delete", 1, 3)
    async with db.sessionmaker() as session:
        assert await session.get(Conversation, gone.conversation_id) is None
        left = await session.scalars(
            select(Message.id).where(Message.conversation_id == gone.conversation_id)
        )
        assert left.all() == []
        assert await session.get(Conversation, recent.conversation_id) is not None
        assert await session.get(Conversation, waiting.conversation_id) is not None
        # The survey send outlives it, without the comment.
        leftovers = [
            r
            for r in await rows_mentioning(session, gone.marker)
            if "quux" in r and not r.startswith("inbox:")
        ]
        assert leftovers == []
    assert not (tmp_path / gone.file_name).exists()


async def test_retention_off_does_nothing(db: Database, tmp_path: Path) -> None:
    gone, _, _ = await three_customers(db, tmp_path)
    off = RetentionTask(db.sessionmaker, EventBus(), PrivacySettings(), tmp_path)
    assert await off.run_once() is None
    async with db.sessionmaker() as session:
        assert (await session.get_one(Conversation, gone.conversation_id)).redacted_at is None


@pytest.mark.parametrize("role", ["admin", "agent"])
async def test_admins_read_the_runs(
    aiohttp_client: Any, settings: Settings, db: Database, role: str
) -> None:
    settings.knowledge.seed_sample = False
    settings.privacy.retention_days = 30
    await task(db, settings.uploads_dir, "redact").run_once()
    client = await aiohttp_client(create_app(settings))
    headers = await bearer(db.sessionmaker, role)
    response = await client.get("/api/v1/admin/retention", headers=headers)
    if role == "agent":
        assert response.status == 403
        return
    body = await response.json()
    assert body["retention_days"] == 30 and body["mode"] == "redact"
    # Newest first; the app's own task may have run once since it started.
    run = body["runs"][-1]
    assert run["conversations"] == 0 and run["finished_at"] is not None and run["days"] == 30
    assert (await client.get("/api/v1/admin/retention?limit=0", headers=headers)).status == 400
