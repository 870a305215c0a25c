"""Admins' routes for contacts as CSV:

- ``POST /api/v1/contacts/imports``: the file as ``multipart/form-data`` (field
  ``file``) or as the raw body (``text/csv``), at most ``parse.MAX_FILE_BYTES`` (413
  beyond). A file that is not a usable CSV is a 400 that says why, before anything is
  stored; else 202 with the queued import, which the service's worker runs.
- ``GET /api/v1/contacts/imports/{id}``: its status, progress, counts and row errors.
- ``GET /api/v1/contacts/export.csv``: every contact as CSV, or ``?tag=`` / ``?q=``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk import actions
from omnidesk.helpdesk.contacts_csv.export import MAX_QUERY, csv_chunks
from omnidesk.helpdesk.contacts_csv.jobs import attribute_definitions, import_errors, summary
from omnidesk.helpdesk.contacts_csv.parse import MAX_FILE_BYTES, CsvError, decode, parse
from omnidesk.helpdesk.events import EventBus, unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, actor_of, admin_only, read_body
from omnidesk.helpdesk.models import ContactImport, ContactImportError
from omnidesk.helpdesk.work_http import path_id

BASE = "/api/v1/contacts"
MAX_FILENAME = 255


def too_large() -> HTTPJSONError:
    return HTTPJSONError(413, "too_large", f"the file is larger than {MAX_FILE_BYTES} bytes")


async def _multipart_file(request: web.Request) -> tuple[bytes, str]:
    """The ``file`` part of a form upload, read in bounded chunks."""
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name != "file":
            continue
        chunks: list[bytes] = []
        size = 0
        while chunk := await part.read_chunk(64 * 1024):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise too_large()
            chunks.append(chunk)
        return b"".join(chunks), part.filename or "contacts.csv"
    raise HTTPJSONError(400, "invalid", "the form has no 'file' field")


async def uploaded_file(request: web.Request) -> tuple[bytes, str]:
    """The uploaded CSV's bytes and its name."""
    if request.content_length is not None and request.content_length > MAX_FILE_BYTES + 64 * 1024:
        raise too_large()
    if request.content_type == "multipart/form-data":
        try:
            return await _multipart_file(request)
        except (ValueError, AssertionError):
            raise HTTPJSONError(400, "invalid", "the form upload could not be read") from None
    name = request.query.get("filename", "") or "contacts.csv"
    return await read_body(request, MAX_FILE_BYTES), name


class ContactsCsvAPI:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.post(f"{BASE}/imports", admin_only(self.start_import)),
            web.get(BASE + r"/imports/{id:\d+}", admin_only(self.get_import)),
            web.get(f"{BASE}/export.csv", admin_only(self.export_csv)),
        ]

    async def start_import(self, request: web.Request) -> web.Response:
        data, filename = await uploaded_file(request)
        async with self._sessionmaker() as session:
            attributes = await attribute_definitions(session)
        try:
            text = decode(data)
            sheet = parse(text, attributes)
        except CsvError as exc:
            raise HTTPJSONError(400, "invalid_csv", exc.reason) from None
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            job = await actions.queue_contact_import(
                session,
                filename=filename[:MAX_FILENAME],
                content=text,
                total=len(sheet.rows),
                by=actor_of(request),
            )
            body: dict[str, Any] = {"import": summary(job)}
        body["columns"] = {"used": sheet.used, "ignored": sheet.ignored}
        return web.json_response(body, status=202)

    async def get_import(self, request: web.Request) -> web.Response:
        import_id = path_id(request)
        async with self._sessionmaker() as session:
            job = await session.get(ContactImport, import_id)
            if job is None:
                raise HTTPJSONError(404, "not_found", "no such import")
            errors = await import_errors(session, import_id)
            count = await session.scalar(
                select(func.count())
                .select_from(ContactImportError)
                .where(ContactImportError.import_id == import_id)
            )
            body = {"import": summary(job), "errors": errors, "errors_total": count or 0}
        return web.json_response(body)

    async def export_csv(self, request: web.Request) -> web.StreamResponse:
        tag, q = request.query.get("tag", ""), request.query.get("q", "")
        if len(tag) > MAX_QUERY or len(q) > MAX_QUERY:
            raise HTTPJSONError(400, "invalid", f"'tag' and 'q' are at most {MAX_QUERY} characters")
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": 'attachment; filename="contacts.csv"',
            }
        )
        await response.prepare(request)
        async for chunk in csv_chunks(self._sessionmaker, tag=tag or None, q=q or None):
            await response.write(chunk)
        await response.write_eof()
        return response
