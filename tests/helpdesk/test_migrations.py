"""The migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import omnidesk.helpdesk.models
import omnidesk.knowledge.models  # noqa: F401  (registers the tables)
from omnidesk.db import Base
from omnidesk.migrations.objects import include_object
from tests.conftest import Database


async def test_models_and_migrations_agree(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_object": include_object}),
                Base.metadata,
            )
        )
    assert diff == []
