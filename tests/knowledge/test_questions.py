"""Example questions read from front matter, a body list and imports; front matter text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnidesk.knowledge import ArticleFormatError, ArticleInput, chunk_markdown
from omnidesk.knowledge.articles import (
    parse_markdown_article,
    short_slug,
    slug_from_text,
    to_markdown,
)
from omnidesk.knowledge.chunking import question_chunks
from omnidesk.knowledge.importers import read_articles
from omnidesk.knowledge.models import ChunkKind
from omnidesk.knowledge.questions import (
    MAX_QUESTIONS,
    article_questions,
    body_questions,
    is_questions_heading,
    normalise_questions,
)

BODY = """\
Pair the lamp from the app.

## Steps

1. Open **Devices** and tap **Add lamp**.
2. Hold the touch ring for five seconds.

## Questions customers ask

- How do I connect the lamp to Wi-Fi?
- lamp won't pair with my \\*new\\* router
- How do I connect the lamp to wifi?

## After pairing

- The ring glows green.
"""


def test_body_list_under_a_questions_heading_is_read_as_questions() -> None:
    assert body_questions(BODY) == [
        "How do I connect the lamp to Wi-Fi?",
        "lamp won't pair with my *new* router",
        "How do I connect the lamp to wifi?",
    ]


def test_questions_section_is_not_a_passage() -> None:
    chunks = chunk_markdown("Pairing the lamp", BODY)
    assert [c.heading for c in chunks] == ["", "Steps", "After pairing"]
    assert all("Wi-Fi" not in c.text for c in chunks)


@pytest.mark.parametrize(
    ("heading", "is_list"),
    [
        ("Questions customers ask", True),
        ("Questions customers asked", True),  # the Gaps draft's heading
        ("Example questions:", True),
        ("Common questions", True),
        ("Questions", False),
        ("Steps", False),
        ("Why we ask questions", False),
    ],
)
def test_questions_headings(heading: str, is_list: bool) -> None:
    assert is_questions_heading(heading) is is_list


def test_given_and_listed_questions_are_joined_without_repeats() -> None:
    found = article_questions(
        ["Can I pair two lamps?", "how do I connect the lamp to wi-fi?"], BODY
    )
    assert found == (
        "Can I pair two lamps?",
        "how do I connect the lamp to wi-fi?",
        "lamp won't pair with my *new* router",
        "How do I connect the lamp to wifi?",
    )


def test_question_chunks_follow_the_passages_and_are_embedded_alone() -> None:
    chunks = question_chunks(["How do I pair?", "pairing fails"], first_ordinal=3)
    assert [(c.ordinal, c.kind, c.text) for c in chunks] == [
        (3, ChunkKind.QUESTION, "How do I pair?"),
        (4, ChunkKind.QUESTION, "pairing fails"),
    ]
    # Same text as a passage body would be a different chunk.
    passage = chunk_markdown("How do I pair?", "pairing fails")[0]
    assert passage.content_hash != chunks[1].content_hash


@given(st.lists(st.text(max_size=40), max_size=300))
def test_normalised_questions_are_unique_trimmed_and_bounded(items: list[str]) -> None:
    out = normalise_questions(items)
    assert len(out) <= MAX_QUESTIONS
    assert all(q and q == " ".join(q.split()) for q in out)
    assert len({q.casefold() for q in out}) == len(out)
    assert normalise_questions(out) == out


def test_front_matter_questions_round_trip() -> None:
    text = "---\ntitle: Pairing\nquestions:\n  - How do I pair?\n  - 12\n---\nHold the ring.\n"
    data = parse_markdown_article(text, "pairing")
    assert data.questions == ("How do I pair?", "12")
    assert parse_markdown_article(to_markdown(data), "other") == data
    with pytest.raises(ArticleFormatError, match="questions"):
        parse_markdown_article("---\ntitle: T\nquestions: {a: 1}\n---\nx\n", "t")


@pytest.mark.parametrize("word", ["no", "yes", "on", "off", "true", "False", "404", "0x1f"])
def test_front_matter_values_stay_the_text_written(word: str) -> None:
    data = parse_markdown_article(
        f"---\nslug: {word.lower()}\ntitle: {word}\ntags: [{word}]\n---\nBody.\n", "fallback"
    )
    assert (data.slug, data.title, data.tags) == (word.lower(), word, (word,))


def test_dates_and_empty_values_in_front_matter() -> None:
    data = parse_markdown_article("---\ndate: 2024-01-01\ntitle:\n---\n# Hello\nx\n", "hi")
    assert data.title == "Hello" and data.slug == "hi"


_SLUG = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?\Z")
_WORD = st.sampled_from(["no", "yes", "on", "off", "null", "~", "0", "1e3", "2024-01-01", "x"])


@given(slug=_SLUG | _WORD.filter(lambda w: w.isalnum()), title=_WORD | st.text(min_size=1))
def test_exported_front_matter_reads_back_as_text(slug: str, title: str) -> None:
    try:
        data = ArticleInput(slug=slug, title=title, body="Body.\n", questions=(title,))
    except ArticleFormatError:
        return  # a title of nothing but spaces
    assert parse_markdown_article(to_markdown(data), "fallback") == data


def test_pairs_carry_their_question_and_more(tmp_path: Path) -> None:
    (tmp_path / "faq.csv").write_text(
        "question,answer,questions\n"
        'How do I pay?,By card.,"can I pay by card | payment methods\nhow to pay"\n'
    )
    (tmp_path / "faq.json").write_text(
        json.dumps([{"q": "Do you ship abroad?", "a": "Yes.", "questions": ["ship to France?"]}])
    )
    parsed, failures = read_articles(tmp_path)
    assert not failures
    by_slug = {a.slug: a for _, a in parsed}
    assert by_slug["how-do-i-pay"].questions == (
        "How do I pay?",
        "can I pay by card",
        "payment methods",
        "how to pay",
    )
    assert by_slug["do-you-ship-abroad"].questions == ("Do you ship abroad?", "ship to France?")


def test_short_slug_keeps_the_meaningful_words() -> None:
    assert short_slug("How do I reset my password when I am locked out?") == (
        "reset-password-locked-out"
    )
    assert short_slug("Can I get a refund for a gift card I never used at all?") == (
        "refund-gift-card-never-used"
    )
    assert short_slug("how do I?") == slug_from_text("how do I?")
