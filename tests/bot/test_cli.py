"""The command line, run as an admin or a script would run it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from omnidesk.bot.cli import main
from omnidesk.bot.migrate import alembic_config


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
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"database is at revision {head}" in out
    assert (data_dir / "omnidesk.db").is_file()


def test_kb_search_one_question(data_dir: Path) -> None:
    out = run(data_dir, "kb", "search", "how do I reset my password?", "-k", "3", "--json")
    [line] = out.strip().splitlines()[-1:]
    data = json.loads(line)
    assert data["hits"][0]["slug"] == "reset-password"
    assert len(data["hits"]) == 3
    assert set(data["hits"][0]) == {"slug", "title", "score"}


def test_kb_search_lists_hits_in_the_order_of_the_score_printed(data_dir: Path) -> None:
    out = run(data_dir, "kb", "search", "my lamp does not connect to the wifi", "-k", "5")
    scores = [float(line.split()[1]) for line in out.splitlines()[1:]]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)


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


@pytest.mark.parametrize(
    ("name", "content", "question", "slug"),
    [
        (
            "warranty.csv",
            "question,answer\nHow long is the lamp warranty?,Every lamp has a 2 year warranty.\n",
            "how long is the warranty on a lamp",
            "how-long-is-the-lamp-warranty",
        ),
        (
            "students.json",
            '[{"question": "Is there a student discount?", "answer": "Students get 15 % off."}]',
            "do students get a discount",
            "is-there-a-student-discount",
        ),
        (
            "dimmer-switch.html",
            "<html><head><title>Dimmer | Lumen</title></head><body><nav>Home Shop</nav>"
            "<main><h1>Using a wall dimmer with the lamp</h1><p>Lumen lamps work with "
            "trailing-edge wall dimmers; leading-edge dimmers make the light flicker.</p>"
            "</main></body></html>",
            "can I put the lamp on a wall dimmer",
            "dimmer-switch",
        ),
    ],
)
def test_kb_import_single_file_of_each_format(
    data_dir: Path, tmp_path: Path, name: str, content: str, question: str, slug: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    out = run(data_dir, "kb", "import", str(path))
    assert "1 created, 0 updated, 0 unchanged, 0 failed" in out
    found = run(data_dir, "kb", "search", question, "--json")
    assert json.loads(found.strip().splitlines()[-1])["hits"][0]["slug"] == slug
    again = run(data_dir, "kb", "import", str(path))
    assert "0 created, 0 updated, 1 unchanged, 0 failed" in again


def test_kb_export_round_trips_through_import(data_dir: Path, tmp_path: Path) -> None:
    out = run(data_dir, "kb", "export", str(tmp_path / "export"))
    files = sorted((tmp_path / "export").glob("*.md"))
    assert f"{len(files)} articles written" in out and len(files) >= 30
    text = (tmp_path / "export" / "reset-password.md").read_text()
    assert text.startswith("---\ntitle: How to reset your password\nslug: reset-password\n")
    again = run(data_dir, "kb", "import", str(tmp_path / "export"))
    assert f"0 created, 0 updated, {len(files)} unchanged, 0 failed" in again


def test_kb_eval_prints_the_scores_and_writes_json(data_dir: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    out = run(data_dir, "kb", "eval", "--json", str(report_path))
    assert "148 questions" in out
    # The imports above added a second warranty article (a pair whose question is now an
    # example question of its own), which rightly takes a few warranty questions.
    assert re.search(r"hit@1 0\.(8[89]|9)\d*\s+hit@5 0\.9\d*\s+MRR 0\.9", out), out
    assert "answered (confidence >= 0.50)" in out and "of those right" in out
    report = json.loads(report_path.read_text())
    assert report["cases"] == 148 and report["hit_at_1"] >= 0.88

    mine = tmp_path / "mine.csv"
    mine.write_text("question,expected\nforgot my password,reset-password\n")
    out = run(data_dir, "kb", "eval", str(mine))
    assert "1 questions" in out and "hit@1 1.000" in out

    # Empty expected: questions no article should answer.
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "question,expected\nforgot my password,reset-password\nrecipe for lasagna,\n"
        "who won the world cup in 1998,\n"
    )
    out = run(data_dir, "kb", "eval", str(mixed), "--target-wrong", "0")
    assert "3 questions" in out and "hit@1 1.000" in out
    assert "1 in scope: 100.0% answered right" in out and "2 out of scope: 0.0% answered" in out
    assert "suggested bar for at most 0.0% wrong answers: confidence >= " in out

    bad = tmp_path / "bad.csv"
    bad.write_text("q,a\n1,2\n")
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "kb", "eval", str(bad)])
    assert result.exit_code == 1 and "'question' and 'expected'" in result.output


def test_agents_add_list_disable_set_password(tmp_path: Path) -> None:
    data_dir = tmp_path / "accounts"
    out = run(
        data_dir,
        "agents",
        "add",
        "Ann@X.test",
        "--name",
        "Ann",
        "--skill",
        "billing",
        input="ann-password-1\nann-password-1\n",
    )
    assert "agent ann@x.test created" in out
    run(data_dir, "agents", "add", "root@x.test", "--role", "admin", "--password", "root-pass-1")
    listed = [json.loads(x) for x in run(data_dir, "agents", "list", "--json").splitlines()]
    assert [(a["email"], a["role"], a["active"]) for a in listed] == [
        ("ann@x.test", "agent", True),
        ("root@x.test", "admin", True),
    ]
    assert listed[0]["skills"] == ["billing"]
    assert "ann@x.test" in run(data_dir, "agents", "list")

    again = CliRunner().invoke(
        main, ["--data-dir", str(data_dir), "agents", "add", "ann@x.test", "--password", "x" * 9]
    )
    assert again.exit_code != 0 and "exists" in again.output
    weak = CliRunner().invoke(
        main, ["--data-dir", str(data_dir), "agents", "add", "bo@x.test", "--password", "short"]
    )
    assert weak.exit_code != 0 and "characters" in weak.output

    assert "sessions ended" in run(
        data_dir, "agents", "set-password", "ann@x.test", "--password", "ann-password-2"
    )
    run(data_dir, "agents", "disable", "ann@x.test")
    listed = [json.loads(x) for x in run(data_dir, "agents", "list", "--json").splitlines()]
    assert listed[0]["active"] is False
    missing = CliRunner().invoke(
        main, ["--data-dir", str(data_dir), "agents", "disable", "nobody@x.test"]
    )
    assert missing.exit_code != 0 and "no account" in missing.output
