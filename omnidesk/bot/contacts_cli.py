"""``omnidesk contacts``: contacts from and to CSV on the command line.

- ``import FILE``: the same job the console's upload queues, run here inline with a
  progress line; prints the counts and the rows that failed (exit status 1 if any did).
- ``export [-o FILE] [--tag T] [--q TEXT]``: every contact (or those with the tag or
  matching the text) as CSV, to standard output or FILE.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, BinaryIO

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.bot.accounts import CLI_ACTOR
from omnidesk.bot.accounts import _run as run_with_database
from omnidesk.helpdesk import actions, unit_of_work
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

ERRORS_SHOWN = 50


@click.group()
def contacts() -> None:
    """Contacts: import and export as CSV."""


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
    result, errors = run_with_database(ctx, lambda maker: _import(maker, file, file.read_bytes()))
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
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="file")
@click.option("--tag", help="only contacts with this tag")
@click.option("--q", "q", help="only contacts whose name, email, phone or company holds this")
@click.pass_context
def contacts_export(
    ctx: click.Context, output: Path | None, tag: str | None, q: str | None
) -> None:
    """Write contacts as CSV to standard output, or to --output."""
    if output is None:
        run_with_database(ctx, lambda maker: _export(maker, sys.stdout.buffer, tag, q))
        return
    with output.open("wb") as out:
        run_with_database(ctx, lambda maker: _export(maker, out, tag, q))
    click.echo(f"contacts written to {output}", err=True)
