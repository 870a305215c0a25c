"""Shared fixtures: a migrated database on SQLite and, when ``OMNIDESK_TEST_DATABASE_URL``
is set, on PostgreSQL too; settings in a temporary data directory; the network limited
to loopback; a conversational ``chat`` fixture that runs messages through the router."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from omnidesk.bot.migrate import upgrade
from omnidesk.config import Settings
from omnidesk.db import create_engine, is_sqlite, sessionmaker

PG_ENV = "OMNIDESK_TEST_DATABASE_URL"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may talk to this machine only."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            host = str(address[0])
            if not (host.startswith("127.") or host in ("::1", "localhost")):
                raise RuntimeError(f"test tried to reach {host}; only loopback is allowed")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @property
    def backend(self) -> str:
        return "sqlite" if is_sqlite(self.url) else "postgresql"


async def reset_postgres(url: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return os.environ[PG_ENV]


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """An empty database with every migration applied."""
    if not is_sqlite(db_url):
        await reset_postgres(db_url)
    engine = create_engine(db_url)
    await upgrade(engine)
    yield Database(db_url, engine, sessionmaker(engine))
    await engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    data = tmp_path / "data"
    return Settings(
        data_dir=data,
        database_url=db_url,
        secret_key="test-secret-key",  # type: ignore[arg-type]
        port=0,
    )


@pytest.fixture
def unique() -> Iterator[str]:
    yield uuid.uuid4().hex[:10]
