"""The faiss index by chunk id: kind by size, changes, persistence, agreement with the database."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from sqlalchemy import select, update

from omnidesk.config import Settings
from omnidesk.knowledge import SAMPLE_DIR, Chunk, Embedder, KnowledgeBase, chunk_markdown
from omnidesk.knowledge import service as kb_service
from omnidesk.knowledge.articles import parse_markdown_article
from omnidesk.knowledge.index import MANIFEST, IndexPolicy, Manifest, VectorIndex, fingerprint
from tests.knowledge.helpers import article

if TYPE_CHECKING:
    from tests.conftest import Database

# Each index kind the service can hold, at test scale. "hnsw" starts approximate at
# once; "hnsw-merging" also folds its delta into the graph every few vectors.
POLICIES = {
    "flat": IndexPolicy(),
    "hnsw": IndexPolicy(approximate_from=1),
    "hnsw-merging": IndexPolicy(approximate_from=1, delta_max=2),
}
KIND = {"flat": "flat", "hnsw": "hnsw", "hnsw-merging": "hnsw"}


def manifest_identity(settings: Settings) -> tuple[int, int]:
    """Changes whenever the manifest is written again (atomic replace: a new inode)."""
    stat = (settings.index_dir / MANIFEST).stat()
    return stat.st_ino, stat.st_mtime_ns


def unit(rows: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    vecs = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def top_ids(index: VectorIndex, query: np.ndarray, k: int) -> list[int]:
    return [i for i, _ in index.search(query, k)[0]]


@pytest.mark.parametrize("name", POLICIES)
def test_add_search_remove_by_id(name: str) -> None:
    vecs = unit(3)
    index = VectorIndex(8, POLICIES[name])
    index.add([10, 20, 30], vecs)
    assert index.kind == KIND[name]
    assert len(index) == 3
    assert index.ids() == {10, 20, 30}
    top = index.search(vecs[1], 3)[0]
    assert top[0][0] == 20 and top[0][1] == pytest.approx(1.0, abs=1e-5)
    assert index.remove([20, 99]) == 1
    assert index.remove([20]) == 0
    assert index.ids() == {10, 30}
    assert len(index) == 2
    assert all(i != 20 for i, _ in index.search(vecs[1], 3)[0])
    assert len(index.search(vecs[1], 3)[0]) == 2
    assert index.vector(20) is None
    stored = index.vector(30)
    assert stored is not None
    np.testing.assert_allclose(stored, vecs[2], atol=1e-6)


@pytest.mark.parametrize("name", POLICIES)
def test_update_by_id_replaces_the_vector(name: str) -> None:
    vecs = unit(40, seed=1)
    index = VectorIndex(8, POLICIES[name])
    index.add(range(30), vecs[:30])
    for step, new in enumerate(range(30, 40)):
        # One "article change" at a time: chunk 3 gets new text, so a new vector.
        index.add([3], vecs[new : new + 1])
        assert len(index) == 30, step
        assert top_ids(index, vecs[new], 1) == [3]
        np.testing.assert_allclose(index.vector(3), vecs[new], atol=1e-6)  # type: ignore[arg-type]
        old = index.search(vecs[new - 1] if step else vecs[3], 30)[0]
        assert [i for i, _ in old].count(3) == 1  # never twice, old and new
    assert index.kind == KIND[name]
    with pytest.raises(ValueError, match="duplicate"):
        index.add([1, 1], vecs[:2])
    with pytest.raises(ValueError, match="ids for"):
        index.add([1, 2], vecs[:1])


@pytest.mark.parametrize("name", POLICIES)
def test_copy_is_independent(name: str) -> None:
    index = VectorIndex(8, POLICIES[name])
    index.add([1, 2], unit(2))
    changed = index.copy()
    changed.remove([1])
    changed.add([3], unit(1, seed=5))
    changed.add([2], unit(1, seed=6))
    assert index.ids() == {1, 2}
    assert changed.ids() == {2, 3}
    np.testing.assert_allclose(index.vector(2), unit(2)[1], atol=1e-6)  # type: ignore[arg-type]


def test_kind_switches_at_the_threshold_and_back_below_half() -> None:
    vecs = unit(60, seed=2)
    index = VectorIndex(8, IndexPolicy(approximate_from=50))
    index.add(range(49), vecs[:49])
    assert index.kind == "flat"
    index.add([49], vecs[49:50])
    assert index.kind == "hnsw"
    assert (index.tombstones, index.pending) == (0, 0)  # rebuilt from every live vector
    index.add(range(50, 60), vecs[50:60])
    assert top_ids(index, vecs[55], 1) == [55]
    # Hysteresis: still a graph at 25 live vectors, exact again under half the threshold.
    index.remove(range(35))
    assert (len(index), index.kind) == (25, "hnsw")
    index.remove([35])
    assert (len(index), index.kind) == (24, "flat")
    assert index.ids() == set(range(36, 60))
    assert all(top_ids(index, vecs[i], 1) == [i] for i in range(36, 60))


def test_tombstones_are_filtered_then_compacted() -> None:
    vecs = unit(100, seed=3)
    index = VectorIndex(8, IndexPolicy(approximate_from=1, tombstone_max=0.2))
    index.add(range(100), vecs)
    index.remove(range(0, 40, 2))  # 20 of 100: at the limit, kept as tombstones
    assert (index.kind, index.tombstones, len(index)) == ("hnsw", 20, 80)
    found = {i for i, _ in index.search(vecs[:40], 10)[0]}
    assert not found & set(range(0, 40, 2))
    # k live results even where the nearest neighbours are tombstones.
    assert all(len(row) == 10 for row in index.search(vecs[:40], 10))
    index.remove([1])  # 21 > 20 %: the graph is rebuilt from the live vectors
    assert (index.kind, index.tombstones, len(index)) == ("hnsw", 0, 79)
    assert index.vector(0) is None and index.vector(3) is not None


def test_delta_merges_into_the_graph_and_old_copies_keep_working() -> None:
    vecs = unit(30, seed=4)
    index = VectorIndex(8, IndexPolicy(approximate_from=1, delta_max=4))
    index.add(range(10), vecs[:10])
    before = index.copy()
    index.remove([0])
    for i in range(10, 14):
        index.add([i], vecs[i : i + 1])
    assert (index.pending, index.tombstones) == (4, 1)
    index.add([14], vecs[14:15])  # the delta passes 4: merged, tombstones stay
    assert (index.pending, index.tombstones, len(index)) == (0, 1, 14)
    assert all(top_ids(index, vecs[i], 1) == [i] for i in range(1, 15))
    # An id tombstoned in the graph and added again cannot merge twice: rebuilt.
    index.add([0], vecs[20:21])
    for i in range(15, 19):
        index.add([i], vecs[i : i + 1])
    assert (index.pending, index.tombstones, len(index)) == (0, 0, 19)
    assert top_ids(index, vecs[20], 1) == [0]
    assert before.ids() == set(range(10)) and top_ids(before, vecs[0], 1) == [0]


@pytest.mark.parametrize("name", POLICIES)
def test_save_and_load_round_trip(tmp_path: Path, name: str) -> None:
    policy = POLICIES[name]
    vecs = unit(12)
    index = VectorIndex(8, policy)
    index.add(range(5, 13), vecs[:8])
    index.remove([6])
    index.add([7], vecs[8:9])
    index.add([100], vecs[9:10])
    manifest = index.save(tmp_path, model="m", fingerprint="ab" * 32)
    assert json.loads((tmp_path / MANIFEST).read_text())["count"] == len(index) == 8
    assert manifest.kind == KIND[name]
    loaded = VectorIndex.load(tmp_path, policy)
    assert loaded is not None
    again, read = loaded
    assert read == manifest
    assert again.kind == index.kind
    assert (again.tombstones, again.pending) == (index.tombstones, index.pending)
    assert again.ids() == index.ids()
    for i in index.ids():
        np.testing.assert_array_equal(again.vector(i), index.vector(i))  # type: ignore[arg-type]
    assert again.search(vecs[:10], 5) == index.search(vecs[:10], 5)
    # A second save of the same base writes only a new delta; stale files are removed.
    base_file = tmp_path / manifest.file
    written = base_file.stat().st_ino
    index.remove([5])
    second = index.save(tmp_path, model="m", fingerprint="cd" * 32)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([MANIFEST, second.file, second.delta])
    assert second.delta.endswith(f"-{'cd' * 8}.npz")
    if second.file == manifest.file:
        assert base_file.stat().st_ino == written


@pytest.mark.parametrize(
    "damage",
    ["no manifest", "bad json", "missing base", "missing delta", "bad delta", "count", "format 1"],
)
def test_load_refuses_damaged_state(tmp_path: Path, damage: str) -> None:
    index = VectorIndex(8)
    index.add([1, 2], unit(2))
    manifest = index.save(tmp_path, model="m", fingerprint="0" * 64)
    raw = json.loads((tmp_path / MANIFEST).read_text())
    if damage == "no manifest":
        (tmp_path / MANIFEST).unlink()
    elif damage == "bad json":
        (tmp_path / MANIFEST).write_text("{not json")
    elif damage == "missing base":
        (tmp_path / manifest.file).unlink()
    elif damage == "missing delta":
        (tmp_path / manifest.delta).unlink()
    elif damage == "bad delta":
        (tmp_path / manifest.delta).write_bytes(b"PK\x03\x04 truncated")
    elif damage == "count":
        raw["count"] = 3
    else:
        raw["format"] = 1  # written by the exact-only index of earlier versions
    if damage in ("count", "format 1"):
        (tmp_path / MANIFEST).write_text(json.dumps(raw))
    assert VectorIndex.load(tmp_path) is None


def test_fingerprint_is_order_free_and_content_sensitive() -> None:
    pairs = [(1, "a"), (2, "b")]
    assert fingerprint(pairs) == fingerprint(reversed(pairs))
    assert fingerprint(pairs) != fingerprint([(1, "a"), (2, "c")])
    assert fingerprint(pairs) != fingerprint([(1, "a"), (3, "b")])
    assert fingerprint([]) != fingerprint(pairs)


def _noisy_copies(
    centres: np.ndarray, n: int, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Unit vectors around ``centres`` (gaussian noise of norm ~``sigma``, re-normalised)."""
    picked = centres[rng.integers(0, len(centres), n)]
    noise = rng.standard_normal(picked.shape, dtype=np.float32) * (sigma / picked.shape[1] ** 0.5)
    out = picked + noise
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_hnsw_recall_against_exact_on_noisy_copies_of_real_embeddings(
    embedder: Embedder,
) -> None:
    passages = []
    for path in sorted(SAMPLE_DIR.glob("*.md")):
        art = parse_markdown_article(path.read_text(encoding="utf-8"), fallback_slug=path.stem)
        passages += [c.text for c in chunk_markdown(art.title, art.body)]
    with (SAMPLE_DIR / "eval.csv").open(newline="", encoding="utf-8") as fh:
        questions = [row["question"] for row in csv.DictReader(fh)]
    real_q = embedder.encode(questions)
    centres = np.vstack([embedder.encode(passages), real_q])
    rng = np.random.default_rng(7)
    # Two levels of noise, so a neighbourhood has structure rather than equidistant points.
    mids = _noisy_copies(centres, 1000, 1.0, rng)
    data = _noisy_copies(mids, 12_000, 0.7, rng)
    queries = _noisy_copies(real_q, 200, 0.5, rng)

    exact = VectorIndex(embedder.dim)
    approx = VectorIndex(embedder.dim, IndexPolicy(approximate_from=1_000))
    for index in (exact, approx):
        index.add(range(len(data)), data)
    assert (exact.kind, approx.kind) == ("flat", "hnsw")
    truth = exact.search(queries, 5)
    found = approx.search(queries, 5)
    recall = np.mean(
        [len({i for i, _ in t} & {i for i, _ in f}) / 5 for t, f in zip(truth, found, strict=True)]
    )
    assert recall >= 0.95, recall


