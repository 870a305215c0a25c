"""The command line, run as an admin or a script would run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from omnidesk.bot.cli import main


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One data directory for the module: the sample is embedded once, then reused.
    return tmp_path_factory.mktemp("cli") / "data"


def run(data_dir: Path, *args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], input=input)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.stdout


def test_db_upgrade(data_dir: Path) -> None:
    out = run(data_dir, "db", "upgrade")
    assert "database is at revision 0002" in out
    assert (data_dir / "omnidesk.db").is_file()


def test_kb_search_one_question(data_dir: Path) -> None:
    out = run(data_dir, "kb", "search", "how do I reset my password?", "-k", "3", "--json")
    [line] = out.strip().splitlines()[-1:]
    data = json.loads(line)
    assert data["hits"][0]["slug"] == "reset-password"
    assert len(data["hits"]) == 3
    assert set(data["hits"][0]) == {"slug", "title", "score"}


def test_kb_search_reads_stdin_one_json_line_each(data_dir: Path) -> None:
    out = run(data_dir, "kb", "search", input="forgot my password\nwhere is my parcel\n")
    lines = [json.loads(x) for x in out.strip().splitlines() if x.startswith("{")]
    assert [x["question"] for x in lines] == ["forgot my password", "where is my parcel"]
    assert lines[0]["hits"][0]["slug"] == "reset-password"
    assert lines[1]["hits"][0]["slug"] in {"track-order", "lost-damaged-parcel"}


def test_ask_answers_with_source(data_dir: Path) -> None:
    out = run(data_dir, "ask", "how do I reset my password?")
    assert "Source:" in out and "/kb/reset-password" in out
    assert "confidence" in out


def test_ask_out_of_scope_offers_a_person(data_dir: Path) -> None:
    out = run(data_dir, "ask", "what is the capital of Mongolia?")
    assert "not sure" in out.lower() and "Talk to a person" in out


def test_kb_import_folder_updates_by_slug_and_names_broken_files(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "gift-cards.md").write_text(
        "---\ntitle: Gift cards\nslug: gift-cards\ncategory: billing\n---\n"
        "# Gift cards\n\nLumen gift cards come in 25, 50 and 100 euro and never expire.\n"
    )
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\n# Broken\n")
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "kb", "import", str(folder)])
    assert result.exit_code == 1
    assert "broken.md" in result.output
    out = run(data_dir, "kb", "search", "do gift cards expire", "--json")
    assert json.loads(out.strip().splitlines()[-1])["hits"][0]["slug"] == "gift-cards"
