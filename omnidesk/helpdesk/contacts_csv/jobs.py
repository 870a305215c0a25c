"""Running contact imports: a worker in the service takes queued imports (and those whose
process died, by their stale heartbeat) and writes their rows in batches, each batch and
its progress in one transaction; the command line runs the same code inline.

Progress lives on the ``contact_imports`` row (``processed`` of ``total``, the counts
and the per-row errors), so the console polls it and a resumed import carries on from
where the last committed batch ended."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.db import utcnow
from omnidesk.helpdesk import actions
from omnidesk.helpdesk.actions.base import iso
from omnidesk.helpdesk.contacts_csv.parse import (
    Attribute,
    CsvError,
    RowError,
    Sheet,
    clean_row,
    excerpt,
    parse,
)
from omnidesk.helpdesk.events import Event, EventBus, unit_of_work
from omnidesk.helpdesk.models import AttributeDefinition, ContactImport, ContactImportError

log = logging.getLogger(__name__)

BATCH = 250
# A running import whose heartbeat is older than this lost its process.
STALE_AFTER = dt.timedelta(seconds=30)
MAX_ERRORS_SHOWN = 500
Progress = Callable[[dict[str, Any]], None]


async def attribute_definitions(session: AsyncSession) -> dict[str, Attribute]:
    rows = await session.scalars(select(AttributeDefinition))
    return {
        row.key: Attribute(row.key, row.type, list(row.options or []), row.label) for row in rows
    }


def summary(job: ContactImport) -> dict[str, Any]:
    """An import's state and counts, as the API and the command line show them."""
    return {
        "id": job.id,
        "filename": job.filename,
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "failed": job.failed,
        "error": job.error,
        "created_by": job.created_by,
        "created_at": iso(job.created_at),
        "heartbeat_at": iso(job.heartbeat_at),
        "finished_at": iso(job.finished_at),
    }


async def import_errors(
    session: AsyncSession, import_id: int, limit: int = MAX_ERRORS_SHOWN
) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(ContactImportError)
        .where(ContactImportError.import_id == import_id)
        .order_by(ContactImportError.row, ContactImportError.id)
        .limit(limit)
    )
    return [{"row": r.row, "reason": r.reason, "raw": r.raw} for r in rows]


def _cleaned(
    sheet: Sheet, rows: list[tuple[int, list[str]]], attributes: dict[str, Attribute]
) -> list[actions.ContactRow | actions.RowFailure]:
    out: list[actions.ContactRow | actions.RowFailure] = []
    for line, cells in rows:
        try:
            out.append(clean_row(sheet, line, cells, attributes))
        except RowError as exc:
            out.append(actions.RowFailure(line, exc.reason, excerpt(sheet, cells)))
    return out


async def run_import(
    maker: async_sessionmaker[AsyncSession],
    bus: EventBus | None,
    import_id: int,
    *,
    claim: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any] | None:
    """Run import ``import_id`` to its end; its summary, or None when another worker
    holds it. ``claim=False``: the caller queued it as running itself."""
    if claim:
        async with unit_of_work(maker, bus) as session:
            if not await actions.claim_contact_import(session, import_id, utcnow() - STALE_AFTER):
                return None
    async with maker() as session:
        job = await session.get_one(ContactImport, import_id)
        content, offset = job.content or "", job.processed
        attributes = await attribute_definitions(session)
    try:
        sheet = parse(content, attributes)
    except CsvError as exc:
        return await _finish(maker, bus, import_id, exc.reason)
    try:
        for start in range(offset, len(sheet.rows), BATCH):
            rows = _cleaned(sheet, sheet.rows[start : start + BATCH], attributes)
            async with unit_of_work(maker, bus) as session:
                job = await _locked(session, import_id)
                if job.status != "running" or job.processed != start:
                    return None  # another worker took it over: it carries on
                await actions.import_contact_rows(session, job, rows)
                state = summary(job)
            if progress is not None:
                progress(state)
            await asyncio.sleep(0)  # let requests in between batches
    except Exception as exc:
        log.exception("contact import %s failed", import_id)
        # The type only: the driver's message may quote a customer's cells.
        reason = f"stopped by a database error ({type(exc).__name__}); see the server log"
        return await _finish(maker, bus, import_id, reason)
    return await _finish(maker, bus, import_id, None)


async def _locked(session: AsyncSession, import_id: int) -> ContactImport:
    # FOR UPDATE on PostgreSQL (SQLite, one writer at a time, renders none).
    query = select(ContactImport).where(ContactImport.id == import_id).with_for_update()
    return (await session.scalars(query)).one()


async def _finish(
    maker: async_sessionmaker[AsyncSession],
    bus: EventBus | None,
    import_id: int,
    error: str | None,
) -> dict[str, Any]:
    async with unit_of_work(maker, bus) as session:
        job = await session.get_one(ContactImport, import_id)
        await actions.finish_contact_import(session, job, error)
        return summary(job)


async def claimable(maker: async_sessionmaker[AsyncSession]) -> list[int]:
    """Imports waiting for a worker: queued, or running with a stale heartbeat."""
    stale = utcnow() - STALE_AFTER
    async with maker() as session:
        rows = await session.scalars(
            select(ContactImport.id)
            .where(
                (ContactImport.status == "queued")
                | (
                    (ContactImport.status == "running")
                    & (
                        (ContactImport.heartbeat_at.is_(None))
                        | (ContactImport.heartbeat_at < stale)
                    )
                )
            )
            .order_by(ContactImport.id)
        )
        return list(rows)


class ImportRunner:
    """The service's import worker: one import at a time, woken by the
    ``contact_import`` event and looking again every ``STALE_AFTER`` for imports whose
    process died."""

    def __init__(self, maker: async_sessionmaker[AsyncSession], bus: EventBus) -> None:
        self._maker = maker
        self._bus = bus
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="contact-imports")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def on_event(self, event: Event) -> None:
        if event.kind == "contact_import" and "processed" not in event.data:
            self.wake()

    async def run_ready(self) -> int:
        """Run every import that waits; how many this worker ran."""
        ran = 0
        for import_id in await claimable(self._maker):
            if await run_import(self._maker, self._bus, import_id) is not None:
                ran += 1
        return ran

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_ready()
            except Exception:
                log.exception("contact import worker round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), STALE_AFTER.total_seconds())
