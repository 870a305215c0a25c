"""Account secrets and sessions at the action level, on SQLite and PostgreSQL: argon2
hashes, session expiry and idle timeout, sessions ending on password change and disable,
API tokens stored hashed and revocable, and the admin that the first start creates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from omnidesk.bot.accounts import first_start_admin
from omnidesk.config import Settings
from omnidesk.db import utcnow
from omnidesk.helpdesk import SYSTEM, ActionError, actions, unit_of_work
from omnidesk.helpdesk.auth import directory
from omnidesk.helpdesk.auth.crypto import (
    hash_password,
    new_api_token,
    token_digest,
    verify_password,
)
from omnidesk.helpdesk.models import Agent, AgentSession, ApiToken
from tests.accounts import PASSWORD, add_agent
from tests.conftest import Database

HOUR = dt.timedelta(hours=1)


def test_password_hash_is_argon2_and_salted() -> None:
    one, two = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert one.startswith("$argon2id$") and one != two
    assert verify_password(one, "s3cret-pass")
    assert not verify_password(one, "s3cret-Pass")
    assert not verify_password(None, "s3cret-pass")  # unknown account
    assert not verify_password("not-a-hash", "s3cret-pass")


def test_api_tokens_have_a_prefix_and_are_stored_as_digest() -> None:
    token = new_api_token()
    assert token.startswith("odk_") and len(token) > 40
    assert token_digest(token) == token_digest(token) != token
    assert len(token_digest(token)) == 64


async def test_create_agent_validates(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        agent = await actions.create_agent(
            session,
            email=" Ann@Example.TEST ",
            password=PASSWORD,
            by=SYSTEM,
            name="Ann",
            skills=["Billing", "billing", " vip "],
            capacity=3,
        )
        assert (agent.email, agent.skills, agent.capacity) == (
            "ann@example.test",
            ["billing", "vip"],
            3,
        )
        assert agent.password_hash != PASSWORD and verify_password(agent.password_hash, PASSWORD)
    bad = [
        {"email": "ann@example.test"},  # taken, whatever the case
        {"email": "no-at-sign"},
        {"email": "bo@x.test", "password": "short"},
        {"email": "bo@x.test", "role": "root"},
        {"email": "bo@x.test", "capacity": -1},
        {"email": "bo@x.test", "skills": "billing"},
    ]
    for fields in bad:
        args = {"password": PASSWORD, **fields}
        async with db.sessionmaker() as session:
            with pytest.raises(ActionError):
                await actions.create_agent(session, by=SYSTEM, **args)


async def _session(db: Database, agent_id: int, lifetime: dt.timedelta = HOUR) -> tuple[str, str]:
    async with unit_of_work(db.sessionmaker) as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
        row, token = await actions.start_session(session, agent, lifetime=lifetime, ip="127.0.0.1")
        assert row.id == token_digest(token) and row.id != token
        return row.id, token


async def _live(db: Database, token: str, idle: dt.timedelta = HOUR) -> bool:
    async with db.sessionmaker() as session:
        return await directory.find_session(session, token, idle) is not None


async def test_session_expires_and_idles_out(db: Database) -> None:
    agent_id = await add_agent(db.sessionmaker, "ann@x.test")
    session_id, token = await _session(db, agent_id)
    assert await _live(db, token)
    assert not await _live(db, token + "x")
    # Idle longer than allowed: over.
    async with unit_of_work(db.sessionmaker) as session:
        await session.execute(
            update(AgentSession)
            .where(AgentSession.id == session_id)
            .values(last_seen_at=utcnow() - dt.timedelta(minutes=30))
        )
    assert not await _live(db, token, idle=dt.timedelta(minutes=20))
    assert await _live(db, token, idle=dt.timedelta(minutes=40))
    # Touching keeps it going.
    async with unit_of_work(db.sessionmaker) as session:
        await actions.touch_session(session, session_id, agent_id)
    assert await _live(db, token, idle=dt.timedelta(minutes=20))
    # Past its lifetime: over, however active.
    _, short = await _session(db, agent_id, lifetime=dt.timedelta(seconds=-1))
    assert not await _live(db, short)


async def test_password_change_ends_other_sessions_and_disable_ends_all(db: Database) -> None:
    agent_id = await add_agent(db.sessionmaker, "ann@x.test")
    keep_id, keep = await _session(db, agent_id)
    _, other = await _session(db, agent_id)
    async with unit_of_work(db.sessionmaker) as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
        await actions.set_password(
            session, agent, "a-new-password", SYSTEM, keep_session_id=keep_id
        )
    assert await _live(db, keep) and not await _live(db, other)

    admin_id = await add_agent(db.sessionmaker, "root@x.test", role="admin")
    async with unit_of_work(db.sessionmaker) as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
        await actions.disable_agent(session, agent, SYSTEM)
    assert not await _live(db, keep)
    async with db.sessionmaker() as session:
        rows = await session.scalars(select(AgentSession).where(AgentSession.agent_id == agent_id))
        assert rows.all() == []
    # The last active admin can be neither disabled nor demoted.
    async with db.sessionmaker() as session:
        admin = await session.get(Agent, admin_id)
        assert admin is not None
        for change in ({"active": False}, {"role": "agent"}):
            with pytest.raises(ActionError) as refused:
                await actions.update_agent(session, admin, change, SYSTEM)
            assert refused.value.code == "last_admin"


async def test_api_token_is_shown_once_stored_hashed_and_revocable(db: Database) -> None:
    agent_id = await add_agent(db.sessionmaker, "ann@x.test")
    async with unit_of_work(db.sessionmaker) as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
        row, secret = await actions.create_api_token(session, agent, "script", SYSTEM)
        token_id = row.id
    async with db.sessionmaker() as session:
        stored = await session.get(ApiToken, token_id)
        assert stored is not None and stored.token_hash == token_digest(secret)
        assert secret not in (stored.token_hash, stored.prefix) and secret.startswith(stored.prefix)
        found = await directory.find_api_token(session, secret)
        assert found is not None and found[1].id == agent_id
        assert await directory.find_api_token(session, "odk_" + "x" * 43) is None
    async with unit_of_work(db.sessionmaker) as session:
        stored = await session.get(ApiToken, token_id)
        assert stored is not None
        await actions.revoke_api_token(session, stored, SYSTEM)
    async with db.sessionmaker() as session:
        assert await directory.find_api_token(session, secret) is None


async def test_failed_attempts_are_counted_per_account_and_address(db: Database) -> None:
    keep = dt.timedelta(minutes=15)
    async with unit_of_work(db.sessionmaker) as session:
        for email, ip in [
            ("a@x.test", "10.0.0.1"),
            ("a@x.test", "10.0.0.2"),
            ("b@x.test", "10.0.0.1"),
        ]:
            await actions.record_login_attempt(session, email, ip, False, keep=keep)
        await actions.record_login_attempt(session, "a@x.test", "10.0.0.1", True, keep=keep)
    since = utcnow() - keep
    async with db.sessionmaker() as session:
        assert (await directory.failed_attempts(session, since, email="a@x.test"))[0] == 2
        count, oldest = await directory.failed_attempts(session, since, ip="10.0.0.1")
        assert count == 2 and oldest is not None and oldest <= utcnow()
        assert (await directory.failed_attempts(session, utcnow() + HOUR, ip="10.0.0.1"))[0] == 0


async def test_first_start_creates_one_admin_with_a_private_password_file(
    db: Database, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=db.url)
    created = await first_start_admin(settings, db.sessionmaker)
    assert created is not None
    email, password = created
    assert email == "admin@localhost" and password
    secret_file = tmp_path / "data" / "admin_password"
    assert secret_file.read_text() == password and secret_file.stat().st_mode & 0o077 == 0
    async with db.sessionmaker() as session:
        admin = await directory.agent_by_email(session, email)
        assert (
            admin is not None
            and admin.role == "admin"
            and verify_password(admin.password_hash, password)
        )
    # Said once: later starts create nothing.
    assert await first_start_admin(settings, db.sessionmaker) is None


async def test_first_start_admin_from_the_environment(db: Database, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db.url,
        admin_email="Boss@Example.test",
        admin_password="from-the-env-1",  # type: ignore[arg-type]
    )
    assert await first_start_admin(settings, db.sessionmaker) == ("boss@example.test", None)
    assert not (tmp_path / "data" / "admin_password").exists()
