"""Alembic environment: runs on a connection handed in by ``omnidesk db upgrade`` (the
normal path) or on a fresh engine from the alembic command line."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import omnidesk.helpdesk.models
import omnidesk.knowledge.models  # noqa: F401  (registers the tables)
from omnidesk.db import Base, create_engine
from omnidesk.migrations.objects import include_object

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    from omnidesk.config import load_settings

    engine = create_engine(load_settings().effective_database_url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_online())
