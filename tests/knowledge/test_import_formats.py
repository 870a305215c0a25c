"""Importing every format (Markdown, HTML, CSV and JSON pairs), broken files named in the
report while the rest import, re-import by slug, and export that round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omnidesk.knowledge import (
    ArticleFormatError,
    ArticleInput,
    ArticleStatus,
    KnowledgeBase,
    parse_markdown_article,
    to_markdown,
)
from omnidesk.knowledge.articles import slug_from_text
from omnidesk.knowledge.importers import html_title, read_articles

PAGE = """\
<!doctype html><html><head><title>Pairing your lamp | Lumen Help</title></head><body>
<header><nav><a href="/">Home</a> <a href="/shop">Shop</a> <a href="/help">Help</a></nav></header>
<main><article><h1>Pairing your lamp with the app</h1>
<p>To pair your Lumen lamp, open the app and tap <b>Add device</b>. Keep the phone within
two metres of the lamp while it pairs.</p>
<h2>If pairing fails</h2>
<p>Switch the lamp off and on three times to reset its radio, then try again.</p>
<ul><li>Check the phone's Bluetooth setting</li><li>Move closer to the lamp</li></ul>
</article></main>
<footer><p>Copyright 2024 Lumen Inc. All rights reserved. Privacy policy.</p></footer>
</body></html>
"""

PAIRS_CSV = """\
question,answer,category,tags
Do gift cards expire?,"Lumen gift cards never expire.",billing,"gift, cards"
Can I pay with bitcoin?,"No, we accept cards, PayPal and SEPA.",billing,
"""


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """A folder to import from (tmp_path itself also holds the data directory)."""
    folder = tmp_path / "import"
    folder.mkdir()
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def test_html_page_main_text_and_title(kb: KnowledgeBase, src: Path) -> None:
    write(src, "Pairing Help.html", PAGE)
    report = await kb.import_path(src, progress=False)
    assert report.created == ("pairing-help",) and report.ok
    article = await kb.get_article("pairing-help")
    assert article is not None
    assert article.title == "Pairing your lamp with the app"  # the h1, not the <title>
    assert "tap **Add device**" in article.body
    assert "## If pairing fails" in article.body
    assert "- Move closer to the lamp" in article.body
    assert "Home" not in article.body and "Copyright" not in article.body
    hits = await kb.search("pairing keeps failing, what now?")
    assert hits[0].slug == "pairing-help" and hits[0].heading == "If pairing fails"


def test_html_title_falls_back_to_title_tag() -> None:
    assert html_title("<title> Just  a title </title><p>x</p>") == "Just a title"
    assert html_title("<h1>Own &amp; heading</h1><title>T</title>") == "Own & heading"
    assert html_title("<p>nothing</p>") is None


async def test_csv_and_json_pairs_become_articles(kb: KnowledgeBase, src: Path) -> None:
    write(src, "faq.csv", PAIRS_CSV)
    pairs = [
        {"question": "How long is the warranty?", "answer": "Two years on every lamp."},
        {"question": "Is there a student discount?", "answer": "Yes, 15 %.", "slug": "students"},
    ]
    write(src, "more/faq.json", json.dumps({"faq": pairs}))

    report = await kb.import_path(src, progress=False)

    assert report.ok, report
    assert sorted(report.created) == [
        "can-i-pay-with-bitcoin",
        "do-gift-cards-expire",
        "how-long-is-the-warranty",
        "students",
    ]
    gift = await kb.get_article("do-gift-cards-expire")
    assert gift is not None
    assert (gift.title, gift.body) == ("Do gift cards expire?", "Lumen gift cards never expire.\n")
    assert gift.category == "billing" and gift.tags == ["gift", "cards"]
    answer = await kb.answer("does my gift card expire")
    assert answer.best is not None and answer.best.slug == "do-gift-cards-expire"


async def test_broken_files_are_named_and_the_rest_imports(kb: KnowledgeBase, src: Path) -> None:
    write(src, "good.md", "# Good one\n\nGood body text.\n")
    write(src, "page.html", PAGE)
    write(src, "empty.html", "<html><head><title>Empty</title></head><body></body></html>")
    write(src, "untitled.html", "<html><body><p>No title at all.</p></body></html>")
    write(src, "nocolumns.csv", "foo,bar\n1,2\n")
    write(src, "rows.csv", "question,answer\nWhat is Lumen?,A lamp.\nNo answer here,\n")
    write(src, "broken.json", '[{"question": "x", ')
    write(src, "shape.json", '{"question": "x", "answer": "y"}')
    write(src, "items.json", '[{"question": "Why?", "answer": "Because."}, "not an object"]')
    (src / "binary.csv").write_bytes(b"\xff\xfe\x00question")
    write(src, "notes.txt", "ignored: not a format we import")

    report = await kb.import_path(src, progress=False)

    assert sorted(report.created) == ["good", "page", "what-is-lumen", "why"]
    failed = {Path(f.path).name: f.error for f in report.errors}
    assert set(failed) == {
        "empty.html",
        "untitled.html",
        "nocolumns.csv",
        "rows.csv:line 3",
        "broken.json",
        "shape.json",
        "items.json:item 2",
        "binary.csv",
    }
    assert failed["empty.html"] == "no main text found in the page"
    assert "no title" in failed["untitled.html"]
    assert "'question' and 'answer'" in failed["nocolumns.csv"]
    assert failed["rows.csv:line 3"] == "no answer (column 'answer')"
    assert "not valid JSON" in failed["broken.json"]
    assert "list" in failed["shape.json"]
    assert "UTF-8" in failed["binary.csv"]
    assert "rows.csv:line 3: no answer" in str(report)


async def test_single_files_of_each_format(kb: KnowledgeBase, src: Path) -> None:
    md = write(src, "a.md", "---\ntitle: Alpha\nslug: alpha\n---\nAlpha text.\n")
    page = write(src, "b.html", PAGE)
    csv_file = write(src, "c.csv", PAIRS_CSV)
    js = write(src, "d.json", '[{"question": "Delta?", "answer": "Yes."}]')
    created = []
    for path in (md, page, csv_file, js):
        report = await kb.import_path(path, progress=False)
        assert report.ok, report
        created.extend(report.created)
    assert created == ["alpha", "b", "do-gift-cards-expire", "can-i-pay-with-bitcoin", "delta"]
    other = write(src, "e.txt", "x")
    report = await kb.import_path(other, progress=False)
    assert [f.path for f in report.errors] == [str(other)]
    assert "unknown file type '.txt'" in report.errors[0].error


async def test_reimport_updates_by_slug_instead_of_duplicating(
    kb: KnowledgeBase, src: Path
) -> None:
    write(src, "faq.csv", PAIRS_CSV)
    write(src, "page.html", PAGE)
    first = await kb.import_path(src, progress=False)
    assert len(first.created) == 3

    same = await kb.import_path(src, progress=False)
    assert same.created == () and same.updated == () and len(same.unchanged) == 3

    write(src, "faq.csv", PAIRS_CSV.replace("never expire", "expire after 5 years"))
    changed = await kb.import_path(src, progress=False)
    assert changed.updated == ("do-gift-cards-expire",) and changed.created == ()
    assert len(await kb.list_articles()) == 3
    article = await kb.get_article("do-gift-cards-expire")
    assert article is not None and article.version == 2 and "5 years" in article.body


async def test_duplicate_slugs_within_an_import_are_refused(kb: KnowledgeBase, src: Path) -> None:
    write(src, "a.csv", "question,answer\nDo gift cards expire?,Never.\n")
    write(src, "b.json", '[{"question": "Do gift cards expire?", "answer": "No."}]')
    report = await kb.import_path(src, progress=False)
    assert report.created == ("do-gift-cards-expire",)
    [failure] = report.errors
    assert failure.path.endswith("b.json:item 1") and "a.csv" in failure.error


async def test_export_round_trips_through_import(kb: KnowledgeBase, tmp_path: Path) -> None:
    await kb.upsert_article(
        ArticleInput(
            slug="odd-one",
            title="Yes: a title with 'quotes', #hash and: colons",
            body="# Yes: a title with 'quotes', #hash and: colons\n\n## Part\n\nText  \nbreak\n",
            category="no",
            tags=("1.0", "true", "ünïcode"),
            language="pt-BR",
        )
    )
    await kb.upsert_article(
        ArticleInput(slug="draft-one", title="Draft", body="", status=ArticleStatus.DRAFT)
    )
    write(tmp_path / "src", "faq.csv", PAIRS_CSV)
    await kb.import_path(tmp_path / "src", progress=False)
    before = {
        a.slug: (a.title, a.body, a.category, a.tags, a.language, a.status, a.version)
        for a in await kb.list_articles()
    }

    out = tmp_path / "export"
    written = await kb.export_to(out)
    assert sorted(p.name for p in written) == sorted(f"{slug}.md" for slug in before)
    assert "status: draft" in (out / "draft-one.md").read_text()

    report = await kb.import_path(out, progress=False)
    assert report.ok and report.created == () and report.updated == ()
    assert sorted(report.unchanged) == sorted(before)
    after = {
        a.slug: (a.title, a.body, a.category, a.tags, a.language, a.status, a.version)
        for a in await kb.list_articles()
    }
    assert after == before


@pytest.mark.parametrize(
    "article",
    [
        ArticleInput(slug="a", title="A", body="Plain.\n"),
        ArticleInput(slug="b", title="null", body="---\n\nNot front matter.\n", tags=("x",)),
        ArticleInput(slug="c", title="C", body="", category="x: y", status=ArticleStatus.DRAFT),
    ],
)
def test_to_markdown_parses_back_to_the_same_article(article: ArticleInput) -> None:
    assert parse_markdown_article(to_markdown(article), fallback_slug="ignored") == article


def test_inputs_are_normalised_so_every_way_in_stores_the_same() -> None:
    article = ArticleInput(
        slug="t",
        title="  Two   words ",
        body="\r\n# Two words\r\n\r\nBody\r\n\r\n",
        tags=(" a", "a"),
    )
    assert (article.title, article.body, article.tags) == ("Two words", "Body\n", ("a",))
    with pytest.raises(ArticleFormatError, match="200 KB"):
        ArticleInput(slug="t", title="T", body="x" * (200 * 1024 + 1))


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Do gift cards expire?", "do-gift-cards-expire"),
        ("Café & crème: 100% sure", "cafe-creme-100-sure"),
        ("a " * 60, "-".join(["a"] * 40)),
        ("what's the   deal", "whats-the-deal"),
    ],
)
def test_slugs_from_text(text: str, slug: str) -> None:
    assert slug_from_text(text) == slug


def test_slug_from_text_without_letters_is_refused() -> None:
    with pytest.raises(ArticleFormatError, match="slug"):
        slug_from_text("😀 ❤️")


def test_read_articles_reports_a_missing_path(tmp_path: Path) -> None:
    parsed, failures = read_articles(tmp_path / "nope")
    assert parsed == [] and failures[0].error == "no such file or folder"
