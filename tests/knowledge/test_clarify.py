"""The clarifying question: when two articles answer about equally well, the knowledge
base asks which one is meant instead of guessing."""

from __future__ import annotations

from omnidesk.knowledge import ArticleInput, KnowledgeBase

SHOP = ArticleInput(
    slug="lamp-shop-returns",
    title="Returning a lamp bought in our shop",
    body="Lamps bought in our online shop can be returned within 30 days for a refund.",
)
STORE = ArticleInput(
    slug="lamp-store-returns",
    title="Returning a lamp bought in a store",
    body="Lamps bought in a retail store can be returned within 30 days for a refund.",
)
COLOURS = ArticleInput(
    slug="umbrella-colours", title="Umbrella colours", body="Umbrellas come in red and teal."
)


async def test_two_close_articles_make_a_clarifying_question(kb: KnowledgeBase) -> None:
    for article in (SHOP, STORE, COLOURS):
        await kb.upsert_article(article)
    bar = kb.settings.knowledge.answer_threshold

    vague = await kb.answer("returning a lamp")
    assert vague.kind == "clarify" and vague.text == ""
    assert [h.slug for h in vague.suggestions] == ["lamp-shop-returns", "lamp-store-returns"]
    assert vague.best is vague.suggestions[0]
    assert all(h.score >= bar for h in vague.suggestions)

    # Saying which one is enough to get an answer.
    specific = await kb.answer("I bought a lamp in a retail store, can I return it?")
    assert specific.kind == "answer"
    assert specific.best is not None and specific.best.slug == "lamp-store-returns"
    clear = await kb.answer("which colours do umbrellas come in?")
    assert clear.kind == "answer"


async def test_clear_sample_questions_are_answered(sample_kb: KnowledgeBase) -> None:
    for question in (
        "how do I reset my password?",
        "where is my parcel?",
        "how to update firmware",
    ):
        assert (await sample_kb.answer(question)).kind == "answer", question
