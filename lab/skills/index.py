"""The vector index over the active skills' embeddings: derived from the database, never stored apart from it.

Small libraries are searched exactly (one matrix-vector product). From `EXACT_BELOW` vectors on, the index is an
inverted file (as faiss's IVF): spherical k-means puts the vectors in about sqrt(n) lists, stored contiguously,
and a query scans only the lists whose centroids are nearest. Scanning a few percent of 100,000 vectors instead of
all of them is what keeps a search within a few milliseconds; a filter that leaves too few candidates in the probed
lists falls back to an exact search over the filtered vectors.
"""

from __future__ import annotations

import numpy as np

EXACT_BELOW = 20_000
PROBE_FRACTION = 0.06
"""Share of the lists a query scans (at least 8)."""
KMEANS_SAMPLE = 20_000
KMEANS_ROUNDS = 8


class VectorIndex:
    """Unit vectors with their positions in the caller's order; `search` returns (position, score), best first."""

    def __init__(self, matrix: np.ndarray, seed: int = 0) -> None:
        self.count, self.dim = matrix.shape
        self.lists = 0
        if self.count < EXACT_BELOW:
            self.matrix, self.order = np.ascontiguousarray(matrix, dtype=np.float32), np.arange(self.count)
            return
        rng = np.random.default_rng(seed)
        self.lists = int(np.sqrt(self.count))
        sample = matrix[rng.choice(self.count, size=min(KMEANS_SAMPLE, self.count), replace=False)]
        centroids = sample[rng.choice(len(sample), size=self.lists, replace=False)].copy()
        for _ in range(KMEANS_ROUNDS):
            assignment = np.argmax(sample @ centroids.T, axis=1)
            for index in range(self.lists):
                members = sample[assignment == index]
                if len(members):
                    mean = members.sum(axis=0)
                    centroids[index] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        assignment = np.empty(self.count, dtype=np.int64)
        for start in range(0, self.count, 50_000):
            assignment[start:start + 50_000] = np.argmax(matrix[start:start + 50_000] @ centroids.T, axis=1)
        self.order = np.argsort(assignment, kind="stable")
        self.matrix = np.ascontiguousarray(matrix[self.order], dtype=np.float32)
        self.offsets = np.searchsorted(assignment[self.order], np.arange(self.lists + 1))
        self.centroids = centroids.astype(np.float32)
        self.probes = max(8, int(np.ceil(PROBE_FRACTION * self.lists)))

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The k best (position, score) pairs; `mask` (in the caller's order) keeps only some vectors."""
        query = np.asarray(query, dtype=np.float32)
        if self.lists:
            nearest = np.sort(np.argpartition(-(self.centroids @ query), self.probes - 1)[:self.probes])
            spans = [(int(self.offsets[i]), int(self.offsets[i + 1])) for i in nearest]
            rows = np.concatenate([np.arange(a, b) for a, b in spans])
            scores = np.concatenate([self.matrix[a:b] @ query for a, b in spans])
            if mask is not None:
                keep = mask[self.order[rows]]
                rows, scores = rows[keep], scores[keep]
            if len(rows) >= k:
                return self._best(rows, scores, k)
        if mask is None:
            return self._best(np.arange(self.count), self.matrix @ query, k)
        rows = np.flatnonzero(mask[self.order])
        return self._best(rows, self.matrix[rows] @ query, k) if len(rows) else []

    def _best(self, rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
        k = min(k, len(rows))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self.order[rows[i]]), float(scores[i])) for i in top]
