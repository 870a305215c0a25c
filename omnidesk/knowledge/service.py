"""The knowledge base service: lifecycle, hybrid search, answers with citations, article
writes, import and export."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tqdm import tqdm

from omnidesk.config.settings import Settings
from omnidesk.knowledge import store
from omnidesk.knowledge.answering import Answer, decide, is_follow_up
from omnidesk.knowledge.articles import (
    ArticleInput,
    ArticleNotFoundError,
    input_of,
    to_markdown,
)
from omnidesk.knowledge.chunking import ChunkData, chunk_markdown, question_chunks
from omnidesk.knowledge.embedder import Embedder, QueryBatcher, get_embedder
from omnidesk.knowledge.importers import (
    MARKDOWN_SUFFIXES,
    SUFFIXES,
    ImportFailure,
    ImportReport,
    describe,
    read_articles,
)
from omnidesk.knowledge.index import VectorIndex, fingerprint
from omnidesk.knowledge.models import Article, ArticleRevision, ArticleStatus
from omnidesk.knowledge.questions import article_questions
from omnidesk.knowledge.ranking import DEFAULT_WEIGHTS, RankingWeights
from omnidesk.knowledge.retrieval import SearchHit, Snapshot, depth_for, search_snapshot
from omnidesk.knowledge.store import ArticleFilter, ChunkRecord, WriteMode

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
EMBED_BATCH = 64
# Below this many vectors a search runs inline; above, on a worker thread.
INLINE_SEARCH_MAX = 20_000


class KnowledgeBase:
    """Articles, their passages, and search over them; one per application.

    Lifecycle: ``await start()`` (or ``async with``) loads the model, makes the
    persisted index agree with the database and seeds the sample if configured;
    ``await stop()`` ends it. Searches run concurrently with writes: writers change a
    copy of the indexes under one lock and swap it in.
    """

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        embedder: Embedder | None = None,
        weights: RankingWeights = DEFAULT_WEIGHTS,
    ) -> None:
        self.settings = settings
        self.weights = weights
        self._sessionmaker = sessionmaker
        self._embedder = embedder
        self._batcher: QueryBatcher | None = None
        self._snap: Snapshot | None = None
        self._lock = asyncio.Lock()

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        if self._snap is not None:
            return
        if self._embedder is None:
            name = self.settings.knowledge.embedding_model
            self._embedder = await asyncio.to_thread(get_embedder, name)
        self._batcher = QueryBatcher(self._embedder)
        async with self._lock:
            self._snap = await self._load_or_rebuild()
        if self.settings.knowledge.seed_sample:
            await self.seed_sample_if_empty()

    async def stop(self) -> None:
        if self._batcher is not None:
            await self._batcher.aclose()
        self._batcher = None
        self._snap = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            raise RuntimeError("KnowledgeBase is not started")
        return self._embedder

    @property
    def chunk_count(self) -> int:
        return len(self._snapshot().chunks)

    def _snapshot(self) -> Snapshot:
        if self._snap is None:
            raise RuntimeError("KnowledgeBase is not started")
        return self._snap

    @property
    def _model_name(self) -> str:
        return self.embedder.name

    # -- index consistency ------------------------------------------------------------

    async def _load_or_rebuild(self) -> Snapshot:
        async with self._sessionmaker() as session:
            chunks = await store.published_chunks(session)
        db_fingerprint = fingerprint((c.id, c.content_hash) for c in chunks)
        loaded = await asyncio.to_thread(VectorIndex.load, self.settings.index_dir)
        if loaded is not None:
            vectors, manifest = loaded
            if (
                manifest.fingerprint == db_fingerprint
                and manifest.model == self._model_name
                and manifest.dim == self.embedder.dim
            ):
                log.info("knowledge index loaded: %d passages", len(vectors))
                return await asyncio.to_thread(Snapshot.build, vectors, chunks)
            log.info("knowledge index differs from the database; rebuilding")
        return await self._rebuild(chunks, reuse=None)

    async def _rebuild(self, chunks: Sequence[ChunkRecord], reuse: Snapshot | None) -> Snapshot:
        vectors = VectorIndex(self.embedder.dim)
        vecs = await self._vectors_for([c.text for c in chunks], reuse, progress=False)
        # Past IndexPolicy.approximate_from this builds an HNSW graph: off the event loop.
        await asyncio.to_thread(vectors.add, [c.id for c in chunks], vecs)
        snap = await asyncio.to_thread(Snapshot.build, vectors, chunks)
        await self._persist(snap)
        log.info("knowledge index rebuilt: %d passages", len(vectors))
        return snap

    async def refresh(self) -> bool:
        """Catch up with changes another process made to the database; True if any."""
        async with self._lock:
            current = self._snapshot()
            async with self._sessionmaker() as session:
                chunks = await store.published_chunks(session)
            if fingerprint((c.id, c.content_hash) for c in chunks) == current.fingerprint:
                return False
            self._snap = await self._rebuild(chunks, reuse=current)
            return True

    async def _persist(self, snap: Snapshot) -> None:
        await asyncio.to_thread(
            snap.vectors.save,
            self.settings.index_dir,
            model=self._model_name,
            fingerprint=snap.fingerprint,
        )

    async def _vectors_for(
        self, texts: Sequence[str], reuse: Snapshot | None, *, progress: bool
    ) -> np.ndarray:
        """Vectors of ``texts``, taken from ``reuse`` where it already holds the same text."""
        out = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
        known: dict[str, int] = {}
        if reuse is not None:
            known = {c.text: c.id for c in reuse.chunks.values()}
        todo: list[int] = []
        for i, text in enumerate(texts):
            vec = reuse.vectors.vector(known[text]) if reuse and text in known else None
            if vec is None:
                todo.append(i)
            else:
                out[i] = vec
        with tqdm(total=len(todo), desc="embedding", unit="passage", disable=not progress) as bar:
            for start in range(0, len(todo), EMBED_BATCH):
                batch = todo[start : start + EMBED_BATCH]
                out[batch] = await self.embedder.aencode([texts[i] for i in batch])
                bar.update(len(batch))
        return out

    # -- search -----------------------------------------------------------------------

    def article_url(self, slug: str, anchor: str = "") -> str:
        url = f"{self.settings.base_url()}/kb/{slug}"
        return f"{url}#{anchor}" if anchor else url

    async def _embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        if self._batcher is None:
            raise RuntimeError("KnowledgeBase is not started")
        return await self._batcher.embed_queries(texts)

    async def search(self, question: str, k: int = 5) -> list[SearchHit]:
        """Up to ``k`` published articles for ``question``, best first, each by its best passage.

        Dense (cosine) and lexical (BM25) scores of passages and example questions are
        fused (cosine plus a saturated BM25 term) and an article ranks by its best
        passage and questions (ranking.py); ``score`` is the confidence that it answers,
        and the hits are in its order.
        """
        if not question.strip() or k <= 0:
            return []
        (vec,) = await self._embed_queries([question])
        # The snapshot is taken after the wait, so a finished delete is never returned.
        return await self._rank(self._snapshot(), question, vec, k)

    async def _rank(
        self, snap: Snapshot, question: str, vec: np.ndarray, k: int
    ) -> list[SearchHit]:
        depth = depth_for(k)
        if len(snap.vectors) > INLINE_SEARCH_MAX:
            dense = (await asyncio.to_thread(snap.vectors.search, vec, depth))[0]
        else:
            dense = snap.vectors.search(vec, depth)[0]
        # Passages and example questions, each scored, articles ranked (ranking.py).
        return search_snapshot(snap, question, vec, dense, k, self.article_url, self.weights)

    async def answer(self, question: str, previous_question: str | None = None) -> Answer:
        """The best passage for ``question`` if confident enough, else the articles to offer.

        When another of the top articles is about as confident as the best one (within
        :data:`CLARIFY_MARGIN`) and both clear the answer bar, the answer is a
        ``"clarify"`` offering them instead of a guess.

        A short question after ``previous_question`` ("and for Europe?") is also searched
        together with it; whichever reading finds the more confident passage wins.
        """
        knowledge = self.settings.knowledge
        queries = [question.strip()]
        if previous_question and previous_question.strip() and is_follow_up(question):
            queries.append(f"{previous_question.strip()} {question.strip()}")
        if not queries[0]:
            return Answer("unsure", "", 0.0, None, [], "")
        vecs = await self._embed_queries(queries)
        snap = self._snapshot()
        depth = max(knowledge.top_k, 1) + 1
        best_query, hits = queries[0], await self._rank(snap, queries[0], vecs[0], depth)
        for query, vec in zip(queries[1:], vecs[1:], strict=True):
            other = await self._rank(snap, query, vec, depth)
            if other and (not hits or other[0].score > hits[0].score):
                best_query, hits = query, other
        return decide(hits, best_query, knowledge, self.weights)

    # -- articles ---------------------------------------------------------------------

    async def get_article(self, slug: str) -> Article | None:
        async with self._sessionmaker() as session:
            return await store.article_by_slug(session, slug)

    async def list_articles(self, *, published_only: bool = False) -> list[Article]:
        async with self._sessionmaker() as session:
            return await store.list_articles(session, published_only=published_only)

    async def find_articles(self, where: ArticleFilter) -> list[Article]:
        """Articles matching a filter, without their bodies (see :class:`ArticleFilter`)."""
        async with self._sessionmaker() as session:
            return await store.find_articles(session, where)

    async def categories(self) -> list[str]:
        async with self._sessionmaker() as session:
            return await store.categories(session)

    async def revisions(self, slug: str) -> tuple[Article, list[ArticleRevision]]:
        """The article and its revisions, newest first; :class:`ArticleNotFoundError`."""
        async with self._sessionmaker() as session:
            article = await store.article_by_slug(session, slug)
            if article is None:
                raise ArticleNotFoundError(f"no article with slug {slug!r}")
            return article, await store.revisions(session, article.id)

    def _chunks_of(self, data: ArticleInput) -> list[ChunkData]:
        """Passages of the body, then one chunk per example question."""
        if data.status != ArticleStatus.PUBLISHED:
            return []
        passages = chunk_markdown(
            data.title,
            data.body,
            max_words=self.settings.knowledge.chunk_max_words,
            overlap_words=self.settings.knowledge.chunk_overlap_words,
        )
        if not passages:
            return []  # nothing to quote: its questions would find an empty answer
        questions = article_questions(data.questions, data.body)
        return passages + question_chunks(questions, len(passages))

    async def upsert_article(
        self, data: ArticleInput, by: str | None = None
    ) -> tuple[Article, bool]:
        """Create or update the article ``data.slug``; ``(article, created)``.

        A change bumps the version, records a revision and replaces the article's
        passages in the indexes at once (no rebuild). Drafts have no passages.
        """
        results, errors = await self._write([(data.slug, data)], by, progress=False)
        if errors:
            raise errors[0][1]
        result = results[0]
        return result.article, result.outcome == "created"

    async def create_article(self, data: ArticleInput, by: str | None = None) -> Article:
        """Create a new article; :class:`ArticleConflictError` if the slug is taken."""
        return await self._write_single(data, by, mode="create")

    async def update_article(
        self,
        slug: str,
        data: ArticleInput,
        by: str | None = None,
        *,
        expected_version: int | None = None,
    ) -> Article:
        """Replace article ``slug`` with ``data`` (``data.slug`` may rename it).

        :class:`ArticleNotFoundError` if there is none; :class:`ArticleConflictError` if
        the new slug is taken or the article is no longer at ``expected_version``.
        Either way nothing is written. The indexes follow at once.
        """
        return await self._write_single(
            data, by, mode="update", slug=slug, expected_version=expected_version
        )

    async def _write_single(
        self,
        data: ArticleInput,
        by: str | None,
        *,
        mode: WriteMode,
        slug: str | None = None,
        expected_version: int | None = None,
    ) -> Article:
        results, errors = await self._write(
            [(data.slug, data)],
            by,
            progress=False,
            mode=mode,
            slug=slug,
            expected_version=expected_version,
        )
        if errors:
            raise errors[0][1]
        return results[0].article

    async def delete_article(self, slug: str) -> bool:
        """Delete an article; it leaves search results at once. False if there was none."""
        async with self._lock:
            async with self._sessionmaker() as session, session.begin():
                removed = await store.delete_article(session, slug)
            if removed is None:
                return False
            await self._swap(removed, [], np.zeros((0, self.embedder.dim), np.float32))
            return True

    async def import_path(
        self, path: Path | str, progress: bool = True, *, suffixes: tuple[str, ...] = SUFFIXES
    ) -> ImportReport:
        """Import a file or a folder of them; re-importing updates articles by slug.

        Formats: Markdown with front matter (as in the sample), HTML pages (main text
        extracted, title from ``<h1>`` or ``<title>``), and CSV or JSON question/answer
        pairs (one article per pair). A file, or a row of one, that cannot be read,
        parsed or stored becomes an error entry naming it; the rest still import.
        Embeddings are computed in batches for the whole import, and the index is
        written once at the end. In a folder, only files ending in ``suffixes`` are read.
        """
        root = Path(path)
        parsed, failures = await asyncio.to_thread(
            read_articles, root, progress=progress, suffixes=suffixes
        )
        by_slug: dict[str, str] = {}
        items: list[tuple[str, ArticleInput]] = []
        for source, data in parsed:
            if data.slug in by_slug:
                failures.append(
                    ImportFailure(
                        source, f"slug {data.slug!r} is also used by {by_slug[data.slug]}"
                    )
                )
                continue
            by_slug[data.slug] = source
            items.append((source, data))
        results, errors = await self._write(items, by="import", progress=progress)
        failures.extend(ImportFailure(source, describe(exc)) for source, exc in errors)
        outcomes: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
        for result in results:
            key = "updated" if result.outcome == "rechunked" else result.outcome
            outcomes[key].append(result.article.slug)
        return ImportReport(
            created=tuple(outcomes["created"]),
            updated=tuple(outcomes["updated"]),
            unchanged=tuple(outcomes["unchanged"]),
            errors=tuple(sorted(failures, key=lambda f: f.path)),
        )

    async def export_to(self, directory: Path | str) -> list[Path]:
        """Write every article (drafts too) as ``<slug>.md`` with front matter into
        ``directory``; importing the folder again changes nothing."""
        folder = Path(directory)
        articles = await self.list_articles()

        def write() -> list[Path]:
            folder.mkdir(parents=True, exist_ok=True)
            written = []
            for article in articles:
                path = folder / f"{article.slug}.md"
                path.write_text(to_markdown(input_of(article)), encoding="utf-8")
                written.append(path)
            return written

        return await asyncio.to_thread(write)

    async def seed_sample_if_empty(self) -> int:
        """Import the packaged sample when there is no article at all; how many were created."""
        async with self._sessionmaker() as session:
            if await store.count_articles(session):
                return 0
        # The sample folder also holds eval.csv, which is questions, not articles.
        report = await self.import_path(SAMPLE_DIR, progress=False, suffixes=MARKDOWN_SUFFIXES)
        for failure in report.errors:
            log.warning("sample article %s not imported: %s", failure.path, failure.error)
        return len(report.created)

    async def _write(
        self,
        items: Sequence[tuple[str, ArticleInput]],
        by: str | None,
        *,
        progress: bool,
        mode: WriteMode = "upsert",
        slug: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[list[store.WriteResult], list[tuple[str, Exception]]]:
        """Store articles one transaction each, then update the indexes and persist once.

        A database error on one article is returned with its source and the others are
        still stored; a refusal (:class:`KnowledgeError`) is raised.
        """
        self._snapshot()
        chunked = [(source, data, self._chunks_of(data)) for source, data in items]
        texts = [c.text for _, _, chunks in chunked for c in chunks]
        vecs = await self._vectors_for(texts, self._snap, progress=progress)
        vector_of = {text: vecs[i] for i, text in enumerate(texts)}

        results: list[store.WriteResult] = []
        errors: list[tuple[str, Exception]] = []
        async with self._lock:
            try:
                for source, data, chunks in tqdm(
                    chunked, desc="storing", unit="article", disable=not progress
                ):
                    try:
                        results.append(
                            await self._write_one(
                                data,
                                chunks,
                                by,
                                mode=mode,
                                slug=slug,
                                expected_version=expected_version,
                            )
                        )
                    except SQLAlchemyError as exc:
                        log.warning("article %s not stored: %s", source, exc)
                        errors.append((source, exc))
            finally:
                # Whatever was committed goes into the indexes, even if a later write failed.
                removed = [i for r in results for i in r.removed]
                added = [c for r in results for c in r.added]
                if removed or added:
                    matrix = np.stack([vector_of[c.text] for c in added]) if added else None
                    await self._swap(removed, added, matrix)
        return results, errors

    async def _write_one(
        self,
        data: ArticleInput,
        chunks: Sequence[ChunkData],
        by: str | None,
        *,
        mode: WriteMode,
        slug: str | None,
        expected_version: int | None,
    ) -> store.WriteResult:
        for attempt in (1, 2):
            try:
                async with self._sessionmaker() as session, session.begin():
                    return await store.write_article(
                        session,
                        data,
                        chunks,
                        by,
                        mode=mode,
                        slug=slug,
                        expected_version=expected_version,
                    )
            except IntegrityError:
                # Another process created the same slug between our read and insert:
                # the second attempt finds it and updates it.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _swap(
        self, removed: Sequence[int], added: Sequence[ChunkRecord], vectors: np.ndarray | None
    ) -> None:
        """Apply a change to a copy of the indexes, make it current, persist it. Lock held."""
        current = self._snapshot()

        def change() -> VectorIndex:
            # Usually a cheap delta update, but it may merge into or rebuild the HNSW
            # graph (seconds at 10^5+ passages): run it off the event loop.
            changed = current.vectors.copy()
            changed.remove(removed)
            if added and vectors is not None:
                changed.add([c.id for c in added], vectors)
            return changed

        new_vectors = await asyncio.to_thread(change)
        chunks = dict(current.chunks)
        for chunk_id in removed:
            chunks.pop(chunk_id, None)
        chunks.update((c.id, c) for c in added)
        # BM25 is rebuilt whole (seconds at 100k passages): off the event loop.
        snap = await asyncio.to_thread(Snapshot.build, new_vectors, list(chunks.values()))
        self._snap = snap
        await self._persist(snap)
