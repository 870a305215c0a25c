"""The widget's size budget: its script and style together stay under 20 KB gzipped,
as a business's visitors download them on every site that embeds the chat."""

from __future__ import annotations

import gzip
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "omnidesk" / "channels" / "webchat" / "static"
BUDGET_BYTES = 20 * 1024
# Everything the widget loads into a host page (demo.html is our own page, not the widget).
SHIPPED = ("widget.js", "widget.css")


def gzipped(name: str) -> int:
    return len(gzip.compress((STATIC / name).read_bytes(), compresslevel=9))


def test_script_and_style_fit_in_20_kb_gzipped() -> None:
    sizes = {name: gzipped(name) for name in SHIPPED}
    assert sum(sizes.values()) < BUDGET_BYTES, sizes


def test_nothing_else_ships_with_the_widget() -> None:
    # A new file would need its own place in the budget above.
    shipped = {p.name for p in STATIC.iterdir() if p.suffix in (".js", ".css")}
    assert shipped == set(SHIPPED)
