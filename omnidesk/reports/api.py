"""The reports' HTTP API, for admins only (routes marked ``admin_only``):

- ``GET /api/v1/reports/overview``: every figure per ``group`` (day, week, month);
- ``GET /api/v1/reports/{teams,agents,channels,labels}``: the same figures per value;
- ``GET /api/v1/reports/topics``: top unanswered topics and handoff-ending articles.

Each takes ``from``, ``to`` (local dates, at most 400 days), ``tz`` (an IANA zone; the
default calendar's zone otherwise), ``team``, ``agent``, ``channel`` and ``label``; a
``.csv`` after the name answers the same figures as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk import HTTPJSONError, admin_only, safe_cell
from omnidesk.reports.params import ReportError, ReportQuery, parse_query
from omnidesk.reports.report import breakdown, overview
from omnidesk.reports.topics import GroupQuestions, handoff_articles, unanswered_topics

BASE = "/api/v1/reports"
DIMENSIONS = {"teams": "team", "agents": "agent", "channels": "channel", "labels": "label"}


class ReportsAPI:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        default_tz: str,
        group_questions: GroupQuestions,
        not_a_question: Callable[[str], bool] | None = None,
        nps: bool = False,
    ) -> None:
        self._sessionmaker = sessionmaker
        # Whether the NPS survey is on (``escalation.nps_enabled``): only then reported.
        self._nps = nps
        self._default_tz = default_tz
        self._group_questions = group_questions
        self._not_a_question = not_a_question

    def routes(self) -> list[web.AbstractRouteDef]:
        names = ("overview", "topics", *DIMENSIONS)
        handlers = {"overview": self.overview, "topics": self.topics}
        return [
            web.get(f"{BASE}/{name}{suffix}", admin_only(handlers.get(name, self.breakdown)))
            for name in names
            for suffix in ("", ".csv")
        ]

    def _query(self, request: web.Request) -> ReportQuery:
        try:
            return parse_query(request.query, default_tz=self._default_tz)
        except ReportError as exc:
            raise HTTPJSONError(400, "invalid", str(exc)) from None

    async def overview(self, request: web.Request) -> web.StreamResponse:
        query = self._query(request)
        report = await overview(self._sessionmaker, query, nps=self._nps)
        if request.path.endswith(".csv"):
            return csv_response(flatten(report["rows"]), f"report-{query.group}.csv")
        return web.json_response(report)

    async def breakdown(self, request: web.Request) -> web.StreamResponse:
        query = self._query(request)
        name = request.path.removeprefix(f"{BASE}/").removesuffix(".csv")
        dimension = DIMENSIONS[name]
        report = await breakdown(self._sessionmaker, query, dimension, nps=self._nps)
        if request.path.endswith(".csv"):
            return csv_response(flatten(report["rows"]), f"report-{dimension}s.csv")
        return web.json_response(report)

    async def topics(self, request: web.Request) -> web.StreamResponse:
        query = self._query(request)
        async with self._sessionmaker() as session:
            topics = await unanswered_topics(
                session, query, self._group_questions, not_a_question=self._not_a_question
            )
            articles = await handoff_articles(session, query)
        if request.path.endswith(".csv"):
            lines = [
                {"kind": "topic", "id": t["id"], "title": t["title"], "count": t["count"]}
                for t in topics
            ] + [
                {"kind": "article", "id": a["slug"], "title": a["title"], "count": a["handoffs"]}
                for a in articles
            ]
            return csv_response(lines, "report-topics.csv")
        return web.json_response({"query": query.to_dict(), "topics": topics, "articles": articles})


def flatten(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Nested figures as flat columns (``sla_first_response_met``)."""

    def walk(prefix: str, value: Any, out: dict[str, Any]) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}_{key}" if prefix else str(key), inner, out)
        else:
            out[prefix] = value

    flat: list[dict[str, Any]] = []
    for row in rows:
        out: dict[str, Any] = {}
        walk("", row, out)
        flat.append(out)
    return flat


def csv_response(rows: list[dict[str, Any]], filename: str) -> web.Response:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns) or ["key"], restval="")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return web.Response(
        text=buffer.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: Any) -> Any:
    return "" if value is None else safe_cell(value)
