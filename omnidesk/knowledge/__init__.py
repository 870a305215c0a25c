"""Knowledge base: articles, passages, hybrid search and answers with citations."""

from omnidesk.knowledge.articles import ArticleFormatError, ArticleInput, parse_markdown_article
from omnidesk.knowledge.chunking import ChunkData, chunk_markdown
from omnidesk.knowledge.embedder import (
    Embedder,
    ModelUnavailableError,
    QueryBatcher,
    get_embedder,
)
from omnidesk.knowledge.markdown import markdown_to_text
from omnidesk.knowledge.models import Article, ArticleRevision, ArticleStatus, Chunk
from omnidesk.knowledge.pages import kb_routes
from omnidesk.knowledge.service import (
    SAMPLE_DIR,
    Answer,
    ImportFailure,
    ImportReport,
    KnowledgeBase,
    SearchHit,
)

__all__ = [
    "SAMPLE_DIR",
    "Answer",
    "Article",
    "ArticleFormatError",
    "ArticleInput",
    "ArticleRevision",
    "ArticleStatus",
    "Chunk",
    "ChunkData",
    "Embedder",
    "ImportFailure",
    "ImportReport",
    "KnowledgeBase",
    "ModelUnavailableError",
    "QueryBatcher",
    "SearchHit",
    "chunk_markdown",
    "get_embedder",
    "kb_routes",
    "markdown_to_text",
    "parse_markdown_article",
]
