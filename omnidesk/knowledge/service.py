"""The knowledge base service: lifecycle, hybrid search, answers with citations, article writes."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import numpy as np
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tqdm import tqdm

from omnidesk.config.settings import Settings
from omnidesk.knowledge import store
from omnidesk.knowledge.articles import ArticleFormatError, ArticleInput, parse_markdown_article
from omnidesk.knowledge.chunking import ChunkData, chunk_markdown
from omnidesk.knowledge.embedder import Embedder, QueryBatcher, get_embedder
from omnidesk.knowledge.fusion import confidence, reciprocal_rank_fusion
from omnidesk.knowledge.index import VectorIndex, fingerprint
from omnidesk.knowledge.lexical import LexicalIndex
from omnidesk.knowledge.models import Article, ArticleStatus
from omnidesk.knowledge.store import ChunkRecord

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
EMBED_BATCH = 64
# Below this many vectors a search runs inline; above, on a worker thread.
INLINE_SEARCH_MAX = 20_000
# A question this short after another one is read as a follow-up ("and for Europe?").
FOLLOW_UP_MAX_WORDS = 5
_FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|same for)\b", re.I)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One article found for a question, represented by its best passage."""

    article_id: int
    slug: str
    title: str
    heading: str
    anchor: str
    text: str  # the passage, Markdown, without the "Title — Heading" prefix
    url: str  # the article page, with #anchor of the passage's section
    score: float  # confidence that this passage answers the question, 0..1
    dense_score: float  # cosine similarity of question and passage
    lexical_score: float  # BM25 of the passage, 0 when no word matched


@dataclass(frozen=True, slots=True)
class Answer:
    """What the knowledge base says to a question.

    ``kind == "answer"``: ``text`` is ``best``'s passage, quoted as written, and
    ``suggestions`` are other articles worth offering. ``kind == "unsure"``: ``text`` is
    empty and ``suggestions`` are the articles to offer as choices (possibly none);
    ``best`` is still the top hit, if any, for logging and hand-off context.
    """

    kind: Literal["answer", "unsure"]
    text: str
    confidence: float
    best: SearchHit | None
    suggestions: list[SearchHit]
    query: str = ""  # the text actually searched (question plus previous one for a follow-up)


