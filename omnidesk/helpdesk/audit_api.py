"""The audit log for admins: who did what, to which record, when and from where.

- ``GET /api/v1/admin/audit``: newest first, filtered by ``actor_id``, ``action`` (a
  name, or a prefix ending in ``.`` such as ``agent.``), ``target``, ``since`` and
  ``until`` (ISO 8601 with a time zone); ``limit`` (at most 200) and ``before_id`` page
  through it, and ``next_before_id`` says where the next page starts.
- ``GET /api/v1/admin/audit.csv``: the same filters, every matching entry as CSV.

Reading is all there is: no route changes an entry, and the database refuses to.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk.http import HTTPJSONError, admin_only
from omnidesk.helpdesk.models import AuditEntry
from omnidesk.helpdesk.work_http import datetime_field, newest_page, query_int

BASE = "/api/v1/admin/audit"
PAGE = 50
MAX_PAGE = 200
CSV_BATCH = 1000
MAX_FILTER_CHARS = 64
COLUMNS = ("id", "at", "actor_id", "actor_name", "actor_role", "ip", "action", "target", "data")


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_role": entry.actor_role,
        "ip": entry.ip,
        "action": entry.action,
        "target": entry.target,
        "data": entry.data,
    }


def _text(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    if len(value) > MAX_FILTER_CHARS:
        raise HTTPJSONError(400, "too_long", f"'{name}' is longer than {MAX_FILTER_CHARS}")
    return value or None


def filtered(request: web.Request) -> Select[Any]:
    """The entries the query string asks for, newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if (actor_id := query_int(request, "actor_id")) is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if (action := _text(request, "action")) is not None:
        if action.endswith("."):
            query = query.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if (target := _text(request, "target")) is not None:
        query = query.where(AuditEntry.target == target)
    times = {name: request.query[name] for name in ("since", "until") if name in request.query}
    if (since := datetime_field(times, "since")) is not None:
        query = query.where(AuditEntry.at >= since)
    if (until := datetime_field(times, "until")) is not None:
        query = query.where(AuditEntry.at < until)
    return query


class AuditAPI:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get(BASE, admin_only(self.list_entries)),
            web.get(f"{BASE}.csv", admin_only(self.export_csv)),
        ]

    async def list_entries(self, request: web.Request) -> web.Response:
        query = filtered(request)
        async with self._sessionmaker() as session:
            rows, next_before_id = await newest_page(
                session, request, query, AuditEntry.id, default=PAGE, most=MAX_PAGE
            )
        return web.json_response(
            {"entries": [entry_dict(row) for row in rows], "next_before_id": next_before_id}
        )

    async def export_csv(self, request: web.Request) -> web.StreamResponse:
        query = filtered(request)  # a bad filter is a 400 before anything is sent
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": 'attachment; filename="audit-log.csv"',
            }
        )
        await response.prepare(request)
        async for chunk in self._csv_chunks(query):
            await response.write(chunk)
        await response.write_eof()
        return response

    async def _csv_chunks(self, query: Select[Any]) -> AsyncIterator[bytes]:
        """The CSV in batches, so a long log never sits in memory whole."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        before: int | None = None
        while True:
            page = query if before is None else query.where(AuditEntry.id < before)
            async with self._sessionmaker() as session:
                rows = list(await session.scalars(page.limit(CSV_BATCH)))
            for row in rows:
                values = entry_dict(row)
                values["data"] = json.dumps(row.data, sort_keys=True)
                writer.writerow(safe_cell(values[c]) for c in COLUMNS)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if len(rows) < CSV_BATCH:
                return
            before = rows[-1].id


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting with a formula sign is quoted
    (CSV injection; names and e-mail addresses come from outside)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
