"""The lexical side: BM25 over chunk texts, rebuilt in memory whenever articles change."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

_TOKEN = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(STOPWORDS_EN_PLUS)

# bm25s sets its own logger to DEBUG, so "Building index" lines would reach any handler
# whatever level the service logs at; it keeps to warnings like everything else.
logging.getLogger("bm25s").setLevel(logging.WARNING)


def tokenize(text: str) -> list[str]:
    """Lower-case words without English stop words, light plural folding ("parcels" → "parcel")."""
    out: list[str] = []
    for word in _TOKEN.findall(text.lower()):
        if word in _STOP or (len(word) < 2 and not word.isdigit()):
            continue
        out.append(_fold(word))
    return out


def _fold(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class LexicalIndex:
    """BM25 scores of chunk texts by chunk id."""

    def __init__(self, docs: Iterable[tuple[int, str]]) -> None:
        pairs = list(docs)
        self._ids = np.asarray([chunk_id for chunk_id, _ in pairs], dtype=np.int64)
        self._bm25: bm25s.BM25 | None = None
        if pairs:
            self._bm25 = bm25s.BM25()
            self._bm25.index([tokenize(text) for _, text in pairs], show_progress=False)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to ``k`` ``(chunk_id, bm25)`` with a positive score, best first."""
        tokens = tokenize(query)
        if self._bm25 is None or not tokens or k <= 0:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
        if k < len(scores):
            # Select before sorting: a full sort of 100k scores costs ~5 ms per query.
            # Ties at the k-th score are cut by position, as a stable sort would cut them.
            kth = np.partition(-scores, k - 1)[k - 1]
            candidates = np.flatnonzero(-scores <= kth)
        else:
            candidates = np.arange(len(scores))
        top = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
        return [(int(self._ids[i]), float(scores[i])) for i in top if scores[i] > 0]
