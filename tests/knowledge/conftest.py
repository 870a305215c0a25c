"""Knowledge fixtures: one real embedder per test session and started knowledge bases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from omnidesk.config import Settings
from omnidesk.knowledge import Embedder, KnowledgeBase, get_embedder

if TYPE_CHECKING:
    from tests.conftest import Database


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The packaged model, loaded once for every test (get_embedder caches it)."""
    return get_embedder()


@pytest.fixture
def kb_settings(settings: Settings) -> Settings:
    """Settings with an empty knowledge base (no sample seeded)."""
    settings.knowledge.seed_sample = False
    return settings


@pytest.fixture
async def kb(
    kb_settings: Settings, db: Database, embedder: Embedder
) -> AsyncIterator[KnowledgeBase]:
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as base:
        yield base


@pytest.fixture
async def sample_kb(
    settings: Settings, db: Database, embedder: Embedder
) -> AsyncIterator[KnowledgeBase]:
    """A knowledge base seeded with the packaged sample, as ``omnidesk serve`` starts it."""
    settings.knowledge.seed_sample = True
    async with KnowledgeBase(settings, db.sessionmaker, embedder) as base:
        yield base
