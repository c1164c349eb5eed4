"""The bucket-queue shortest paths against scipy's Dijkstra (and so against networkx, which the
routing tests use as the oracle)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from leonet.network import dijkstra as dj


def random_graph(seed, n=300, degree=4, spread=4.0):
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), degree)
    cols = rng.integers(0, n, n * degree)
    keep = rows != cols
    w = rng.uniform(1.0, spread, keep.sum()) * 1e-3
    m = sp.coo_matrix((w, (rows[keep], cols[keep])), shape=(n, n)).tocsr()
    m.sum_duplicates()
    return m


@pytest.mark.parametrize("seed", range(10))
def test_same_distances_and_valid_predecessors(seed):
    m = random_graph(seed)
    src = np.arange(0, 300, 37)
    dist, pred = dj.shortest_paths(m, src)
    ref = dijkstra(m, directed=True, indices=src)
    assert np.array_equal(np.isinf(dist), np.isinf(ref))
    assert np.allclose(dist[np.isfinite(ref)], ref[np.isfinite(ref)], rtol=0, atol=1e-15)
    # Each predecessor edge exists and is tight: dist[v] = dist[pred[v]] + w(pred[v], v).
    dense = m.toarray()
    for k in range(len(src)):
        v = np.flatnonzero((pred[k] >= 0))
        u = pred[k][v]
        assert np.all(dense[u, v] > 0)
        assert np.allclose(dist[k][u] + dense[u, v], dist[k][v], atol=1e-15)
        assert pred[k][src[k]] == -1


def test_wide_weight_range_uses_the_heap_and_agrees():
    m = random_graph(3, spread=1e6)  # ratio beyond MAX_BUCKETS
    src = np.array([0, 5])
    dist, _ = dj.shortest_paths(m, src)
    assert np.allclose(dist, dijkstra(m, directed=True, indices=src), equal_nan=True)


def test_the_bucket_kernel_itself_matches_scipy():
    """Run the pure-Python kernel (what numba compiles) on a small graph, so the algorithm is
    checked even where the compiled path is not taken."""
    m = random_graph(5, n=60)
    src = np.array([0, 7], dtype=np.int32)
    w = m.data
    dist, _ = dj._dial_many(m.indptr.astype(np.int64), m.indices.astype(np.int32), w, src, 60, w.min(),
                            int(w.max() / w.min()) + 2)
    assert np.allclose(dist, dijkstra(m, directed=True, indices=src))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("heap", [False, True])
def test_ties_go_to_the_smallest_predecessor_on_either_path(seed, heap, monkeypatch):
    """Whole-number weights make many equal-length paths; both the bucket queue and the scipy
    fallback must pick, for each node, the smallest u with dist[u] + w(u, v) == dist[v]."""
    if heap:
        monkeypatch.setattr(dj, "MAX_BUCKETS", 0)  # every graph takes the scipy path
    rng = np.random.default_rng(seed)
    n = 80
    rows = np.repeat(np.arange(n), 5)
    cols = rng.integers(0, n, len(rows))
    keep = rows != cols
    w = rng.integers(1, 4, keep.sum()) * 1e-3
    m = sp.coo_matrix((w, (rows[keep], cols[keep])), shape=(n, n)).tocsr()
    m.sum_duplicates()
    src = np.array([0, 11, 42])
    dist, pred = dj.shortest_paths(m, src)
    dense = m.toarray()
    ties = 0
    for k, s in enumerate(src):
        for v in range(n):
            if v == s or not np.isfinite(dist[k, v]):
                assert pred[k, v] == -1
                continue
            tight = [u for u in range(n) if dense[u, v] > 0 and dist[k, u] + dense[u, v] == dist[k, v]]
            ties += len(tight) > 1
            assert pred[k, v] == min(tight)
    assert ties > 0  # the graph does have ties