class _SmallIndex(VectorIndex):
    """The service's index with a threshold small enough for a few articles."""

    POLICY = IndexPolicy(approximate_from=3, delta_max=2)

    def __init__(self, dim: int, policy: IndexPolicy | None = None) -> None:
        super().__init__(dim, policy or self.POLICY)

    @classmethod
    def load(
        cls, directory: Path, policy: IndexPolicy | None = None
    ) -> tuple[VectorIndex, Manifest] | None:
        return super().load(directory, policy or cls.POLICY)


async def test_knowledge_base_on_hnsw_survives_restart_and_crash(
    kb_settings: Settings, db: Database, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kb_service, "VectorIndex", _SmallIndex)
    topics = ["Changing the lamp colour", "Where is my parcel", "Refunds", "Wi-Fi pairing"]
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as first:
        for i, title in enumerate(topics):
            await first.upsert_article(article(f"a{i}", title))
        await first.upsert_article(article("a1", "Where is my parcel", "Track it online."))
        await first.delete_article("a2")
        count = first.chunk_count
    manifest = json.loads((kb_settings.index_dir / MANIFEST).read_text())
    assert manifest["kind"] == "hnsw" and manifest["count"] == count

    calls = embedder.encode_calls
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as second:
        assert embedder.encode_calls == calls  # loaded as persisted, not re-embedded
        assert (await second.search("track my parcel"))[0].slug == "a1"
        assert all(hit.slug != "a2" for hit in await second.search("refunds"))

    # A committed write whose index save never happened: rebuilt from the database.
    async with db.sessionmaker() as session, session.begin():
        chunk = (await session.scalars(select(Chunk))).first()
        assert chunk is not None
        text = "Changing the lamp colour\n\nRefunds for broken umbrellas take ten days."
        await session.execute(
            update(Chunk).where(Chunk.id == chunk.id).values(text=text, content_hash="y" * 64)
        )
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as third:
        hits = await third.search("broken umbrella refund")
        assert hits[0].text == "Refunds for broken umbrellas take ten days."
    rebuilt = json.loads((kb_settings.index_dir / MANIFEST).read_text())
    assert rebuilt["kind"] == "hnsw" and rebuilt["fingerprint"] != manifest["fingerprint"]


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