@dataclass(frozen=True, slots=True)
class ImportFailure:
    path: str
    error: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Slugs per outcome of an import, and one entry per file that could not be imported."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    errors: tuple[ImportFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        lines = [
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.errors)} failed"
        ]
        lines.extend(f"  {failure.path}: {failure.error}" for failure in self.errors)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """Everything a search reads, replaced whole on every change (copy-on-write)."""

    vectors: VectorIndex
    lexical: LexicalIndex
    chunks: Mapping[int, ChunkRecord]
    fingerprint: str = field(default="")

    @classmethod
    def build(cls, vectors: VectorIndex, chunks: Iterable[ChunkRecord]) -> _Snapshot:
        by_id = {c.id: c for c in chunks}
        return cls(
            vectors=vectors,
            lexical=LexicalIndex((c.id, c.text) for c in by_id.values()),
            chunks=by_id,
            fingerprint=fingerprint((c.id, c.content_hash) for c in by_id.values()),
        )


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
    ) -> None:
        self.settings = settings
        self._sessionmaker = sessionmaker
        self._embedder = embedder
        self._batcher: QueryBatcher | None = None
        self._snap: _Snapshot | None = None
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

    def _snapshot(self) -> _Snapshot:
        if self._snap is None:
            raise RuntimeError("KnowledgeBase is not started")
        return self._snap

    @property
    def _model_name(self) -> str:
        return self.embedder.name

    # -- index consistency ------------------------------------------------------------

    async def _load_or_rebuild(self) -> _Snapshot:
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
                return _Snapshot.build(vectors, chunks)
            log.info("knowledge index differs from the database; rebuilding")
        return await self._rebuild(chunks, reuse=None)

    async def _rebuild(self, chunks: Sequence[ChunkRecord], reuse: _Snapshot | None) -> _Snapshot:
        vectors = VectorIndex(self.embedder.dim)
        vecs = await self._vectors_for([c.text for c in chunks], reuse, progress=False)
        vectors.add([c.id for c in chunks], vecs)
        snap = _Snapshot.build(vectors, chunks)
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

    async def _persist(self, snap: _Snapshot) -> None:
        await asyncio.to_thread(
            snap.vectors.save,
            self.settings.index_dir,
            model=self._model_name,
            fingerprint=snap.fingerprint,
        )

    async def _vectors_for(
        self, texts: Sequence[str], reuse: _Snapshot | None, *, progress: bool
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

        Dense (cosine) and lexical (BM25) rankings of passages are fused by reciprocal
        rank; ``score`` is the confidence that the passage answers the question.
        """
        if not question.strip() or k <= 0:
            return []
        (vec,) = await self._embed_queries([question])
        # The snapshot is taken after the wait, so a finished delete is never returned.
        return await self._rank(self._snapshot(), question, vec, k)

    async def _rank(
        self, snap: _Snapshot, question: str, vec: np.ndarray, k: int
    ) -> list[SearchHit]:
        depth = max(8 * k, 40)
        if len(snap.vectors) > INLINE_SEARCH_MAX:
            dense = (await asyncio.to_thread(snap.vectors.search, vec, depth))[0]
        else:
            dense = snap.vectors.search(vec, depth)[0]
        lexical = snap.lexical.search(question, depth)
        dense_of = dict(dense)
        lexical_of = dict(lexical)
        fused = reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in lexical]])

        hits: list[SearchHit] = []
        seen: set[int] = set()
        for chunk_id, _ in fused:
            chunk = snap.chunks.get(chunk_id)
            if chunk is None or chunk.article_id in seen:
                continue
            seen.add(chunk.article_id)
            cosine = dense_of.get(chunk_id)
            if cosine is None:
                stored = snap.vectors.vector(chunk_id)
                cosine = float(stored @ vec) if stored is not None else 0.0
            hits.append(
                SearchHit(
                    article_id=chunk.article_id,
                    slug=chunk.slug,
                    title=chunk.title,
                    heading=chunk.heading,
                    anchor=chunk.anchor,
                    text=chunk.body,
                    url=self.article_url(chunk.slug, chunk.anchor),
                    score=round(confidence(cosine), 4),
                    dense_score=round(cosine, 4),
                    lexical_score=round(lexical_of.get(chunk_id, 0.0), 4),
                )
            )
            if len(hits) == k:
                break
        return hits

    async def answer(self, question: str, previous_question: str | None = None) -> Answer:
        """The best passage for ``question`` if confident enough, else the articles to offer.

        A short question after ``previous_question`` ("and for Europe?") is also searched
        together with it; whichever reading finds the more confident passage wins.
        """
        knowledge = self.settings.knowledge
        queries = [question.strip()]
        if previous_question and previous_question.strip() and _is_follow_up(question):
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
        if not hits:
            return Answer("unsure", "", 0.0, None, [], best_query)
        best = hits[0]
        if best.score >= knowledge.answer_threshold:
            related = [h for h in hits[1:] if h.score >= knowledge.suggest_threshold]
            return Answer(
                "answer", best.text, best.score, best, related[: knowledge.top_k], best_query
            )
        offered = [h for h in hits if h.score >= knowledge.suggest_threshold]
        return Answer("unsure", "", best.score, best, offered[: knowledge.top_k], best_query)

    # -- articles ---------------------------------------------------------------------

    async def get_article(self, slug: str) -> Article | None:
        async with self._sessionmaker() as session:
            return await store.article_by_slug(session, slug)

    async def list_articles(self, *, published_only: bool = False) -> list[Article]:
        async with self._sessionmaker() as session:
            return await store.list_articles(session, published_only=published_only)

    def _chunks_of(self, data: ArticleInput) -> list[ChunkData]:
        if data.status != ArticleStatus.PUBLISHED:
            return []
        return chunk_markdown(
            data.title,
            data.body,
            max_words=self.settings.knowledge.chunk_max_words,
            overlap_words=self.settings.knowledge.chunk_overlap_words,
        )

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

    async def delete_article(self, slug: str) -> bool:
        """Delete an article; it leaves search results at once. False if there was none."""
        async with self._lock:
            async with self._sessionmaker() as session, session.begin():
                removed = await store.delete_article(session, slug)
            if removed is None:
                return False
            await self._swap(removed, [], np.zeros((0, self.embedder.dim), np.float32))
            return True

    async def import_path(self, path: Path | str, progress: bool = True) -> ImportReport:
        """Import a Markdown file or a folder of them (front matter as in the sample).

        A file that cannot be read, parsed or stored becomes an error entry naming it;
        the rest still import. Embeddings are computed in batches for the whole import,
        and the index is written once at the end.
        """
        root = Path(path)
        parsed, failures = await asyncio.to_thread(_read_articles, root)
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
        failures.extend(ImportFailure(source, _describe(exc)) for source, exc in errors)
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

    async def seed_sample_if_empty(self) -> int:
        """Import the packaged sample when there is no article at all; how many were created."""
        async with self._sessionmaker() as session:
            if await store.count_articles(session):
                return 0
        report = await self.import_path(SAMPLE_DIR, progress=False)
        for failure in report.errors:
            log.warning("sample article %s not imported: %s", failure.path, failure.error)
        return len(report.created)

    async def _write(
        self, items: Sequence[tuple[str, ArticleInput]], by: str | None, *, progress: bool
    ) -> tuple[list[store.WriteResult], list[tuple[str, Exception]]]:
        """Store articles one transaction each, then update the indexes and persist once."""
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
                        results.append(await self._write_one(data, chunks, by))
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
        self, data: ArticleInput, chunks: Sequence[ChunkData], by: str | None
    ) -> store.WriteResult:
        for attempt in (1, 2):
            try:
                async with self._sessionmaker() as session, session.begin():
                    return await store.write_article(session, data, chunks, by)
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
        new_vectors = current.vectors.copy()
        new_vectors.remove(removed)
        if added and vectors is not None:
            new_vectors.add([c.id for c in added], vectors)
        chunks = dict(current.chunks)
        for chunk_id in removed:
            chunks.pop(chunk_id, None)
        chunks.update((c.id, c) for c in added)
        snap = _Snapshot.build(new_vectors, chunks.values())
        self._snap = snap
        await self._persist(snap)


def _is_follow_up(question: str) -> bool:
    words = question.split()
    return len(words) <= FOLLOW_UP_MAX_WORDS or bool(_FOLLOW_UP_START.match(question))


def _describe(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _read_articles(root: Path) -> tuple[list[tuple[str, ArticleInput]], list[ImportFailure]]:
    """Parse every ``.md`` file under ``root`` (or ``root`` itself); failures by file."""
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(
            p
            for p in root.rglob("*.md")
            if not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
    else:
        return [], [ImportFailure(str(root), "no such file or folder")]
    parsed: list[tuple[str, ArticleInput]] = []
    failures: list[ImportFailure] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
            parsed.append((str(file), parse_markdown_article(text, fallback_slug=file.stem)))
        except (OSError, UnicodeDecodeError, ArticleFormatError) as exc:
            failures.append(ImportFailure(str(file), _describe(exc)))
    return parsed, failures
