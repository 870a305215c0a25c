"""Public knowledge base pages: the article list and each article, with section anchors."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from aiohttp import web
from markdown_it.token import Token

from omnidesk.knowledge.markdown import headings, md_parser
from omnidesk.knowledge.models import Article, ArticleStatus

if TYPE_CHECKING:
    from omnidesk.knowledge.service import KnowledgeBase

_CSS = """
body{font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
 background:#fafafa;margin:0}
main{max-width:46rem;margin:0 auto;padding:2rem 1.25rem 4rem;background:#fff;min-height:100vh}
a{color:#0b5cad}h1{font-size:1.8rem;line-height:1.25;margin:.2rem 0 1rem}
h2{font-size:1.3rem;margin-top:2rem}h3{font-size:1.1rem}
h1:target,h2:target,h3:target,h4:target{background:#fff5c2}
code{background:#f1f3f5;padding:.1em .3em;border-radius:3px;font-size:.92em}
pre{background:#f1f3f5;padding:.8rem;overflow:auto;border-radius:4px}pre code{padding:0}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.3rem .6rem}
blockquote{margin:0;padding:0 1rem;border-left:3px solid #d0d7de;color:#57606a}
nav{font-size:.9rem;margin-bottom:1rem}.meta{color:#57606a;font-size:.85rem}
ul.articles{padding-left:1.1rem}ul.articles li{margin:.25rem 0}
"""


def render_markdown(body: str) -> str:
    """HTML of an article body: raw HTML in it is escaped, headings carry ``id=anchor``."""
    parser = md_parser()
    tokens = parser.parse(body)
    for heading in headings(tokens):
        if heading.anchor:
            tokens[heading.token_index].attrSet("id", heading.anchor)
    return str(parser.renderer.render(tokens, parser.options, {}))


def _starts_with_h1(tokens: Sequence[Token]) -> bool:
    return bool(tokens) and tokens[0].type == "heading_open" and tokens[0].tag == "h1"


def _page(title: str, content: str) -> web.Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{content}</main></body></html>"
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def render_index(articles: Sequence[Article]) -> str:
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.category or "general", []).append(article)
    parts = ["<h1>Help center</h1>"]
    if not groups:
        parts.append("<p>No articles yet.</p>")
    for category in sorted(groups):
        parts.append(f"<h2>{escape(category.replace('-', ' ').capitalize())}</h2>")
        parts.append('<ul class="articles">')
        for article in sorted(groups[category], key=lambda a: a.title.lower()):
            parts.append(
                f'<li><a href="/kb/{escape(article.slug)}">{escape(article.title)}</a></li>'
            )
        parts.append("</ul>")
    return "".join(parts)


def render_article(article: Article) -> str:
    body_html = render_markdown(article.body)
    title = (
        ""
        if _starts_with_h1(md_parser().parse(article.body))
        else (f"<h1>{escape(article.title)}</h1>")
    )
    updated = article.updated_at.strftime("%Y-%m-%d") if article.updated_at else ""
    return (
        '<nav><a href="/kb">← All articles</a></nav>'
        f"<article>{title}{body_html}"
        f'<p class="meta">Updated {escape(updated)} · version {article.version}</p></article>'
    )


def kb_routes(kb: KnowledgeBase) -> list[web.RouteDef]:
    """``GET /kb`` (published articles) and ``GET /kb/{slug}`` (one, 404 if unknown or draft)."""

    async def index(_request: web.Request) -> web.Response:
        articles = await kb.list_articles(published_only=True)
        return _page("Help center", render_index(articles))

    async def article(request: web.Request) -> web.Response:
        found = await kb.get_article(request.match_info["slug"])
        if found is None or found.status != ArticleStatus.PUBLISHED:
            raise web.HTTPNotFound(text="No such article.")
        return _page(found.title, render_article(found))

    return [web.get("/kb", index), web.get("/kb/{slug}", article)]
