"""``omnidesk contacts export|erase`` on a real database: the zip holds the customer's
words and files, erase needs the confirmation and leaves nothing of them, and what is
missing or wrong is a clear error, not a traceback."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

from click.testing import CliRunner, Result

from omnidesk.bot.cli import main
from omnidesk.bot.migrate import upgrade
from omnidesk.db import create_engine, is_sqlite, sessionmaker
from tests.conftest import reset_postgres
from tests.helpdesk.rights_helpers import Customer, rich_customer, rows_mentioning

MARKER = "c11c11c11a"


async def _prepare(db_url: str, uploads: Path) -> Customer:
    if not is_sqlite(db_url):
        await reset_postgres(db_url)
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        return await rich_customer(sessionmaker(engine), uploads, MARKER)
    finally:
        await engine.dispose()


async def _left(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as session:
            return await rows_mentioning(session, MARKER)
    finally:
        await engine.dispose()


def test_export_then_erase_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    customer = asyncio.run(_prepare(db_url, data / "uploads"))

    def cli(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(
            main, ["--data-dir", str(data), "--database-url", db_url, *args], input=input
        )

    target = tmp_path / "out.zip"
    done = cli("contacts", "export", str(customer.contact_id), "-o", str(target))
    assert done.exit_code == 0, done.output
    with zipfile.ZipFile(target) as archive:
        assert json.loads(archive.read("data.json"))["contact"]["name"] == f"Zed {MARKER}"
        assert archive.read(f"attachments/{customer.file_name}") == customer.file_bytes

    mixed = cli("contacts", "export", str(customer.contact_id), "--tag", "vip")
    assert mixed.exit_code == 2 and "--tag and --q" in mixed.output
    unknown = cli("contacts", "export", "999999", "-o", str(tmp_path / "x.zip"))
    assert unknown.exit_code == 1 and "no contact with id 999999" in unknown.output
    assert cli("contacts", "export", "99999999999").exit_code == 2

    declined = cli("contacts", "erase", str(customer.contact_id), input="n\n")
    assert declined.exit_code == 1
    assert asyncio.run(_left(db_url))

    erased = cli("contacts", "erase", str(customer.contact_id), "--yes")
    assert erased.exit_code == 0, erased.output
    assert "3 messages, 1 files" in erased.output
    assert asyncio.run(_left(db_url)) == []
    assert not (data / "uploads" / customer.file_name).exists()

    twice = cli("contacts", "erase", str(customer.contact_id), "--yes")
    assert twice.exit_code == 1 and "erased already" in twice.output
