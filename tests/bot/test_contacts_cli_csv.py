"""``omnidesk contacts import|export`` on SQLite and PostgreSQL: an import prints its
progress and counts and fails (exit 1) when a row did, a second run changes nothing,
an unusable file is refused with its reason, and the export writes what was imported."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from omnidesk.bot.cli import main
from tests.conftest import Database

FILE = (
    "Name,Email,Phone,Tags\n"
    "Ada,ada@example.com,+442079460958,vip\n"
    "Bad,not-an-address,,\n"
    "Bob,bob@example.com,,\n"
)


def invoke(db: Database, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", db.url, "contacts", *args])


def test_import_then_export(db: Database, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(FILE, encoding="utf-8")
    first = invoke(db, "import", str(source))
    assert first.exit_code == 1, first.output
    assert "3/3 rows (100%)" in first.stderr
    assert "3 rows, 2 created, 0 updated, 0 unchanged, 1 failed" in first.stdout
    assert "row 3: 'email' must be an email address" in first.stderr

    again = invoke(db, "import", str(source))
    assert "3 rows, 0 created, 0 updated, 2 unchanged, 1 failed" in again.stdout

    exported = invoke(db, "export", "--tag", "VIP")
    assert exported.exit_code == 0, exported.output
    lines = exported.stdout.lstrip("\ufeff").splitlines()
    assert len(lines) == 2 and lines[1].split(",")[1:5] == [
        "Ada",
        "ada@example.com",
        "",
        "'+442079460958",
    ]

    out = tmp_path / "all.csv"
    assert invoke(db, "export", "-o", str(out), "--q", "example").exit_code == 0
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 3

    clean = tmp_path / "clean.csv"
    clean.write_text("email\nnew@example.com\n", encoding="utf-8")
    ok = invoke(db, "import", str(clean))
    assert ok.exit_code == 0 and "1 created" in ok.stdout


def test_an_unusable_file_is_refused_with_its_reason(db: Database, tmp_path: Path) -> None:
    source = tmp_path / "photo.csv"
    source.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = invoke(db, "import", str(source))
    assert result.exit_code == 1
    assert "photo.csv: the file is not text" in result.output
