"""Knowledge base: articles, passages, hybrid search and answers with citations; import,
export, evaluation and the admin operations on articles."""

from omnidesk.knowledge.admin import ArticleAdmin
from omnidesk.knowledge.answering import CLARIFY_MARGIN, Answer
from omnidesk.knowledge.articles import (
    ArticleConflictError,
    ArticleFormatError,
    ArticleInput,
    ArticleNotFoundError,
    KnowledgeError,
    parse_markdown_article,
    to_markdown,
)
from omnidesk.knowledge.chunking import ChunkData, chunk_markdown
from omnidesk.knowledge.embedder import (
    Embedder,
    ModelUnavailableError,
    QueryBatcher,
    get_embedder,
)
from omnidesk.knowledge.evaluation import (
    SAMPLE_EVAL,
    CaseResult,
    EvalCase,
    EvalReport,
    EvaluationError,
    evaluate,
    load_cases,
    read_cases,
    summarise,
)
from omnidesk.knowledge.importers import ImportFailure, ImportReport
from omnidesk.knowledge.markdown import markdown_to_text
from omnidesk.knowledge.models import Article, ArticleRevision, ArticleStatus, Chunk
from omnidesk.knowledge.pages import kb_routes
from omnidesk.knowledge.retrieval import SearchHit
from omnidesk.knowledge.service import SAMPLE_DIR, KnowledgeBase
from omnidesk.knowledge.store import ArticleFilter

__all__ = [
    "CLARIFY_MARGIN",
    "SAMPLE_DIR",
    "SAMPLE_EVAL",
    "Answer",
    "Article",
    "ArticleAdmin",
    "ArticleConflictError",
    "ArticleFilter",
    "ArticleFormatError",
    "ArticleInput",
    "ArticleNotFoundError",
    "ArticleRevision",
    "ArticleStatus",
    "CaseResult",
    "Chunk",
    "ChunkData",
    "Embedder",
    "EvalCase",
    "EvalReport",
    "EvaluationError",
    "ImportFailure",
    "ImportReport",
    "KnowledgeBase",
    "KnowledgeError",
    "ModelUnavailableError",
    "QueryBatcher",
    "SearchHit",
    "chunk_markdown",
    "evaluate",
    "get_embedder",
    "kb_routes",
    "load_cases",
    "markdown_to_text",
    "parse_markdown_article",
    "read_cases",
    "summarise",
    "to_markdown",
]
