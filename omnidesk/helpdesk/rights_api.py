"""Admins' data-rights routes: a contact's export, their erasure, and the retention
task's runs.

- ``GET /api/v1/contacts/{id}/export``: a zip with ``data.json`` and the files they sent
  (``queries.contact_export``); an audit entry says who took it.
- ``POST /api/v1/contacts/{id}/erase`` with ``{"confirm": id}``: the body must repeat the
  contact's id (a number), so a slip of the wrong button or URL cannot erase anyone;
  otherwise 400. An erased contact is refused with 409 ``already_erased``.
- ``GET /api/v1/admin/retention``: the retention settings and the newest runs.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import IO

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.config import PrivacySettings
from omnidesk.db import is_row_id
from omnidesk.helpdesk import actions, queries
from omnidesk.helpdesk.actions import iso
from omnidesk.helpdesk.events import EventBus, unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, actor_of, admin_only, read_json
from omnidesk.helpdesk.models import Contact, RetentionRun
from omnidesk.helpdesk.uploads import remove_uploads
from omnidesk.helpdesk.work_http import page_limit, path_id, refusals

# Exports bigger than this go to a temporary file rather than memory.
IN_MEMORY_BYTES = 16 * 1024 * 1024
CHUNK_BYTES = 256 * 1024


class RightsAPI:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        uploads_dir: Path | None,
        privacy: PrivacySettings,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._uploads_dir = uploads_dir
        self._privacy = privacy

    def routes(self) -> list[web.AbstractRouteDef]:
        one = r"/api/v1/contacts/{id:\d+}"
        return [
            web.get(one + "/export", admin_only(self.export)),
            web.post(one + "/erase", admin_only(self.erase)),
            web.get("/api/v1/admin/retention", admin_only(self.retention)),
        ]

    async def export(self, request: web.Request) -> web.StreamResponse:
        contact_id = path_id(request)
        async with unit_of_work(self._sessionmaker) as session:
            contact = await _contact(session, contact_id)
            export = await queries.contact_export(session, contact, self._uploads_dir)
            actions.record_export(session, contact, actor_of(request))
        with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES) as spool:
            await asyncio.to_thread(queries.write_zip, export, spool)
            size = spool.tell()
            spool.seek(0)
            response = web.StreamResponse(
                headers={
                    "Content-Type": "application/zip",
                    "Content-Disposition": f'attachment; filename="contact-{contact_id}.zip"',
                    "Cache-Control": "private, no-store",
                }
            )
            response.content_length = size
            await response.prepare(request)
            while chunk := await asyncio.to_thread(_read, spool):
                await response.write(chunk)
        await response.write_eof()
        return response

    async def erase(self, request: web.Request) -> web.Response:
        contact_id = path_id(request)
        data = await read_json(request)
        confirm = data.get("confirm")
        if not is_row_id(confirm) or confirm != contact_id:
            raise HTTPJSONError(
                400, "confirm", 'send {"confirm": <the contact\'s id>} to erase this contact'
            )
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            contact = await _contact(session, contact_id)
            with refusals():
                done = await actions.erase_contact(session, contact, actor_of(request))
            erased_at = iso(contact.erased_at)
        removed = await asyncio.to_thread(remove_uploads, self._uploads_dir, done.files)
        return web.json_response(
            {
                "contact_id": contact_id,
                "erased_at": erased_at,
                **done.counts(),
                "files_removed": removed,
            }
        )

    async def retention(self, request: web.Request) -> web.Response:
        limit = page_limit(request, 20, 100)
        async with self._sessionmaker() as session:
            runs = (
                await session.scalars(
                    select(RetentionRun).order_by(RetentionRun.id.desc()).limit(limit)
                )
            ).all()
        return web.json_response(
            {
                "retention_days": self._privacy.retention_days,
                "mode": self._privacy.retention_mode,
                "runs": [
                    {
                        "id": run.id,
                        "started_at": iso(run.started_at),
                        "finished_at": iso(run.finished_at),
                        "mode": run.mode,
                        "days": run.days,
                        "conversations": run.conversations,
                        "messages": run.messages,
                        "attachments": run.attachments,
                    }
                    for run in runs
                ],
            }
        )


def _read(spool: IO[bytes]) -> bytes:
    return spool.read(CHUNK_BYTES)


async def _contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise HTTPJSONError(404, "not_found", "no such contact")
    return contact
