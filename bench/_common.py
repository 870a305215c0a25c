"""Helpers the retrieval benchmarks share: data sets, tables, JSON results, memory, temp KBs."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import platform
import re
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omnidesk.config import Settings  # noqa: E402
from omnidesk.knowledge import (  # noqa: E402
    SAMPLE_DIR,
    ArticleInput,
    Embedder,
    KnowledgeBase,
    markdown_to_text,
    parse_markdown_article,
)

RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "bench" / "data"


@dataclass(frozen=True)
class Dataset:
    """Articles and eval questions ``(question, expected slug)``."""

    name: str
    articles: list[ArticleInput]
    questions: list[tuple[str, str]]


def _eval_rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["question"], row["expected"]) for row in csv.DictReader(fh)]


def sample_dataset() -> Dataset:
    articles = [
        parse_markdown_article(p.read_text(encoding="utf-8"), fallback_slug=p.stem)
        for p in sorted(SAMPLE_DIR.glob("*.md"))
    ]
    return Dataset("sample", articles, _eval_rows(SAMPLE_DIR / "eval.csv"))


def bank_dataset() -> Dataset:
    raw = json.loads((DATA / "bank_faq.json").read_text(encoding="utf-8"))
    articles = [
        ArticleInput(slug=r["slug"], title=r["title"], body=r["body"], category="banking")
        for r in raw
    ]
    return Dataset("bank_faq", articles, _eval_rows(DATA / "bank_faq_eval.csv"))


def sentences(text: str) -> list[str]:
    """Sentences of a Markdown body with at least four words (more real embedding centres)."""
    plain = markdown_to_text(text)
    parts = re.split(r"(?<=[.!?])\s+|\n+", plain)
    return [p.strip() for p in parts if len(p.split()) >= 4]


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def rss_mb() -> float:
    """Resident memory of this process now (not the peak), in MiB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]]) -> str:
    """Plain-text table; ``columns`` are ``(key, header, format)``."""
    cells = [[h for _, h, _ in columns]] + [
        [format(row[key], fmt) if row.get(key) is not None else "-" for key, _, fmt in columns]
        for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_result(name: str, data: dict[str, Any], out: Path | None = None) -> Path:
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine()}
    with contextlib.suppress(ImportError):
        import faiss
        import torch

        meta |= {"faiss": faiss.__version__, "torch": torch.__version__}
        meta |= {"torch_threads": torch.get_num_threads()}
    path.write_text(json.dumps({"meta": meta, **data}, indent=2))
    return path


@contextlib.asynccontextmanager
async def temp_kb(embedder: Embedder, *, seed_sample: bool = False) -> AsyncIterator[KnowledgeBase]:
    """A started knowledge base on a fresh SQLite file in a temporary folder."""
    from omnidesk.bot.migrate import upgrade
    from omnidesk.db import create_engine, sessionmaker

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        url = f"sqlite+aiosqlite:///{data_dir / 'kb.sqlite'}"
        settings = Settings(data_dir=data_dir, database_url=url)
        settings.knowledge.seed_sample = seed_sample
        engine = create_engine(url)
        await upgrade(engine)
        try:
            async with KnowledgeBase(settings, sessionmaker(engine), embedder) as kb:
                yield kb
        finally:
            await engine.dispose()
