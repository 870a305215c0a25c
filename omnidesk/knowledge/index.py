"""The dense side: a faiss index keyed by chunk id, exact while small and HNSW beyond a size,
changed by id without rebuilds, and persisted atomically with a manifest.

Layout. A :class:`VectorIndex` is one large *base* segment plus a small exact *delta*:

- the base is immutable once built and shared by every copy of the index: an exact
  ``IndexFlatIP`` below ``IndexPolicy.approximate_from`` live vectors, an ``IndexHNSWFlat``
  (inner product) at or above it, each behind an ``IndexIDMap2`` so it answers by chunk id;
- a removed or replaced chunk that lives in the base is not taken out of it (HNSW in
  faiss cannot remove ids) but *tombstoned*: a faiss ``IDSelector`` leaves it out while
  the graph is searched, so a search still returns ``k`` live results;
- new and changed vectors go to the delta, an exact ``IndexIDMap2(IndexFlatIP)`` searched
  next to the base, so one article's change costs a small copy, never a graph rebuild.

The delta is folded into the base when it outgrows ``delta_max`` (HNSW: a copy of the
graph plus incremental inserts), and the base is rebuilt from its live vectors when
tombstones pass ``tombstone_max`` of it or the size crosses the threshold.

Why HNSW rather than IVF (bench/search_latency.py, 2 cores, one query at a time, k=40,
embedding-like vectors; results in bench/results/search_latency.json): at 1M chunks
HNSW (M=32, efConstruction=64, efSearch=64) answers in 0.35 ms p50 at recall@5 0.996
against exact search (117 ms), with 1.7 GB in memory; IVF (nlist=1000) needs nprobe 4-8
for the same recall at 0.8-1.4 ms, and its recall depends on how lists fit the data (at
10k and 100k it needed nprobe 16-32 where HNSW kept recall@5 >= 0.999 with the same
setting). IVF also needs training, and centroids trained on a young knowledge base
drift as it grows. Its ``remove_ids`` would not save the delta either: that is needed
anyway so that a copy for the copy-on-write snapshots the service searches stays cheap.
The price of HNSW is build time (34 s at 100k, 327 s at 1M on two busy cores), paid when
crossing the threshold or compacting, never per article; merges are incremental.

Persistence writes the base once per generation (``base-<token>.faiss``), the delta and
tombstones per change (``delta-<token>-<fingerprint>.npz``), then the manifest that names
both; a crash at any point leaves the previous manifest and its files whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

MANIFEST = "manifest.json"
FORMAT = 2

BASE_KINDS = ("flat", "hnsw")

_Vectors = tuple[np.ndarray, np.ndarray]  # int64 ids and their float32 rows

# faiss's bundled type stubs lack the search-parameter classes and their keywords.
_params_api: Any = faiss

# Chosen with bench/search_latency.py (one query, one core, 384 dims, k=40): exact search
# costs ~0.06 ms per 1k vectors (0.6 ms at 10k, 10.8 ms at 100k), so up to 20k it stays
# within ~1-2 ms and perfectly exact; the graph built on crossing takes a few seconds.
APPROXIMATE_FROM = 20_000


@dataclass(frozen=True, slots=True)
class IndexPolicy:
    """When the index turns approximate and how; not persisted, so new tuning applies on load.

    ``approximate_from``: live vectors from which the base is HNSW; it turns exact again
    below half of that (hysteresis, so an article deleted and re-added at the boundary
    does not rebuild the graph twice). ``hnsw_m``, ``hnsw_ef_construction`` and
    ``hnsw_ef_search`` tune the graph (recall@5 0.996, recall@40 0.988 at 1M in the
    bench; a search uses at least ``k`` as efSearch).
    ``delta_max``: exact delta size that triggers a merge into the base.
    ``tombstone_max``: fraction of tombstoned base vectors that triggers a rebuild.
    """

    approximate_from: int = APPROXIMATE_FROM
    hnsw_m: int = 32
    hnsw_ef_construction: int = 64
    hnsw_ef_search: int = 64
    delta_max: int = 4096
    tombstone_max: float = 0.2

    def __post_init__(self) -> None:
        if self.approximate_from < 1 or self.delta_max < 0 or not 0 < self.tombstone_max <= 1:
            raise ValueError(f"invalid index policy {self}")


def fingerprint(pairs: Iterable[tuple[int, str]]) -> str:
    """Hash over sorted ``(chunk_id, content_hash)``: equal only if both sides hold the same."""
    digest = hashlib.sha256()
    for chunk_id, chash in sorted(pairs):
        digest.update(f"{chunk_id}:{chash}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a persisted index holds; compared with the database on start."""

    model: str
    dim: int
    count: int  # live vectors: base minus tombstones plus delta
    fingerprint: str
    kind: str = "flat"  # the base segment's kind
    file: str = ""  # the base segment
    delta: str = ""  # delta vectors and tombstones
    format: int = FORMAT


