"""The faiss index by chunk id: changes, persistence, and agreement with the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from sqlalchemy import select, update

from omnidesk.config import Settings
from omnidesk.knowledge import Chunk, Embedder, KnowledgeBase
from omnidesk.knowledge.index import MANIFEST, VectorIndex, fingerprint
from tests.knowledge.helpers import article

if TYPE_CHECKING:
    from tests.conftest import Database


def manifest_identity(settings: Settings) -> tuple[int, int]:
    """Changes whenever the manifest is written again (atomic replace: a new inode)."""
    stat = (settings.index_dir / MANIFEST).stat()
    return stat.st_ino, stat.st_mtime_ns


def unit(rows: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    vecs = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def test_add_search_remove_by_id() -> None:
    vecs = unit(3)
    index = VectorIndex(8)
    index.add([10, 20, 30], vecs)
    assert len(index) == 3
    assert index.ids() == {10, 20, 30}
    top = index.search(vecs[1], 3)[0]
    assert top[0][0] == 20 and top[0][1] == pytest.approx(1.0, abs=1e-5)
    assert index.remove([20, 99]) == 1
    assert index.ids() == {10, 30}
    assert all(i != 20 for i, _ in index.search(vecs[1], 3)[0])
    assert index.vector(20) is None
    stored = index.vector(30)
    assert stored is not None
    np.testing.assert_allclose(stored, vecs[2], atol=1e-6)


def test_copy_is_independent() -> None:
    index = VectorIndex(8)
    index.add([1, 2], unit(2))
    changed = index.copy()
    changed.remove([1])
    changed.add([3], unit(1, seed=5))
    assert index.ids() == {1, 2}
    assert changed.ids() == {2, 3}


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    vecs = unit(4)
    index = VectorIndex(8)
    index.add([5, 6, 7, 8], vecs)
    manifest = index.save(tmp_path, model="m", fingerprint="ab" * 32)
    assert json.loads((tmp_path / MANIFEST).read_text())["count"] == 4
    loaded = VectorIndex.load(tmp_path)
    assert loaded is not None
    again, read = loaded
    assert read == manifest
    assert again.ids() == {5, 6, 7, 8}
    assert again.search(vecs[2], 1)[0][0][0] == 7
    # A second save replaces the first file; no temporary or stale files stay behind.
    index.remove([5])
    index.save(tmp_path, model="m", fingerprint="cd" * 32)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, f"vectors-{'cd' * 8}.faiss"]


@pytest.mark.parametrize("damage", ["no manifest", "bad json", "missing file", "count"])
def test_load_refuses_damaged_state(tmp_path: Path, damage: str) -> None:
    index = VectorIndex(8)
    index.add([1, 2], unit(2))
    manifest = index.save(tmp_path, model="m", fingerprint="0" * 64)
    if damage == "no manifest":
        (tmp_path / MANIFEST).unlink()
    elif damage == "bad json":
        (tmp_path / MANIFEST).write_text("{not json")
    elif damage == "missing file":
        (tmp_path / manifest.file).unlink()
    else:
        raw = json.loads((tmp_path / MANIFEST).read_text())
        raw["count"] = 3
        (tmp_path / MANIFEST).write_text(json.dumps(raw))
    assert VectorIndex.load(tmp_path) is None


def test_fingerprint_is_order_free_and_content_sensitive() -> None:
    pairs = [(1, "a"), (2, "b")]
    assert fingerprint(pairs) == fingerprint(reversed(pairs))
    assert fingerprint(pairs) != fingerprint([(1, "a"), (2, "c")])
    assert fingerprint(pairs) != fingerprint([(1, "a"), (3, "b")])
    assert fingerprint([]) != fingerprint(pairs)


async def test_restart_loads_persisted_index_without_embedding(
    kb_settings: Settings, db: Database, embedder: Embedder
) -> None:
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as first:
        await first.upsert_article(article("lamp-colour", "Changing the lamp colour"))
        await first.upsert_article(article("parcel", "Where is my parcel"))
        count = first.chunk_count
    calls = embedder.encode_calls
    written = manifest_identity(kb_settings)
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as second:
        assert embedder.encode_calls == calls  # loaded, not re-embedded
        assert manifest_identity(kb_settings) == written  # and not rewritten
        assert second.chunk_count == count
        hits = await second.search("where is my parcel")
        assert hits[0].slug == "parcel"


async def test_index_rebuilt_when_database_moved_on(
    kb_settings: Settings, db: Database, embedder: Embedder
) -> None:
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as first:
        await first.upsert_article(article("a", "Changing the lamp colour"))
    manifest_before = json.loads((kb_settings.index_dir / MANIFEST).read_text())

    # As if a write committed but the process died before the index was saved:
    # the database now holds a passage the persisted index has never seen.
    async with db.sessionmaker() as session, session.begin():
        chunk = (await session.scalars(select(Chunk))).first()
        assert chunk is not None
        text = "Changing the lamp colour\n\nRefunds for broken umbrellas take ten days."
        await session.execute(
            update(Chunk).where(Chunk.id == chunk.id).values(text=text, content_hash="x" * 64)
        )

    written = manifest_identity(kb_settings)
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as second:
        assert manifest_identity(kb_settings) != written  # rebuilt and saved
        hits = await second.search("broken umbrella refund")
        assert hits[0].text == "Refunds for broken umbrellas take ten days."
        assert hits[0].dense_score > 0.5
    manifest_after = json.loads((kb_settings.index_dir / MANIFEST).read_text())
    assert manifest_after["fingerprint"] != manifest_before["fingerprint"]


async def test_index_rebuilt_for_another_model_name(
    kb_settings: Settings, db: Database, embedder: Embedder
) -> None:
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as first:
        await first.upsert_article(article("a", "Changing the lamp colour"))
    path = kb_settings.index_dir / MANIFEST
    raw = json.loads(path.read_text())
    raw["model"] = "some-other-model"
    path.write_text(json.dumps(raw))
    written = manifest_identity(kb_settings)
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder):
        assert manifest_identity(kb_settings) != written
    assert json.loads(path.read_text())["model"] == embedder.name


async def test_refresh_picks_up_another_process_write(
    kb_settings: Settings, db: Database, embedder: Embedder
) -> None:
    async with (
        KnowledgeBase(kb_settings, db.sessionmaker, embedder) as here,
        KnowledgeBase(kb_settings, db.sessionmaker, embedder) as there,
    ):
        await there.upsert_article(article("umbrella", "Umbrella refunds"))
        assert await here.search("umbrella refunds") == []
        assert await here.refresh() is True
        assert (await here.search("umbrella refunds"))[0].slug == "umbrella"
        assert await here.refresh() is False
