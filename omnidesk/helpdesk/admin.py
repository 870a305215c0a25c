"""The admin HTTP API: articles (``/api/v1/articles``), what the bot could not answer
(``/api/v1/kb/gaps``) and retrieval evaluation (``/api/v1/kb/eval``).

Reading articles needs a signed-in agent; every write, the gaps and the evaluation need
an admin. The knowledge base is reached through the
:class:`KnowledgeAdmin` protocol, so the helpdesk does not import it.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.db import utcnow
from omnidesk.helpdesk.gaps import (
    GapTopic,
    build_topics,
    distinct_wordings,
    unanswered_questions,
)
from omnidesk.helpdesk.http import (
    Handler,
    HTTPJSONError,
    actor_of,
    admin_only,
    agents_only,
    read_json,
    read_text,
)

log = logging.getLogger(__name__)

SLUG = r"{slug:[a-z0-9][a-z0-9-]{0,199}}"
# Article bodies may be 200 KB of UTF-8; JSON escaping can double that.
MAX_ARTICLE_JSON_BYTES = 1024 * 1024
MAX_EVAL_CSV_BYTES = 512 * 1024
MAX_NAME_CHARS = 200
MAX_DRAFT_EXAMPLES = 50
DEFAULT_GAP_DAYS = 90
MAX_GAP_EVENTS = 5000


class KnowledgeAdmin(Protocol):
    """What the admin API needs from the knowledge base (``knowledge.ArticleAdmin``).

    Inputs and outputs are JSON-shaped. A refusal raises an exception carrying ``code``
    and ``http_status`` (see :class:`DomainError`).
    """

    async def list_articles(self, params: Mapping[str, str]) -> dict[str, Any]: ...

    async def get_article(self, slug: str) -> dict[str, Any]: ...

    async def revisions(self, slug: str) -> dict[str, Any]: ...

    async def revision(self, slug: str, version: int) -> dict[str, Any]: ...

    def preview(self, body: str) -> str: ...

    async def create_article(self, fields: Mapping[str, Any], by: str) -> dict[str, Any]: ...

    async def update_article(
        self,
        slug: str,
        fields: Mapping[str, Any],
        by: str,
        expected_version: int | None = None,
    ) -> dict[str, Any]: ...

    async def set_status(self, slug: str, status: str, by: str) -> dict[str, Any]: ...

    async def delete_article(self, slug: str) -> None: ...

    async def group_questions(self, questions: Sequence[str]) -> list[list[int]]: ...

    async def draft_from_questions(self, questions: Sequence[str], by: str) -> dict[str, Any]: ...

    async def evaluate(self, csv_text: str | None) -> dict[str, Any]: ...


@runtime_checkable
class DomainError(Protocol):
    """An error that says how the API answers it (``knowledge.KnowledgeError``)."""

    code: str
    http_status: int


def answers_domain_errors(handler: Handler) -> Handler:
    """Turn a refusal from the knowledge base into our JSON error with its status."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Exception as exc:
            if isinstance(exc, DomainError) and isinstance(exc.http_status, int):
                raise HTTPJSONError(exc.http_status, str(exc.code), str(exc)) from None
            raise

    return wrapped


