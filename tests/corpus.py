"""The captured-payload corpus under ``tests/fixtures/<channel>/``: real mails, Slack
events and Telegram updates, each listed in its folder's ``manifest.toml`` with where it
came from and what the adapter must make of it.

A manifest names its source and licence once, then one ``[[case]]`` table per file::

    source = "https://github.com/owner/repo/tree/<commit>/path"
    licence = "MIT"

    [[case]]
    file = "reply_below_quote.eml"
    why = "a reply written below the quote"      # optional: the fault it guards against
    text = "exact text the customer wrote"       # or text_contains = [...]
    text_excludes = ["words that must be gone"]  # optional
    # ...the fields the channel's table test checks (attachments, thread_key, ...)

Every file in a folder with a manifest must be listed in it, so a fixture cannot sit
untested; a fixed bug brings its fixture (see docs/testing.md).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MANIFEST = "manifest.toml"


@dataclass(frozen=True)
class Case:
    """One fixture file and what its manifest expects of it."""

    path: Path
    source: str
    licence: str
    expect: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.path.relative_to(FIXTURES))

    def text_ok(self, text: str) -> None:
        """Assert the adapter's text against ``text`` / ``text_contains`` / ``text_excludes``."""
        if "text" in self.expect:
            assert text == self.expect["text"], f"{self.id}: text"
        for part in self.expect.get("text_contains", []):
            assert part in text, f"{self.id}: {part!r} missing from {text!r}"
        for part in self.expect.get("text_excludes", []):
            assert part not in text, f"{self.id}: {part!r} kept in {text!r}"


def manifests(channel: str) -> list[Path]:
    return sorted((FIXTURES / channel).rglob(MANIFEST))


def load_cases(channel: str) -> list[Case]:
    """Every listed fixture of ``channel``; a manifest that leaves a file out, lists a
    missing one or lacks its source fails loudly."""
    cases: list[Case] = []
    for manifest in manifests(channel):
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        folder = manifest.parent
        for key in ("source", "licence"):
            if not str(data.get(key, "")).strip():
                raise AssertionError(f"{manifest}: no {key}")
        listed: set[str] = set()
        for entry in data.get("case", []):
            name = entry["file"]
            if name in listed:
                raise AssertionError(f"{manifest}: {name} listed twice")
            if not (folder / name).is_file():
                raise AssertionError(f"{manifest}: {name} does not exist")
            if not any(k in entry for k in ("text", "text_contains")):
                raise AssertionError(f"{manifest}: {name} expects no text")
            listed.add(name)
            expect = {k: v for k, v in entry.items() if k != "file"}
            cases.append(Case(folder / name, data["source"], data["licence"], expect))
        present = {p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST}
        unlisted = sorted(present - listed)
        if unlisted:
            raise AssertionError(f"{manifest}: files not listed: {', '.join(unlisted)}")
    return cases


def corpus_params(channel: str) -> list[Any]:
    """``load_cases`` as pytest parameters named by file."""
    return [pytest.param(case, id=case.id) for case in load_cases(channel)]
