"""Chunking along headings, windows with overlap, anchors like GitHub's."""

from __future__ import annotations

import hashlib

from omnidesk.knowledge import chunk_markdown
from omnidesk.knowledge.chunking import split_chunk_text
from omnidesk.knowledge.markdown import slugify_heading

BODY = """\
Intro paragraph about the lamp.

## Reset from the app

Tap **Forgot password?** and follow the link.

### On Android

Open the menu first.

#### A deeper heading stays inside

Still Android.

```
## not a heading, inside a code fence
```

## Empty section

## Didn't get the email?

Check the spam folder.

## Reset from the app

A second section with the same heading.
"""


def test_sections_follow_h1_to_h3_and_keep_the_title() -> None:
    chunks = chunk_markdown("How to reset your password", BODY)
    assert [(c.heading, c.anchor) for c in chunks] == [
        ("", ""),
        ("Reset from the app", "reset-from-the-app"),
        ("On Android", "on-android"),
        ("Didn't get the email?", "didnt-get-the-email"),
        ("Reset from the app", "reset-from-the-app-1"),
    ]
    assert [c.ordinal for c in chunks] == list(range(5))
    assert chunks[0].text == "How to reset your password\n\nIntro paragraph about the lamp."
    assert chunks[1].text == (
        "How to reset your password — Reset from the app\n\n"
        "Tap **Forgot password?** and follow the link."
    )
    android = chunks[2]
    assert "#### A deeper heading stays inside" in android.body
    assert "## not a heading, inside a code fence" in android.body
    assert all(c.text.startswith("How to reset your password") for c in chunks)
    for chunk in chunks:
        assert split_chunk_text(chunk.text)[1] == chunk.body
        assert chunk.content_hash == hashlib.sha256(chunk.text.encode()).hexdigest()


def test_h1_equal_to_title_is_not_repeated_in_the_prefix() -> None:
    (chunk,) = chunk_markdown("Track your order", "# Track your order\n\nUse the link.")
    assert chunk.text == "Track your order\n\nUse the link."
    assert chunk.anchor == "track-your-order"


def test_long_sections_are_split_into_overlapping_windows() -> None:
    words = [f"w{i}" for i in range(50)]
    body = "## Long\n\n" + " ".join(words[:25]) + "\n\n" + " ".join(words[25:])
    chunks = chunk_markdown("T", body, max_words=20, overlap_words=5)
    bodies = [c.body.split() for c in chunks]
    assert bodies == [words[0:20], words[15:35], words[30:50]]
    assert all(c.heading == "Long" and c.anchor == "long" for c in chunks)
    assert len({c.content_hash for c in chunks}) == 3
    # The window keeps the section's own line breaks.
    assert "w24\n\nw25" in chunks[1].body


def test_short_section_is_one_chunk_and_empty_article_none() -> None:
    assert len(chunk_markdown("T", "just a few words", max_words=20, overlap_words=5)) == 1
    assert chunk_markdown("T", "") == []
    assert chunk_markdown("T", "## Only a heading\n") == []


def test_anchor_slugs_match_github() -> None:
    assert slugify_heading("Didn't get the email?") == "didnt-get-the-email"
    assert slugify_heading("Step 2: Pair via Wi-Fi (2.4 GHz)") == "step-2-pair-via-wi-fi-24-ghz"
    assert slugify_heading("Über uns") == "über-uns"
