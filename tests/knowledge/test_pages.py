"""The /kb pages: list, article with section anchors, escaped HTML, 404s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from omnidesk.knowledge import ArticleStatus, KnowledgeBase, kb_routes
from omnidesk.knowledge.pages import render_markdown
from tests.knowledge.helpers import article

ClientMaker = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]

BODY = """\
Intro <script>alert(1)</script> text.

## Reset from the app

Tap [here](javascript:alert(1)) or **Sign in**.

## Didn't get the email?

Check spam.
"""


async def test_article_page_has_anchors_matching_search_hits(
    kb: KnowledgeBase, aiohttp_client: ClientMaker
) -> None:
    await kb.upsert_article(article("reset-password", "Reset your password", BODY))
    await kb.upsert_article(article("secret", "Unreleased", "Draft text.", ArticleStatus.DRAFT))
    app = web.Application()
    app.add_routes(kb_routes(kb))
    client = await aiohttp_client(app)

    listing = await client.get("/kb")
    assert listing.status == 200
    html = await listing.text()
    assert '<a href="/kb/reset-password">Reset your password</a>' in html
    assert "Unreleased" not in html

    page = await client.get("/kb/reset-password")
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    assert "<h1>Reset your password</h1>" in html
    hits = await kb.search("I didn't get the reset email")
    anchor = hits[0].url.split("#", 1)[1]
    assert anchor == "didnt-get-the-email"
    assert f'<h2 id="{anchor}">' in html
    assert '<h2 id="reset-from-the-app">' in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html  # markdown-it refuses the link, shows the text
    assert "<strong>Sign in</strong>" in html

    assert (await client.get("/kb/secret")).status == 404
    assert (await client.get("/kb/no-such-article")).status == 404


def test_duplicate_headings_get_numbered_ids() -> None:
    html = render_markdown("## Steps\n\none\n\n## Steps\n\ntwo\n")
    assert '<h2 id="steps">' in html and '<h2 id="steps-1">' in html
