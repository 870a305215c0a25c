"""KnowledgeBase writes, search freshness, answers and concurrency, with the real model."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import numpy as np
import pytest
from sqlalchemy import func, select

from omnidesk.config import Settings
from omnidesk.knowledge import (
    ArticleRevision,
    ArticleStatus,
    Chunk,
    Embedder,
    KnowledgeBase,
    ModelUnavailableError,
    QueryBatcher,
)
from tests.knowledge.helpers import article

if TYPE_CHECKING:
    from tests.conftest import Database

UMBRELLA = """\
Umbrellas bought in our shop can be returned within 14 days.

## Refund for a broken umbrella

If the umbrella broke in the first storm, we refund it in full within ten days.

## Umbrella colours

Umbrellas come in red, teal and graphite.
"""


async def chunk_count(db: Database, slug_id: int) -> int:
    async with db.sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Chunk).where(Chunk.article_id == slug_id)
            )
            or 0
        )


async def test_upsert_creates_then_updates_with_revisions(kb: KnowledgeBase, db: Database) -> None:
    created, is_new = await kb.upsert_article(
        article("umbrella", "Umbrella care", UMBRELLA), by="ann"
    )
    assert is_new and created.version == 1 and created.updated_by == "ann"
    assert await chunk_count(db, created.id) == 3

    hits = await kb.search("my umbrella broke in a storm, do I get a refund?")
    assert hits[0].slug == "umbrella"
    assert hits[0].heading == "Refund for a broken umbrella"
    assert hits[0].url.endswith("/kb/umbrella#refund-for-a-broken-umbrella")
    assert hits[0].text.startswith("If the umbrella broke")

    edited = UMBRELLA.replace("red, teal and graphite", "saffron yellow and midnight violet")
    updated, is_new = await kb.upsert_article(
        article("umbrella", "Umbrella care", edited), by="bob"
    )
    assert not is_new and updated.id == created.id and updated.version == 2
    assert updated.updated_by == "bob"

    hits = await kb.search("which colours do umbrellas come in?")
    assert hits[0].text == "Umbrellas come in saffron yellow and midnight violet."
    assert "graphite" not in " ".join(h.text for h in await kb.search("graphite umbrella", k=10))
    async with db.sessionmaker() as session:
        revisions = (
            await session.execute(
                select(ArticleRevision.version, ArticleRevision.changed_by).order_by(
                    ArticleRevision.version
                )
            )
        ).all()
    assert [tuple(r) for r in revisions] == [(1, "ann"), (2, "bob")]


async def test_same_content_again_changes_nothing(kb: KnowledgeBase) -> None:
    first, _ = await kb.upsert_article(article("umbrella", "Umbrella care", UMBRELLA))
    calls = kb.embedder.encode_calls
    again, is_new = await kb.upsert_article(article("umbrella", "Umbrella care", UMBRELLA))
    assert not is_new and again.version == first.version == 1
    assert kb.embedder.encode_calls == calls  # nothing re-embedded


async def test_unchanged_sections_reuse_their_vectors(kb: KnowledgeBase) -> None:
    await kb.upsert_article(article("umbrella", "Umbrella care", UMBRELLA))
    kb.embedder.clear_cache()  # so only the index can supply the unchanged vectors
    texts = kb.embedder.texts_encoded
    edited = UMBRELLA.replace("14 days", "30 days")
    await kb.upsert_article(article("umbrella", "Umbrella care", edited))
    # The one changed passage is embedded; the two unchanged ones keep their vectors.
    assert kb.embedder.texts_encoded == texts + 1
    hits = await kb.search("umbrella return period")
    assert "30 days" in hits[0].text


async def test_draft_has_no_chunks_and_is_not_found(kb: KnowledgeBase, db: Database) -> None:
    draft, _ = await kb.upsert_article(
        article("umbrella", "Umbrella care", UMBRELLA, status=ArticleStatus.DRAFT)
    )
    assert await chunk_count(db, draft.id) == 0
    assert kb.chunk_count == 0
    assert await kb.search("broken umbrella refund") == []

    await kb.upsert_article(article("umbrella", "Umbrella care", UMBRELLA))
    assert (await kb.search("broken umbrella refund"))[0].slug == "umbrella"
    # Back to draft: out of answers at once.
    await kb.upsert_article(
        article("umbrella", "Umbrella care", UMBRELLA, status=ArticleStatus.DRAFT)
    )
    assert await kb.search("broken umbrella refund") == []
    assert [a.slug for a in await kb.list_articles(published_only=True)] == []
    assert [a.slug for a in await kb.list_articles()] == ["umbrella"]


async def test_delete_removes_from_answers_at_once(kb: KnowledgeBase, db: Database) -> None:
    await kb.upsert_article(article("umbrella", "Umbrella care", UMBRELLA))
    await kb.upsert_article(article("parcel", "Where is my parcel", "Use the tracking link."))
    assert await kb.delete_article("umbrella") is True
    assert await kb.delete_article("umbrella") is False
    assert await kb.get_article("umbrella") is None
    assert {h.slug for h in await kb.search("broken umbrella refund", k=10)} == {"parcel"}
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ArticleRevision)) == 1


async def test_answer_quotes_a_passage_or_is_unsure(kb: KnowledgeBase) -> None:
    await kb.upsert_article(article("umbrella", "Umbrella care", UMBRELLA))
    await kb.upsert_article(
        article("parcel", "Track your parcel", "Open the tracking link in your shipping email.")
    )
    answer = await kb.answer("my umbrella broke in the storm, can I get a refund?")
    assert answer.kind == "answer"
    assert answer.best is not None and answer.best.slug == "umbrella"
    assert answer.text == answer.best.text
    assert answer.text in UMBRELLA  # a passage, as written
    # The decision also counts the lead over the next article (ranking.decision_confidence).
    assert answer.confidence >= kb.settings.knowledge.answer_threshold
    assert all(s.slug != "umbrella" for s in answer.suggestions)

    unsure = await kb.answer("who won the football world cup in 1998")
    assert unsure.kind == "unsure"
    assert unsure.text == ""
    assert unsure.confidence < kb.settings.knowledge.answer_threshold
    assert all(s.score >= kb.settings.knowledge.suggest_threshold for s in unsure.suggestions)

    empty = await kb.answer("   ")
    assert empty.kind == "unsure" and empty.best is None and empty.suggestions == []


async def test_follow_up_is_read_with_the_previous_question(kb: KnowledgeBase) -> None:
    body = (
        "## United States\n\nOrders reach US addresses in 2 to 4 business days.\n\n"
        "## Europe\n\nOrders to the EU and the UK arrive in 3 to 6 business days.\n"
    )
    await kb.upsert_article(article("delivery", "Delivery times", body))
    await kb.upsert_article(article("umbrella", "Umbrella care", UMBRELLA))
    alone = await kb.answer("and for Europe?")
    followed = await kb.answer("and for Europe?", previous_question="how long does delivery take?")
    assert followed.query == "how long does delivery take? and for Europe?"
    assert followed.kind == "answer"
    assert followed.best is not None and followed.best.slug == "delivery"
    assert followed.confidence > alone.confidence
    # A full new question stands on its own.
    fresh = await kb.answer(
        "can I get my money back for an umbrella that broke in a storm",
        previous_question="how long does delivery take?",
    )
    assert fresh.query == "can I get my money back for an umbrella that broke in a storm"


async def test_searches_run_while_articles_change(kb: KnowledgeBase) -> None:
    await kb.upsert_article(article("umbrella", "Umbrella care", UMBRELLA))

    async def writer() -> None:
        for i in range(5):
            await kb.upsert_article(article(f"note-{i}", f"Lamp note {i}", f"Lamp tip {i}."))

    async def reader() -> list[str]:
        slugs = []
        for _ in range(10):
            slugs.append((await kb.search("broken umbrella refund"))[0].slug)
        return slugs

    results = await asyncio.gather(writer(), reader(), reader(), reader())
    assert all(slug == "umbrella" for slugs in results[1:] for slug in slugs)
    assert len(await kb.list_articles()) == 6


async def test_query_batcher_gathers_concurrent_queries(embedder: Embedder) -> None:
    batcher = QueryBatcher(embedder, max_batch=8, max_wait=0.02)
    questions = [f"question number {i} about lamps" for i in range(12)]
    vectors = await asyncio.gather(*(batcher.embed_query(q) for q in questions))
    await batcher.aclose()
    assert batcher.batches == 2  # 8 at once when full, the other 4 after the wait
    expected = embedder._model.encode(questions, normalize_embeddings=True)
    np.testing.assert_allclose(np.stack(vectors), expected, atol=1e-5)
    assert all(v.shape == (embedder.dim,) for v in vectors)


async def test_query_batcher_passes_errors_to_every_caller(embedder: Embedder) -> None:
    class Broken(Embedder):
        def __init__(self) -> None:
            self.dim = embedder.dim

        async def aencode(self, texts: object) -> np.ndarray:
            raise RuntimeError("model failed")

    batcher = QueryBatcher(Broken(), max_wait=0.001)
    results = await asyncio.gather(
        batcher.embed_query("a"), batcher.embed_query("b"), return_exceptions=True
    )
    assert [str(r) for r in results] == ["model failed", "model failed"]


def test_embeddings_are_normalised_float32(embedder: Embedder) -> None:
    vecs = embedder.encode(["reset my password", "track my parcel"])
    assert vecs.dtype == np.float32 and vecs.shape == (2, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, embedder.dim)


def test_unknown_model_is_refused_without_downloading() -> None:
    with pytest.raises(ModelUnavailableError, match="never downloads"):
        Embedder("some-org/a-model-that-is-not-here")


def test_repeated_texts_come_from_the_cache(embedder: Embedder) -> None:
    text = "a sentence that no other test embeds, about teal umbrellas"
    first = embedder.encode([text])
    texts = embedder.texts_encoded
    again = embedder.encode([text, text, "another fresh sentence about violet lamps"])
    assert embedder.texts_encoded == texts + 1
    np.testing.assert_array_equal(again[0], first[0])
    np.testing.assert_array_equal(again[1], first[0])


async def test_not_started_is_an_error(
    kb_settings: Settings, db: Database, embedder: Embedder
) -> None:
    base = KnowledgeBase(kb_settings, db.sessionmaker, embedder)
    with pytest.raises(RuntimeError, match="not started"):
        await base.search("anything")
