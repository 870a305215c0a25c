"""``omnidesk contacts``: contacts on the command line.

- ``import FILE``: the same CSV job the console's upload queues, run here inline with a
  progress line; prints the counts and the rows that failed (exit status 1 if any did).
- ``export [-o FILE] [--tag T] [--q TEXT]``: every contact (or those with the tag or
  matching the text) as CSV, to standard output or FILE.
- ``export CONTACT_ID [-o FILE]``: everything held about one contact, a zip of
  ``data.json`` and the files they sent, as the admin route makes it.
- ``erase CONTACT_ID [--yes]``: that contact's erasure, as the admin route does it.

Exports and erasures are audited under the command line's name.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.bot.accounts import CLI_ACTOR, open_database
from omnidesk.config import Settings, load_settings
from omnidesk.db import MAX_ID
from omnidesk.helpdesk import actions, queries, unit_of_work
from omnidesk.helpdesk.contacts_csv import (
    MAX_FILE_BYTES,
    CsvError,
    attribute_definitions,
    csv_chunks,
    decode,
    import_errors,
    parse,
    run_import,
)
from omnidesk.helpdesk.models import Contact
from omnidesk.helpdesk.uploads import remove_uploads

T = TypeVar("T")
Work = Callable[[Settings, async_sessionmaker[AsyncSession]], Awaitable[T]]
CONTACT_ID = click.IntRange(1, MAX_ID)
ERRORS_SHOWN = 50


def _run(ctx: click.Context, work: Work[T]) -> T:
    settings = load_settings(**ctx.obj.get("overrides", {}))

    async def run() -> T:
        async with open_database(settings) as maker:
            try:
                return await work(settings, maker)
            except actions.ActionError as exc:
                raise click.ClickException(exc.message) from None

    return asyncio.run(run())


async def _contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise click.ClickException(f"no contact with id {contact_id}")
    return contact


@click.group()
def contacts() -> None:
    """Contacts: import and export as CSV, export or erase what is held about one."""


# -- import ---------------------------------------------------------------------------------


def _progress(state: dict[str, Any]) -> None:
    total = state["total"] or 1
    click.echo(
        f"\r  {state['processed']}/{state['total']} rows ({100 * state['processed'] // total}%)",
        nl=False,
        err=True,
    )


async def _import(
    maker: async_sessionmaker[AsyncSession], path: Path, data: bytes
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    async with maker() as session:
        attributes = await attribute_definitions(session)
    try:
        text = decode(data)
        sheet = parse(text, attributes)
    except CsvError as exc:
        raise click.ClickException(f"{path.name}: {exc.reason}") from None
    if sheet.ignored:
        click.echo(f"  columns ignored: {', '.join(sheet.ignored)}", err=True)
    async with unit_of_work(maker) as session:
        job = await actions.queue_contact_import(
            session,
            filename=path.name,
            content=text,
            total=len(sheet.rows),
            by=CLI_ACTOR,
            running=True,
        )
        import_id = job.id
    result = await run_import(maker, None, import_id, claim=False, progress=_progress)
    click.echo("", err=True)
    if result is None:
        raise click.ClickException("another process took the import over")
    async with maker() as session:
        errors = await import_errors(session, import_id, limit=ERRORS_SHOWN)
    return result, errors


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def contacts_import(ctx: click.Context, file: Path) -> None:
    """Import contacts from FILE (CSV with a header row: name, email, phone, company,
    tags, notes and attribute keys). A row updates the contact with the same email, else
    the same phone; importing the same file again changes nothing. Exit status 1 when a
    row failed."""
    if file.stat().st_size > MAX_FILE_BYTES:
        raise click.ClickException(f"{file.name} is larger than {MAX_FILE_BYTES} bytes")
    result, errors = _run(ctx, lambda _settings, maker: _import(maker, file, file.read_bytes()))
    click.echo(
        f"import {result['id']} {result['status']}: {result['processed']} rows, "
        f"{result['created']} created, {result['updated']} updated, "
        f"{result['unchanged']} unchanged, {result['failed']} failed"
    )
    if result["error"]:
        click.echo(f"  {result['error']}", err=True)
    for error in errors:
        click.echo(f"  row {error['row']}: {error['reason']}", err=True)
    if result["failed"] > len(errors):
        click.echo(f"  ... and {result['failed'] - len(errors)} more", err=True)
    if result["failed"] or result["status"] != "done":
        sys.exit(1)


# -- export ---------------------------------------------------------------------------------


async def _export(
    maker: async_sessionmaker[AsyncSession], out: BinaryIO, tag: str | None, q: str | None
) -> None:
    async for chunk in csv_chunks(maker, tag=tag, q=q):
        out.write(chunk)


@contacts.command("export")
@click.argument("contact_id", type=CONTACT_ID, required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the file to write (default: the CSV to standard output, a contact's zip to "
    "contact-ID.zip here)",
)
@click.option("--tag", help="only contacts with this tag (CSV)")
@click.option("--q", "q", help="only contacts whose name, email, phone or company holds this (CSV)")
@click.pass_context
def contacts_export(
    ctx: click.Context,
    contact_id: int | None,
    output: Path | None,
    tag: str | None,
    q: str | None,
) -> None:
    """Contacts as CSV; with CONTACT_ID, everything held about that contact as a zip of
    data.json and their files."""
    if contact_id is not None:
        if tag is not None or q is not None:
            raise click.UsageError("--tag and --q filter the CSV export, not one contact's")
        _export_contact(ctx, contact_id, output)
        return
    if output is None:
        _run(ctx, lambda _settings, maker: _export(maker, sys.stdout.buffer, tag, q))
        return
    with output.open("wb") as out:
        _run(ctx, lambda _settings, maker: _export(maker, out, tag, q))
    click.echo(f"contacts written to {output}", err=True)


def _export_contact(ctx: click.Context, contact_id: int, output: Path | None) -> None:
    target = output or Path(f"contact-{contact_id}.zip")

    async def work(settings: Settings, maker: async_sessionmaker[AsyncSession]) -> int:
        async with unit_of_work(maker) as session:
            contact = await _contact(session, contact_id)
            export = await queries.contact_export(session, contact, settings.uploads_dir)
            actions.record_export(session, contact, CLI_ACTOR)
        with target.open("wb") as file:
            await asyncio.to_thread(queries.write_zip, export, file)
        return len(export.files)

    files = _run(ctx, work)
    click.echo(f"contact {contact_id} exported to {target} ({files} files)")


@contacts.command("erase")
@click.argument("contact_id", type=CONTACT_ID)
@click.confirmation_option(
    prompt="Erase this contact's messages, files, identities and details for good?"
)
@click.pass_context
def contacts_erase(ctx: click.Context, contact_id: int) -> None:
    """Erase CONTACT_ID: messages redacted, files deleted, identities and details gone;
    the audit entry stays. --yes skips the question."""

    async def work(settings: Settings, maker: async_sessionmaker[AsyncSession]) -> str:
        async with unit_of_work(maker) as session:
            contact = await _contact(session, contact_id)
            done = await actions.erase_contact(session, contact, CLI_ACTOR)
        removed = await asyncio.to_thread(remove_uploads, settings.uploads_dir, done.files)
        counts = done.counts()
        return (
            f"{counts['conversations']} conversations, {counts['messages']} messages, "
            f"{removed} files"
        )

    summary = _run(ctx, work)
    click.echo(f"contact {contact_id} erased: {summary}")
