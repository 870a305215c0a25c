"""The import table of ``docs/architecture.md`` holds: each room imports only the rooms
it may, and nothing but the entry point imports ``omnidesk.bot``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "omnidesk"

# Keep in step with the table in docs/architecture.md.
MAY_IMPORT: dict[str, set[str]] = {
    "config": set(),
    "untrusted": set(),
    "ratelimit": set(),
    "messages": {"untrusted"},
    "db": {"config"},
    "migrations": {"config", "db", "helpdesk", "knowledge"},
    "channels": {"config", "messages", "ratelimit", "untrusted"},
    "knowledge": {"config", "db", "untrusted"},
    "helpdesk": {"config", "db", "messages", "ratelimit", "untrusted"},
    "escalation": {"config", "helpdesk", "messages", "untrusted"},
    "reports": {"config", "db", "helpdesk", "escalation"},
}


def imported_rooms(path: Path) -> set[str]:
    """The top-level omnidesk packages a module imports."""
    rooms: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        rooms.update(n.split(".")[1] for n in names if n.startswith("omnidesk.") and "." in n)
    return rooms


def room_files(room: str) -> list[Path]:
    single = ROOT / f"{room}.py"
    return [single] if single.exists() else sorted((ROOT / room).rglob("*.py"))


@pytest.mark.parametrize("room", sorted(MAY_IMPORT))
def test_rooms_import_only_what_they_may(room: str) -> None:
    files = room_files(room)
    assert files, room
    for path in files:
        extra = imported_rooms(path) - MAY_IMPORT[room] - {room}
        assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}"


def test_nothing_but_the_entry_point_imports_bot() -> None:
    for path in ROOT.rglob("*.py"):
        if path.is_relative_to(ROOT / "bot") or path == ROOT / "__main__.py":
            continue
        assert "bot" not in imported_rooms(path), path.relative_to(ROOT)
