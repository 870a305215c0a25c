"""Embedding-like vectors at sizes past what can be embedded here: noisy copies of real ones.

Centres are real all-MiniLM-L6-v2 embeddings: the sample KB's and the bank FAQ's
passages, their sentences, and their eval questions. Data points come from a two-level
tree: each centre gets ``fanout`` sub-centres (noise of norm ~``sigma1``), each point is
a copy of a random sub-centre (noise of norm ~``sigma2``), every step re-normalised, so a
neighbourhood has structure (siblings closer than cousins) instead of equidistant
points. Noise is gaussian with half its variance shaped like the real embeddings'
covariance and half isotropic: all-isotropic noise in 384 dimensions makes every point
of a cluster about equally far from a query, which nothing real looks like. Queries are
noisy copies (``sigma_q``) of real question embeddings. With the defaults a query's
nearest neighbour sits at cosine ~0.65, near what a real question gets from its best
passage in the sample KB; the benchmark prints the profile it actually got.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench._common import bank_dataset, sample_dataset, sentences
from omnidesk.knowledge import Embedder, chunk_markdown


@dataclass(frozen=True)
class RealEmbeddings:
    passages: np.ndarray  # passages and their sentences
    questions: np.ndarray  # eval questions of both data sets

    @property
    def centres(self) -> np.ndarray:
        return np.vstack([self.passages, self.questions])


def real_embeddings(embedder: Embedder) -> RealEmbeddings:
    texts: list[str] = []
    questions: list[str] = []
    for data in (sample_dataset(), bank_dataset()):
        for art in data.articles:
            texts += [c.text for c in chunk_markdown(art.title, art.body)]
            texts += sentences(art.body)
        questions += [q for q, _ in data.questions]
    texts = list(dict.fromkeys(texts))
    return RealEmbeddings(embedder.encode(texts), embedder.encode(questions))


def _unit(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


class NoisyCopies:
    """Deterministic generator of data points and queries around real embeddings."""

    def __init__(
        self,
        real: RealEmbeddings,
        *,
        fanout: int = 16,
        sigma1: float = 1.0,
        sigma2: float = 0.7,
        sigma_q: float = 0.5,
        isotropic: float = 0.5,
        seed: int = 0,
    ) -> None:
        self.real = real
        self.sigma2, self.sigma_q = sigma2, sigma_q
        self.rng = np.random.default_rng(seed)
        centres = real.centres
        dim = centres.shape[1]
        cov = np.cov(centres.T)
        cov /= np.trace(cov)
        mixed = (1 - isotropic) * cov + isotropic * np.eye(dim) / dim
        # Noise of expected squared norm sigma^2: x = z @ L.T * sigma with L L^T = mixed.
        self._shape = np.linalg.cholesky(mixed + 1e-9 * np.eye(dim)).astype(np.float32).T
        self.mids = _unit(
            np.repeat(centres, fanout, axis=0) + self._noise(len(centres) * fanout, sigma1)
        )
        self.params = {
            "centres": len(centres),
            "fanout": fanout,
            "sigma1": sigma1,
            "sigma2": sigma2,
            "sigma_q": sigma_q,
            "isotropic_share": isotropic,
            "seed": seed,
        }

    def _noise(self, n: int, sigma: float) -> np.ndarray:
        z = self.rng.standard_normal((n, self._shape.shape[0]), dtype=np.float32)
        return (z @ self._shape) * np.float32(sigma)

    def points(self, n: int, block: int = 100_000) -> np.ndarray:
        out = np.empty((n, self.mids.shape[1]), dtype=np.float32)
        for start in range(0, n, block):
            m = min(block, n - start)
            parents = self.rng.integers(0, len(self.mids), m)
            out[start : start + m] = _unit(self.mids[parents] + self._noise(m, self.sigma2))
        return out

    def queries(self, n: int) -> np.ndarray:
        q = self.real.questions
        return _unit(q[self.rng.integers(0, len(q), n)] + self._noise(n, self.sigma_q))
