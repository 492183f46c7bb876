"""The derived vector index: exact for small libraries, an inverted file from 20,000 vectors, filters either way."""

import numpy as np

from lab.skills.index import EXACT_BELOW, VectorIndex


def clustered(count: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, dim))
    vectors = centres[rng.integers(0, 200, count)] + 0.2 * rng.standard_normal((count, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def exact(matrix: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return np.argsort(-(matrix @ query))[:k].tolist()


def test_small_indexes_are_exact() -> None:
    matrix = clustered(1000)
    index = VectorIndex(matrix)
    assert index.lists == 0
    for query in matrix[:20]:
        assert [p for p, _ in index.search(query, 5)] == exact(matrix, query, 5)


def test_the_inverted_file_finds_what_exact_search_finds() -> None:
    matrix = clustered(EXACT_BELOW + 5000)
    index = VectorIndex(matrix)
    assert index.lists > 0
    rng = np.random.default_rng(1)
    found = 0
    for i in rng.integers(0, len(matrix), 50):
        query = matrix[i]
        got = index.search(query, 5)
        assert got[0][0] == i and abs(got[0][1] - 1.0) < 1e-4
        found += len({p for p, _ in got} & set(exact(matrix, query, 5)))
    assert found / 250 >= 0.95


def test_a_selective_filter_falls_back_to_exact_search() -> None:
    matrix = clustered(EXACT_BELOW + 5000)
    index = VectorIndex(matrix)
    mask = np.zeros(len(matrix), dtype=bool)
    mask[[3, 10_000, 24_000]] = True
    hits = index.search(matrix[0], 5, mask)
    assert sorted(p for p, _ in hits) == [3, 10_000, 24_000]
    assert index.search(matrix[0], 5, np.zeros(len(matrix), dtype=bool)) == []
