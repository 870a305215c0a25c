"""Example questions in the knowledge base: stored as chunks of their own, found by
paraphrase, scored for their article, never quoted as the answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from omnidesk.config import Settings
from omnidesk.knowledge import ArticleInput, Chunk, Embedder, KnowledgeBase
from omnidesk.knowledge.models import Article

if TYPE_CHECKING:
    from tests.conftest import Database

# An answer that shares few words with the ways customers ask for it.
SWALLOWED = ArticleInput(
    slug="card-retained",
    title="Card retained by a cash machine",
    body=(
        "Cards kept by a machine are destroyed by the machine's operator for security.\n\n"
        "## What to do\n\n1. Freeze the card in the app.\n2. Order a replacement.\n\n"
        "## Questions customers ask\n\n- the atm ate my card\n- machine swallowed my card\n"
    ),
    questions=("the cash point kept my card",),
)
FROZEN = ArticleInput(
    slug="freeze-card",
    title="Freezing your card",
    body="Freeze the card in the app under Cards, then Freeze. Unfreeze it the same way.\n",
)


async def kinds(db: Database, slug: str) -> list[tuple[str, str]]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            select(Chunk.kind, Chunk.text)
            .join(Article, Article.id == Chunk.article_id)
            .where(Article.slug == slug)
            .order_by(Chunk.ordinal)
        )
        return [(k, t) for k, t in rows.tuples()]


async def test_each_question_is_a_chunk_of_its_own(kb: KnowledgeBase, db: Database) -> None:
    await kb.upsert_article(SWALLOWED)
    stored = await kinds(db, "card-retained")
    assert [k for k, _ in stored] == ["passage", "passage", "question", "question", "question"]
    assert [t for k, t in stored if k == "question"] == [
        "the cash point kept my card",
        "the atm ate my card",
        "machine swallowed my card",
    ]
    async with db.sessionmaker() as session:
        art = await session.scalar(select(Article).where(Article.slug == "card-retained"))
        assert art is not None and art.questions == ["the cash point kept my card"]


async def test_a_paraphrase_of_a_question_finds_the_article_and_quotes_a_passage(
    kb: KnowledgeBase,
) -> None:
    await kb.upsert_article(SWALLOWED)
    await kb.upsert_article(FROZEN)
    hits = await kb.search("the ATM swallowed my card and did not give it back")
    assert hits[0].slug == "card-retained"
    assert hits[0].question in {"machine swallowed my card", "the atm ate my card"}
    assert hits[0].question_score > hits[0].dense_score
    assert "atm ate" not in hits[0].text and hits[0].text in SWALLOWED.body
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_changed_questions_replace_their_chunks(kb: KnowledgeBase, db: Database) -> None:
    await kb.upsert_article(FROZEN)
    before = kb.chunk_count
    changed = ArticleInput(
        slug=FROZEN.slug, title=FROZEN.title, body=FROZEN.body, questions=("lock my card",)
    )
    article, created = await kb.upsert_article(changed)
    assert not created and article.version == 2
    assert kb.chunk_count == before + 1
    assert (await kinds(db, "freeze-card"))[-1] == ("question", "lock my card")
    hits = await kb.search("how can I lock my card")
    assert hits[0].slug == "freeze-card" and hits[0].question == "lock my card"


async def test_questions_survive_a_restart_from_the_persisted_index(
    kb_settings: Settings, db: Database, embedder: Embedder
) -> None:
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as first:
        await first.upsert_article(SWALLOWED)
        count = first.chunk_count
    async with KnowledgeBase(kb_settings, db.sessionmaker, embedder) as again:
        assert again.chunk_count == count
        hits = await again.search("machine kept my card")
        assert hits[0].slug == "card-retained" and hits[0].question is not None


async def test_drafts_index_no_questions(kb: KnowledgeBase) -> None:
    draft = ArticleInput(
        slug="d",
        title="Draft",
        body="Text.\n",
        questions=("q?",),
        status="draft",  # type: ignore[arg-type]
    )
    await kb.upsert_article(draft)
    assert kb.chunk_count == 0


async def test_a_gaps_draft_gets_a_short_slug_and_its_questions_once_published(
    kb: KnowledgeBase, db: Database
) -> None:
    from omnidesk.knowledge import ArticleAdmin

    asked = [
        "Can I get a refund for a gift card I never used at all?",
        "refund for an unused gift card please",
    ]
    draft = await ArticleAdmin(kb).draft_from_questions(asked, by="ann")
    # Titled by the most central question; the slug keeps only its meaningful words.
    assert draft["slug"] in {"refund-gift-card-never-used", "refund-unused-gift-card"}
    assert kb.chunk_count == 0  # a draft is not searched
    stored = await kb.get_article(draft["slug"])
    assert stored is not None
    published = ArticleInput(
        slug=stored.slug,
        title=stored.title,
        body="Unused gift cards are refunded within 30 days.\n\n" + stored.body,
    )
    await kb.upsert_article(published)
    # The draft's "Questions customers asked" list became its example questions.
    questions = [t for k, t in await kinds(db, stored.slug) if k == "question"]
    assert sorted(questions) == sorted(asked)


async def test_admin_edits_example_questions(kb: KnowledgeBase) -> None:
    from omnidesk.knowledge import ArticleAdmin

    admin = ArticleAdmin(kb)
    created = await admin.create_article(
        {"title": "Freezing your card", "body": FROZEN.body, "status": "published",
         "questions": ["lock my card", "lock my card", " stop my card "]},
        by="ann",
    )  # fmt: skip
    assert created["questions"] == ["lock my card", "stop my card"]
    updated = await admin.update_article(
        created["slug"], {"questions": "pause my card\nlock my card\n"}, by="ann"
    )
    assert updated["questions"] == ["pause my card", "lock my card"]
    history = await admin.revisions(created["slug"])
    assert history["revisions"][0]["changed"] == ["questions"]
    hits = await kb.search("can I pause my card for a while")
    assert hits[0].slug == created["slug"] and hits[0].question == "pause my card"
