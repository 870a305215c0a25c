"""The dense side: a faiss index keyed by chunk id, persisted atomically with a manifest."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

MANIFEST = "manifest.json"
FORMAT = 1

# The seam for index types: a factory takes the dimension and returns an empty index that
# accepts ``add_with_ids`` and ``remove_ids`` on int64 ids and scores by inner product.
# Exact search is right up to some 10^5 chunks; beyond that an IVF index (removal
# supported, needs training) wrapped in IndexIDMap2 belongs here. HNSW cannot remove
# ids, so it would need tombstones and periodic rebuilds.
IndexFactory = Callable[[int], Any]


def exact_index(dim: int) -> Any:
    """Brute-force inner product (cosine on unit vectors), ids kept by an ID map."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


INDEX_KINDS: dict[str, IndexFactory] = {"flat": exact_index}


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
    count: int
    fingerprint: str
    kind: str = "flat"
    file: str = ""
    format: int = FORMAT


class VectorIndex:
    """Unit vectors by chunk id. Treat as immutable once shared: change a :meth:`copy`.

    faiss must not search while the same index is being changed, so writers change a
    copy and swap it in; readers keep whichever index they started with.
    """

    def __init__(self, dim: int, kind: str = "flat", *, _index: Any = None) -> None:
        if kind not in INDEX_KINDS:
            raise ValueError(f"unknown index kind {kind!r}; known: {', '.join(INDEX_KINDS)}")
        self.dim = dim
        self.kind = kind
        self._index = _index if _index is not None else INDEX_KINDS[kind](dim)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def copy(self) -> VectorIndex:
        return VectorIndex(self.dim, self.kind, _index=faiss.clone_index(self._index))

    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        id_array = np.asarray(list(ids), dtype=np.int64)
        if len(id_array) == 0:
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(vecs) != len(id_array):
            raise ValueError(f"{len(id_array)} ids for {len(vecs)} vectors")
        self._index.add_with_ids(vecs, id_array)

    def remove(self, ids: Iterable[int]) -> int:
        id_array = np.asarray(list(ids), dtype=np.int64)
        if len(id_array) == 0:
            return 0
        return int(self._index.remove_ids(id_array))

    def ids(self) -> set[int]:
        return {int(i) for i in faiss.vector_to_array(self._index.id_map)}

    def vector(self, chunk_id: int) -> np.ndarray | None:
        """The stored vector of ``chunk_id``, or None if it is not indexed."""
        try:
            return np.asarray(self._index.reconstruct(int(chunk_id)), dtype=np.float32)
        except RuntimeError:
            return None

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """For each query row, up to ``k`` ``(chunk_id, cosine)`` best first."""
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = min(k, len(self))
        if k <= 0:
            return [[] for _ in range(len(q))]
        scores, ids = self._index.search(q, k)
        return [
            [(int(i), float(s)) for i, s in zip(id_row, score_row, strict=True) if i >= 0]
            for id_row, score_row in zip(ids, scores, strict=True)
        ]

    # -- persistence ----------------------------------------------------------------

    def save(self, directory: Path, *, model: str, fingerprint: str) -> Manifest:
        """Write the index, then point the manifest at it; a crash leaves the old pair whole."""
        directory.mkdir(parents=True, exist_ok=True)
        name = f"vectors-{fingerprint[:16]}.faiss"
        _atomic_write(directory / name, faiss.serialize_index(self._index).tobytes())
        manifest = Manifest(
            model=model,
            dim=self.dim,
            count=len(self),
            fingerprint=fingerprint,
            kind=self.kind,
            file=name,
        )
        data = json.dumps(asdict(manifest), indent=2, sort_keys=True).encode()
        _atomic_write(directory / MANIFEST, data)
        for stale in directory.glob("vectors-*.faiss"):
            if stale.name != name:
                with contextlib.suppress(OSError):
                    stale.unlink()
        return manifest

    @classmethod
    def load(cls, directory: Path) -> tuple[VectorIndex, Manifest] | None:
        """The persisted index and its manifest, or None if absent, unreadable or inconsistent."""
        try:
            raw = json.loads((directory / MANIFEST).read_text())
            manifest = Manifest(**raw)
            if manifest.format != FORMAT or manifest.kind not in INDEX_KINDS:
                return None
            data = np.fromfile(directory / manifest.file, dtype=np.uint8)
            index = faiss.deserialize_index(data)
        except (OSError, ValueError, TypeError, RuntimeError):
            return None
        if index.d != manifest.dim or index.ntotal != manifest.count:
            return None
        return cls(manifest.dim, manifest.kind, _index=index), manifest


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
