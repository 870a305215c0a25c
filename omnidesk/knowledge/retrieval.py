"""What a search reads (one immutable snapshot of both indexes) and how it turns a
question's vector into ranked articles with their best passage."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from omnidesk.knowledge.index import VectorIndex, fingerprint
from omnidesk.knowledge.lexical import LexicalIndex
from omnidesk.knowledge.ranking import (
    DEFAULT_WEIGHTS,
    ArticleScore,
    Candidate,
    RankingWeights,
    article_confidence,
    rank_articles,
)
from omnidesk.knowledge.store import ChunkRecord

# Each side is asked for at least this many chunks: with example questions indexed, one
# article may take many places near the top, and the others still need to be seen.
MIN_DEPTH = 64


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
    score: float  # confidence that this article answers the question, 0..1; hits are in its order
    dense_score: float  # cosine similarity of question and passage
    lexical_score: float  # BM25 of the passage, 0 when no word matched
    raw_score: float = 0.0  # the ranking score on the cosine scale, before clipping
    question: str | None = None  # the article's example question closest to the one asked
    question_score: float = 0.0  # cosine of the asked question and that example question


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a search reads, replaced whole on every change (copy-on-write)."""

    vectors: VectorIndex
    lexical: LexicalIndex
    chunks: Mapping[int, ChunkRecord]
    fingerprint: str = field(default="")
    passages_of: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, vectors: VectorIndex, chunks: Iterable[ChunkRecord]) -> Snapshot:
        by_id = {c.id: c for c in chunks}
        passages: dict[int, list[int]] = {}
        for chunk in by_id.values():
            if not chunk.is_question:
                passages.setdefault(chunk.article_id, []).append(chunk.id)
        return cls(
            vectors=vectors,
            lexical=LexicalIndex((c.id, c.text) for c in by_id.values()),
            chunks=by_id,
            fingerprint=fingerprint((c.id, c.content_hash) for c in by_id.values()),
            passages_of={a: tuple(ids) for a, ids in passages.items()},
        )

    @property
    def question_count(self) -> int:
        return sum(1 for c in self.chunks.values() if c.is_question)


def depth_for(k: int) -> int:
    """How many chunks each side is asked for when ``k`` articles are wanted."""
    return max(8 * k, MIN_DEPTH)


def candidates(
    snap: Snapshot,
    vec: np.ndarray,
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
) -> list[Candidate]:
    """Chunks either side found, then every passage of the articles they belong to (so
    that an article found by one of its questions still has its best passage scored)."""
    cosine = dict(dense)
    bm25 = dict(lexical)
    out: list[Candidate] = []
    seen: set[int] = set()
    articles: list[int] = []

    def add(chunk_id: int) -> None:
        chunk = snap.chunks.get(chunk_id)
        if chunk is None or chunk_id in seen:
            return
        seen.add(chunk_id)
        cos = cosine.get(chunk_id)
        if cos is None:
            stored = snap.vectors.vector(chunk_id)
            cos = float(stored @ vec) if stored is not None else 0.0
        out.append(
            Candidate(chunk_id, chunk.article_id, chunk.is_question, cos, bm25.get(chunk_id, 0.0))
        )
        if chunk.article_id not in articles:
            articles.append(chunk.article_id)

    for chunk_id, _ in [*dense, *lexical]:
        add(chunk_id)
    for article_id in list(articles):
        for chunk_id in snap.passages_of.get(article_id, ()):
            add(chunk_id)
    return out


def to_hits(
    snap: Snapshot,
    ranked: list[ArticleScore],
    k: int,
    url_of: Callable[[str, str], str],
) -> list[SearchHit]:
    """The first ``k`` ranked articles that have a passage to quote, as hits."""
    hits: list[SearchHit] = []
    for scored in ranked:
        if scored.passage is None:
            continue  # a published article always has a passage; a racing delete may not
        chunk = snap.chunks[scored.passage.chunk_id]
        question = snap.chunks.get(scored.question.chunk_id) if scored.question else None
        hits.append(
            SearchHit(
                article_id=chunk.article_id,
                slug=chunk.slug,
                title=chunk.title,
                heading=chunk.heading,
                anchor=chunk.anchor,
                text=chunk.body,
                url=url_of(chunk.slug, chunk.anchor),
                score=round(article_confidence(scored.score), 4),
                dense_score=round(scored.passage.cosine, 4),
                lexical_score=round(scored.passage.bm25, 4),
                raw_score=round(scored.score, 4),
                question=question.text if question else None,
                question_score=round(scored.question.cosine, 4) if scored.question else 0.0,
            )
        )
        if len(hits) == k:
            break
    return hits


def search_snapshot(
    snap: Snapshot,
    question: str,
    vec: np.ndarray,
    dense: list[tuple[int, float]],
    k: int,
    url_of: Callable[[str, str], str],
    weights: RankingWeights = DEFAULT_WEIGHTS,
) -> list[SearchHit]:
    """Up to ``k`` articles for ``question`` (its vector ``vec``, and the dense side's
    ``depth_for(k)`` nearest chunks ``dense``), best first."""
    lexical = snap.lexical.search(question, depth_for(k))
    ranked = rank_articles(candidates(snap, vec, dense, lexical), weights)
    return to_hits(snap, ranked, k, url_of)
