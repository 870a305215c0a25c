"""Front matter parsing and importing folders with broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnidesk.knowledge import (
    ArticleFormatError,
    ArticleInput,
    ArticleStatus,
    KnowledgeBase,
    parse_markdown_article,
)

FULL = """\
---
title: How to reset your password
slug: reset-password
category: accounts
tags: [password, login]
language: en
status: published
author: someone   # unknown keys from site generators are ignored
---
# How to reset your password

Open the app.

## From the website

Go to the site.
"""


def test_front_matter_fields_and_leading_title_h1_dropped() -> None:
    article = parse_markdown_article(FULL, fallback_slug="ignored")
    assert article == ArticleInput(
        slug="reset-password",
        title="How to reset your password",
        body="Open the app.\n\n## From the website\n\nGo to the site.\n",
        category="accounts",
        tags=("password", "login"),
        language="en",
        status=ArticleStatus.PUBLISHED,
    )


def test_without_front_matter_title_from_h1_and_slug_from_file_name() -> None:
    article = parse_markdown_article("# Shipping *times*\n\nTwo days.\n", "Shipping_Times v2")
    assert article.title == "Shipping times"
    assert article.slug == "shipping-times-v2"
    assert article.body == "Two days.\n"
    assert article.status is ArticleStatus.PUBLISHED


def test_tags_as_text_and_draft_status() -> None:
    text = "---\ntitle: T\ntags: a, b ,a\nstatus: draft\n---\nBody"
    article = parse_markdown_article(text, "t")
    assert article.tags == ("a", "b")
    assert article.status is ArticleStatus.DRAFT
    assert article.body == "Body\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ntitle: [unclosed\n---\nBody", "not valid YAML"),
        ("---\ntitle: T\nBody without a closing line", "not closed"),
        ("---\n- a\n- b\n---\nBody", "mapping"),
        ("No title anywhere.", "no title"),
        ("---\ntitle: T\nstatus: archived\n---\nBody", "status"),
        ("---\ntitle: T\nslug: Not A Slug!\n---\nBody", "slug"),
        ("---\ntitle: {a: 1}\n---\nBody", "must be text"),
    ],
)
def test_broken_articles_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ArticleFormatError, match=message):
        parse_markdown_article(text, "fallback")


async def test_import_reports_broken_files_and_imports_the_rest(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    (folder / "nested").mkdir(parents=True)
    (folder / "good.md").write_text("---\ntitle: Good one\n---\nGood body text.\n")
    (folder / "nested" / "second.md").write_text("# Second article\n\nMore text.\n")
    (folder / "broken.md").write_text("---\ntitle: [oops\n---\nBody\n")
    (folder / "latin1.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    (folder / "zz-dup.md").write_text("---\ntitle: Dup\nslug: good\n---\nSame slug as good.md\n")
    (folder / "notes.txt").write_text("not markdown, not imported")

    report = await kb.import_path(folder, progress=True)

    assert sorted(report.created) == ["good", "second"]
    assert not report.ok
    failed = {Path(f.path).name: f.error for f in report.errors}
    assert set(failed) == {"broken.md", "latin1.md", "zz-dup.md"}
    assert "YAML" in failed["broken.md"]
    assert "good.md" in failed["zz-dup.md"]
    summary = str(report)
    assert summary.startswith("2 created, 0 updated, 0 unchanged, 3 failed")
    assert "broken.md: front matter is not valid YAML" in summary
    assert [a.slug for a in await kb.list_articles()] == ["good", "second"]
    hits = await kb.search("more text in the second article")
    assert hits[0].slug == "second"

    again = await kb.import_path(folder, progress=False)
    assert again.created == () and again.updated == ()
    assert sorted(again.unchanged) == ["good", "second"]