class AdminAPI:
    """Handlers for admins; see the module docstring for who may call what."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        knowledge: KnowledgeAdmin,
        *,
        not_a_question: Callable[[str], bool] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._kb = knowledge
        self._not_a_question = not_a_question

    def routes(self) -> list[web.AbstractRouteDef]:
        def agent(handler: Handler) -> Handler:
            return agents_only(answers_domain_errors(handler))

        def admin(handler: Handler) -> Handler:
            return admin_only(answers_domain_errors(handler))

        base = "/api/v1/articles"
        return [
            web.get(base, agent(self.list_articles)),
            web.post(base, admin(self.create_article)),
            web.post(f"{base}/preview", admin(self.preview)),
            web.get(f"{base}/{SLUG}", agent(self.get_article)),
            web.patch(f"{base}/{SLUG}", admin(self.update_article)),
            web.delete(f"{base}/{SLUG}", admin(self.delete_article)),
            web.post(f"{base}/{SLUG}/publish", admin(self.publish)),
            web.post(f"{base}/{SLUG}/unpublish", admin(self.unpublish)),
            web.get(f"{base}/{SLUG}/revisions", agent(self.revisions)),
            web.get(rf"{base}/{SLUG}/revisions/{{version:\d{{1,9}}}}", agent(self.revision)),
            web.get("/api/v1/kb/gaps", admin(self.gaps)),
            web.post("/api/v1/kb/gaps/draft", admin(self.draft_from_gap)),
            web.post("/api/v1/kb/eval", admin(self.evaluate)),
        ]

    # -- articles -----------------------------------------------------------------------

    async def list_articles(self, request: web.Request) -> web.Response:
        """Filters: ``status``, ``category``, ``tag``, ``language``, ``q``."""
        params = {k: request.query.get(k, "") for k in ("status", "category", "tag", "language")}
        params["q"] = request.query.get("q", "")
        return web.json_response(await self._kb.list_articles(params))

    async def get_article(self, request: web.Request) -> web.Response:
        article = await self._kb.get_article(request.match_info["slug"])
        return web.json_response({"article": article})

    async def create_article(self, request: web.Request) -> web.Response:
        data = await read_json(request, MAX_ARTICLE_JSON_BYTES)
        by = _by(request)
        article = await self._kb.create_article(_fields(data), by)
        log.info("article %s created by %s", article["slug"], by)
        return web.json_response({"article": article}, status=201)

    async def update_article(self, request: web.Request) -> web.Response:
        """A partial update: only the fields given change. ``version``, if given, must be
        the article's current version (else 409), so two editors never overwrite."""
        data = await read_json(request, MAX_ARTICLE_JSON_BYTES)
        by = _by(request)
        version = data.get("version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            raise HTTPJSONError(400, "invalid", "'version' must be an integer")
        article = await self._kb.update_article(
            request.match_info["slug"], _fields(data), by, version
        )
        return web.json_response({"article": article})

    async def delete_article(self, request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        await read_json(request)
        by = _by(request)
        await self._kb.delete_article(slug)
        log.info("article %s deleted by %s", slug, by)
        return web.json_response({"deleted": slug})

    async def publish(self, request: web.Request) -> web.Response:
        return await self._set_status(request, "published")

    async def unpublish(self, request: web.Request) -> web.Response:
        return await self._set_status(request, "draft")

    async def _set_status(self, request: web.Request, status: str) -> web.Response:
        await read_json(request)
        by = _by(request)
        article = await self._kb.set_status(request.match_info["slug"], status, by)
        return web.json_response({"article": article})

    async def revisions(self, request: web.Request) -> web.Response:
        return web.json_response(await self._kb.revisions(request.match_info["slug"]))

    async def revision(self, request: web.Request) -> web.Response:
        revision = await self._kb.revision(
            request.match_info["slug"], int(request.match_info["version"])
        )
        return web.json_response({"revision": revision})

    async def preview(self, request: web.Request) -> web.Response:
        """``{"body": markdown}`` → ``{"html": ...}``, rendered like the article page."""
        data = await read_json(request, MAX_ARTICLE_JSON_BYTES)
        body = data.get("body", "")
        if not isinstance(body, str):
            raise HTTPJSONError(400, "invalid", "'body' must be a string")
        return web.json_response({"html": self._kb.preview(body)})

    # -- gaps ---------------------------------------------------------------------------

    async def gaps(self, request: web.Request) -> web.Response:
        """Topics of unanswered questions, biggest first. ``days`` (default 90) and
        ``limit`` (events read, default 2000) bound the look-back."""
        days = _int_param(request, "days", DEFAULT_GAP_DAYS, 1, 3650)
        limit = _int_param(request, "limit", 2000, 1, MAX_GAP_EVENTS)
        topics = await self._topics(days, limit)
        return web.json_response(
            {"days": days, "topics": [t.to_dict() for t in topics], "total": len(topics)}
        )

    async def _topics(self, days: int, limit: int) -> list[GapTopic]:
        async with self._sessionmaker() as session:
            asked = await unanswered_questions(
                session,
                since=utcnow() - dt.timedelta(days=days),
                limit=limit,
                ignore=self._not_a_question,
            )
        wordings = distinct_wordings(asked)
        groups = await self._kb.group_questions(wordings)
        return build_topics(asked, wordings, groups)

    async def draft_from_gap(self, request: web.Request) -> web.Response:
        """A draft article from ``{"examples": [questions]}`` or ``{"topic": id}`` (an id
        from the gaps list, looked up over the same ``days``); answers its slug."""
        data = await read_json(request)
        by = _by(request)
        topic = data.get("topic")
        examples = data.get("examples")
        if topic is not None:
            if not isinstance(topic, str) or not topic.strip():
                raise HTTPJSONError(400, "invalid", "'topic' must be a topic id")
            days = data.get("days", DEFAULT_GAP_DAYS)
            if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
                raise HTTPJSONError(400, "invalid", "'days' must be an integer from 1 to 3650")
            found = [t for t in await self._topics(days, 2000) if t.id == topic.strip()]
            if not found:
                raise HTTPJSONError(
                    404, "not_found", "no such topic (the list may have changed; reload it)"
                )
            questions = list(found[0].questions)
        elif isinstance(examples, list) and examples:
            if len(examples) > MAX_DRAFT_EXAMPLES or not all(
                isinstance(q, str) and 0 < len(q) <= 500 for q in examples
            ):
                raise HTTPJSONError(
                    400,
                    "invalid",
                    f"'examples' must be 1 to {MAX_DRAFT_EXAMPLES} questions of at most "
                    "500 characters",
                )
            questions = list(examples)
        else:
            raise HTTPJSONError(400, "invalid", "give 'examples' (a list of questions) or 'topic'")
        article = await self._kb.draft_from_questions(questions, by)
        log.info("draft %s created from %d questions by %s", article["slug"], len(questions), by)
        return web.json_response({"slug": article["slug"], "article": article}, status=201)

    # -- evaluation ---------------------------------------------------------------------

    async def evaluate(self, request: web.Request) -> web.Response:
        """The request body is a CSV (``question,expected``); empty, the packaged sample."""
        text = await read_text(request, MAX_EVAL_CSV_BYTES)
        return web.json_response({"report": await self._kb.evaluate(text or None)})


def _by(request: web.Request) -> str:
    """Who makes the change: the signed-in account (a ``by`` in the body is ignored)."""
    return actor_of(request).name


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("by", "version")}


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPJSONError(400, "invalid", f"'{name}' must be an integer") from None
    if not low <= value <= high:
        raise HTTPJSONError(400, "invalid", f"'{name}' must be from {low} to {high}")
    return value