@dataclass(frozen=True, slots=True, eq=False)
class _Base:
    """An immutable segment: a faiss index answering by chunk id, and its sorted ids."""

    index: Any
    kind: str
    token: str  # names the file it is saved in; a new base gets a new token
    ids: np.ndarray

    @classmethod
    def wrap(cls, index: Any, kind: str, token: str | None = None) -> _Base:
        ids = np.sort(faiss.vector_to_array(index.id_map)).astype(np.int64, copy=False)
        return cls(index, kind, token or uuid.uuid4().hex[:16], ids)

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Membership of each of ``ids`` (sorted lookup: a dict of a million ints costs ~100 MB)."""
        if len(self.ids) == 0:
            return np.zeros(len(ids), dtype=bool)
        pos = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return np.asarray(self.ids[pos] == ids)

    def vectors(self) -> np.ndarray:
        """All stored vectors in the order of ``index.id_map``."""
        n = int(self.index.ntotal)
        if n == 0:
            return np.zeros((0, int(self.index.d)), dtype=np.float32)
        return np.asarray(self.index.index.reconstruct_n(0, n), dtype=np.float32)


def _flat(dim: int) -> Any:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _build_base(
    kind: str, dim: int, ids: np.ndarray, vectors: np.ndarray, policy: IndexPolicy
) -> _Base:
    if kind == "flat":
        index = _flat(dim)
    elif kind == "hnsw":
        graph = faiss.IndexHNSWFlat(dim, policy.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = policy.hnsw_ef_construction
        graph.hnsw.efSearch = policy.hnsw_ef_search
        index = faiss.IndexIDMap2(graph)
    else:
        raise ValueError(f"unknown index kind {kind!r}; known: {', '.join(BASE_KINDS)}")
    if len(ids):
        index.add_with_ids(vectors, ids)
    return _Base.wrap(index, kind)


def _kind_of(index: Any) -> str | None:
    if not isinstance(index, faiss.IndexIDMap2):
        return None
    inner = faiss.downcast_index(index.index)
    if isinstance(inner, faiss.IndexHNSWFlat):
        return "hnsw"
    if isinstance(inner, faiss.IndexFlatIP):
        return "flat"
    return None


class VectorIndex:
    """Unit vectors by chunk id. Treat as immutable once shared: change a :meth:`copy`.

    faiss must not search while the same index is being changed, so writers change a
    copy and swap it in; readers keep whichever index they started with. A copy shares
    the (immutable) base and copies only the delta and the tombstones, so it stays cheap
    at any size. Changes may merge or rebuild the base (seconds at 10^5-10^6 vectors):
    call them off the event loop.
    """

    def __init__(self, dim: int, policy: IndexPolicy | None = None) -> None:
        self.dim = dim
        self.policy = policy or IndexPolicy()
        self._base = _build_base("flat", dim, np.zeros(0, np.int64), _empty(dim), self.policy)
        self._dead: set[int] = set()
        self._delta = _flat(dim)
        self._selector: Any = None

    @classmethod
    def _of(
        cls, dim: int, policy: IndexPolicy, base: _Base, dead: set[int], delta: Any
    ) -> VectorIndex:
        index = cls.__new__(cls)
        index.dim, index.policy = dim, policy
        index._base, index._dead, index._delta = base, dead, delta
        index._selector = None
        return index

    def __len__(self) -> int:
        return int(self._base.index.ntotal) - len(self._dead) + int(self._delta.ntotal)

    @property
    def kind(self) -> str:
        """The base segment's kind: ``flat`` (exact) or ``hnsw``."""
        return self._base.kind

    @property
    def tombstones(self) -> int:
        return len(self._dead)

    @property
    def pending(self) -> int:
        """Vectors in the exact delta, waiting to be merged into the base."""
        return int(self._delta.ntotal)

    def copy(self) -> VectorIndex:
        return VectorIndex._of(
            self.dim, self.policy, self._base, set(self._dead), faiss.clone_index(self._delta)
        )

    # -- changes ------------------------------------------------------------------------

    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Add or replace the vectors of ``ids`` (a known id is updated, never duplicated)."""
        id_array = _id_array(ids)
        if len(id_array) == 0:
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(vecs) != len(id_array):
            raise ValueError(f"{len(id_array)} ids for {len(vecs)} vectors")
        if len(np.unique(id_array)) != len(id_array):
            raise ValueError("duplicate ids in one add")
        self._discard(id_array)
        if self._delta.ntotal + len(id_array) <= self.policy.delta_max:
            self._delta.add_with_ids(vecs, id_array)
            self._settle()
        else:
            # A bulk add (an import, a rebuild from the database) goes straight into the
            # base rather than through the delta: one copy of the vectors fewer.
            self._settle((id_array, vecs))

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ``ids``; how many were present."""
        id_array = np.unique(_id_array(ids))
        if len(id_array) == 0:
            return 0
        removed = self._discard(id_array)
        self._settle()
        return removed

    def _discard(self, ids: np.ndarray) -> int:
        removed = int(self._delta.remove_ids(ids)) if self._delta.ntotal else 0
        in_base = ids[self._base.contains(ids)]
        fresh = [int(i) for i in in_base if int(i) not in self._dead]
        if fresh:
            self._dead.update(fresh)
            self._selector = None
        return removed + len(fresh)

    def _settle(self, extra: _Vectors | None = None) -> None:
        """Merge into or rebuild the base when the policy says so (or ``extra`` must go in)."""
        policy, base_n = self.policy, int(self._base.index.ntotal)
        live = len(self) + (len(extra[0]) if extra is not None else 0)
        kind = self.kind
        if kind == "flat" and live >= policy.approximate_from:
            kind = "hnsw"
        elif kind == "hnsw" and live < policy.approximate_from // 2:
            kind = "flat"
        if kind != self.kind or len(self._dead) > policy.tombstone_max * base_n:
            self._rebuild(kind, extra)
        elif extra is not None or self._delta.ntotal > policy.delta_max:
            self._merge(extra)

    def _live(self, extra: _Vectors | None) -> _Vectors:
        """Every live id and vector, plus ``extra``, copied only where parts must be joined."""
        parts: list[_Vectors] = []
        if self._base.index.ntotal:
            ids = faiss.vector_to_array(self._base.index.id_map).astype(np.int64, copy=False)
            vectors = self._base.vectors()
            if self._dead:
                keep = ~np.isin(ids, np.fromiter(self._dead, np.int64, len(self._dead)))
                ids, vectors = ids[keep], vectors[keep]
            parts.append((ids, vectors))
        if self._delta.ntotal:
            parts.append(_contents(self._delta))
        if extra is not None:
            parts.append(extra)
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return np.zeros(0, np.int64), _empty(self.dim)
        return np.concatenate([i for i, _ in parts]), np.concatenate([v for _, v in parts])

    def _rebuild(self, kind: str, extra: _Vectors | None = None) -> None:
        ids, vectors = self._live(extra)
        self._base = _build_base(kind, self.dim, ids, vectors, self.policy)
        self._dead, self._delta, self._selector = set(), _flat(self.dim), None

    def _merge(self, extra: _Vectors | None = None) -> None:
        parts = [_contents(self._delta)] if self._delta.ntotal else []
        if extra is not None:
            parts.append(extra)
        ids = np.concatenate([i for i, _ in parts])
        # An id tombstoned in the base and added again cannot go in twice: rebuild instead.
        if self.kind == "flat" or not self._base.index.ntotal or self._base.contains(ids).any():
            self._rebuild(self.kind, extra)
            return
        # The shared base is never changed in place (readers may be searching it):
        # the graph is copied and the new vectors inserted into the copy, no rebuild.
        merged = faiss.clone_index(self._base.index)
        merged.add_with_ids(np.concatenate([v for _, v in parts]), ids)
        self._base = _Base.wrap(merged, self.kind)
        self._delta = _flat(self.dim)

    # -- reads ------------------------------------------------------------------------

    def ids(self) -> set[int]:
        base = {int(i) for i in self._base.ids} - self._dead
        return base | {int(i) for i in faiss.vector_to_array(self._delta.id_map)}

    def vector(self, chunk_id: int) -> np.ndarray | None:
        """The stored vector of ``chunk_id``, or None if it is not indexed."""
        key = int(chunk_id)
        for index, live in ((self._delta, True), (self._base.index, key not in self._dead)):
            if live and index.ntotal:
                with contextlib.suppress(RuntimeError):
                    return np.asarray(index.reconstruct(key), dtype=np.float32)
        return None

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """For each query row, up to ``k`` ``(chunk_id, cosine)`` best first."""
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = min(k, len(self))
        if k <= 0:
            return [[] for _ in range(len(q))]
        base_live = int(self._base.index.ntotal) - len(self._dead)
        rows = (
            _rows(*self._base.index.search(q, min(k, base_live), params=self._params(k)))
            if base_live > 0
            else [[] for _ in range(len(q))]
        )
        if self._delta.ntotal:
            extra = _rows(*self._delta.search(q, min(k, int(self._delta.ntotal))))
            rows = [
                sorted(a + b, key=lambda hit: -hit[1])[:k] for a, b in zip(rows, extra, strict=True)
            ]
        return rows

    def _params(self, k: int) -> Any:
        # A fresh parameter object per call: faiss's IDMap swaps its selector in place
        # during a search, so sharing one between threads would race.
        selector = self._tombstone_selector()
        if self.kind == "hnsw":
            ef = max(self.policy.hnsw_ef_search, k)
            if selector is None:
                return _params_api.SearchParametersHNSW(efSearch=ef)
            return _params_api.SearchParametersHNSW(efSearch=ef, sel=selector)
        return None if selector is None else _params_api.SearchParameters(sel=selector)

    def _tombstone_selector(self) -> Any:
        if not self._dead:
            return None
        if self._selector is None:
            dead = np.fromiter(self._dead, np.int64, len(self._dead))
            # Built once per state; two threads racing here build equal selectors.
            self._selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(dead))
        return self._selector

    # -- persistence ----------------------------------------------------------------

    def save(self, directory: Path, *, model: str, fingerprint: str) -> Manifest:
        """Write the segments, then point the manifest at them; a crash leaves the old set whole."""
        directory.mkdir(parents=True, exist_ok=True)
        base_name = f"base-{self._base.token}.faiss"
        if not (directory / base_name).exists():
            # Immutable, so written once per base generation however often the delta changes.
            base_index = self._base.index
            _atomic_write_with(directory / base_name, lambda p: faiss.write_index(base_index, p))
        delta_name = f"delta-{self._base.token}-{fingerprint[:16]}.npz"
        delta_ids, delta_vecs = _contents(self._delta)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            ids=delta_ids,
            vectors=delta_vecs,
            dead=np.asarray(sorted(self._dead), dtype=np.int64),
            base=np.asarray(self._base.token),
        )
        _atomic_write(directory / delta_name, buffer.getvalue())
        manifest = Manifest(
            model=model,
            dim=self.dim,
            count=len(self),
            fingerprint=fingerprint,
            kind=self.kind,
            file=base_name,
            delta=delta_name,
        )
        data = json.dumps(asdict(manifest), indent=2, sort_keys=True).encode()
        _atomic_write(directory / MANIFEST, data)
        for pattern in ("*.faiss", "delta-*.npz"):
            for stale in directory.glob(pattern):
                if stale.name not in (base_name, delta_name):
                    with contextlib.suppress(OSError):
                        stale.unlink()
        return manifest

    @classmethod
    def load(
        cls, directory: Path, policy: IndexPolicy | None = None
    ) -> tuple[VectorIndex, Manifest] | None:
        """The persisted index and its manifest, or None if absent, unreadable or inconsistent."""
        try:
            raw = json.loads((directory / MANIFEST).read_text())
            manifest = Manifest(**raw)
            if manifest.format != FORMAT or manifest.kind not in BASE_KINDS:
                return None
            index = faiss.read_index(str(directory / manifest.file))
            with np.load(directory / manifest.delta, allow_pickle=False) as saved:
                delta_ids = np.asarray(saved["ids"], dtype=np.int64)
                delta_vecs = np.asarray(saved["vectors"], dtype=np.float32)
                dead = np.asarray(saved["dead"], dtype=np.int64)
                token = str(saved["base"])
        except (OSError, ValueError, TypeError, RuntimeError, KeyError, zipfile.BadZipFile):
            return None
        dim = manifest.dim
        if (
            _kind_of(index) != manifest.kind
            or index.d != dim
            or manifest.file != f"base-{token}.faiss"
            or delta_vecs.shape != (len(delta_ids), dim)
        ):
            return None
        base = _Base.wrap(index, manifest.kind, token)
        if not base.contains(dead).all() or len(np.unique(dead)) != len(dead):
            return None
        delta = _flat(dim)
        if len(delta_ids):
            delta.add_with_ids(delta_vecs, delta_ids)
        loaded = cls._of(dim, policy or IndexPolicy(), base, {int(i) for i in dead}, delta)
        if len(loaded) != manifest.count:
            return None
        return loaded, manifest


def _id_array(ids: Iterable[int]) -> np.ndarray:
    # An array (a million ids from a rebuild) is taken as it is, not via a Python list.
    return np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=np.int64)


def _empty(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


def _contents(index: Any) -> _Vectors:
    """Ids and vectors of an ``IndexIDMap2`` over a flat index."""
    ids = faiss.vector_to_array(index.id_map).astype(np.int64, copy=False)
    return ids, np.asarray(index.index.reconstruct_n(0, len(ids)), dtype=np.float32)


def _rows(scores: np.ndarray, ids: np.ndarray) -> list[list[tuple[int, float]]]:
    return [
        [(int(i), float(s)) for i, s in zip(id_row, score_row, strict=True) if i >= 0]
        for id_row, score_row in zip(ids, scores, strict=True)
    ]


def _atomic_write(path: Path, data: bytes) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    _atomic_write_with(path, write)


def _atomic_write_with(path: Path, write: Callable[[str], None]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, sync it, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
