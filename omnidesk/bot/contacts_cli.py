"""Contacts from the command line (``omnidesk contacts ...``): a contact's export (a zip
of ``data.json`` and the files they sent) and their erasure, as the admin routes do them,
each with its audit entry under the command line's name."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.bot.accounts import CLI_ACTOR, open_database
from omnidesk.config import Settings, load_settings
from omnidesk.db import MAX_ID
from omnidesk.helpdesk import actions, queries, unit_of_work
from omnidesk.helpdesk.models import Contact
from omnidesk.helpdesk.uploads import remove_uploads

T = TypeVar("T")
Work = Callable[[Settings, async_sessionmaker[AsyncSession]], Awaitable[T]]
CONTACT_ID = click.IntRange(1, MAX_ID)


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
    """Contacts: export and erase what is held about one."""


@contacts.command("export")
@click.argument("contact_id", type=CONTACT_ID, required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the zip to write (default: contact-ID.zip here)",
)
@click.pass_context
def contacts_export(ctx: click.Context, contact_id: int | None, output: Path | None) -> None:
    """Write everything held about CONTACT_ID as a zip: data.json and their files."""
    if contact_id is None:
        raise click.UsageError("give the CONTACT_ID whose data to export")
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
