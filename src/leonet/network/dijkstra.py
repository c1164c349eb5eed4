"""Single-source shortest paths from many sources, with a bucket queue (Dial's algorithm).

The pair routing of Hypatia-style studies runs one Dijkstra per destination station on graphs whose
edge delays are all within a modest ratio of each other (laser and ground links of hundreds to
thousands of km). There a bucket queue beats a binary heap: with buckets as wide as the smallest
edge, every node in the current bucket is final (no edge can lead from it back into the same
bucket), so nodes are settled in bucket order with no heap at all (the queue of
:mod:`leonet.network.bucketqueue`, shared with :func:`leonet.network.routekernels.internet_tree`).
Measured on the Hypatia workload (1,784 nodes, 100 sources): ~3x faster than
``scipy.sparse.csgraph.dijkstra``, with identical distances.

Where the edge delays span too wide a range for buckets (fibre of ~0 length next to laser links),
:func:`shortest_paths` uses scipy's Dijkstra instead: same results, the heap's cost.

Distances are the unique fixpoint of ``d[v] = min over edges u -> v of fl(d[u] + w)`` (with
``d[source] = 0``; unique because every weight is positive, so fl(x + w) > x for the delays here),
whichever algorithm computes them. Ties are a contract, the same for every path of computation
(bucket queue, scipy, and the incremental repair of :mod:`leonet.network.incremental`): the
predecessor of v is the *smallest* node u with ``fl(d[u] + w(u, v)) == d[v]``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .bucketqueue import bucket_push, settle_ties

#: Above this many buckets (longest edge / shortest edge) the heap is cheaper.
MAX_BUCKETS = 1 << 16

try:  # numba compiles the kernel once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency; scipy is the reference path
    njit = None


def _dial_many(indptr, indices, weights, sources, n, width, n_buckets):
    """One bucket-queue search per source (:func:`leonet.network.bucketqueue.settle_ties`, with
    the tie rule); dist (m, n) and pred (m, n) int32 as :func:`shortest_paths` returns them."""
    m = len(sources)
    dist = np.full((m, n), np.inf)
    pred = np.full((m, n), -1, np.int32)
    head = np.full(n_buckets, -1, np.int64)
    cap = len(indices) + n + 1
    nxt = np.empty(cap, np.int64)
    val = np.empty(cap, np.int64)
    key = np.empty(cap, np.float64)
    done = np.zeros(n, np.bool_)
    origin = np.zeros(0, np.int32)  # unused: one source per search
    for k in range(m):
        done[:] = False
        d = dist[k]
        s = sources[k]
        d[s] = 0.0
        top = bucket_push(head, nxt, val, key, 0, 0, s, 0.0)
        settle_ties(indptr, indices, weights, d, pred[k], origin, done, head, nxt, val, key, top, 1,
                    width, 0, n_buckets, n)
        for i in range(n_buckets):
            head[i] = -1
    return dist, pred


def _smallest_tight_pred(indptr, indices, weights, sources, dist):
    """The tie rule applied to given distances: for each source k and node v, the smallest u
    with an edge u -> v and ``dist[k, u] + w == dist[k, v]``; -1 at the source and where
    unreachable. ``indptr, indices, weights``: the CSR of the *transposed* graph (row v lists the
    edges u -> v)."""
    m, n = dist.shape
    pred = np.full((m, n), -1, np.int32)
    for k in range(m):
        d = dist[k]
        for v in range(n):
            dv = d[v]
            if v == sources[k] or dv == np.inf:
                continue
            best = -1
            for j in range(indptr[v], indptr[v + 1]):
                u = indices[j]
                if d[u] + weights[j] == dv and (best < 0 or u < best):
                    best = u
            pred[k, v] = best
    return dist, pred


_dial_many_fast = njit(cache=True, nogil=True)(_dial_many) if njit is not None else None
_smallest_tight_pred_fast = njit(cache=True, nogil=True)(_smallest_tight_pred) if njit is not None else _smallest_tight_pred


def shortest_paths(matrix: sp.csr_matrix, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distances and predecessors from each source over a directed graph of positive weights.

    Parameters
    ----------
    matrix : CSR (n, n); ``matrix[i, j]`` is the weight of edge i -> j (> 0).
    sources : int (m,).

    Returns
    -------
    dist : float64 (m, n), inf where unreachable.
    pred : int32 (m, n), the node before j on the path from source k; -1 at the source and where
        unreachable. Among equal-length paths, the smallest such node (see the module docstring).
    """
    matrix = sp.csr_matrix(matrix)
    sources = np.asarray(sources, dtype=np.int32)
    n = matrix.shape[0]
    w = matrix.data
    if len(sources) == 0:
        return np.zeros((0, n)), np.zeros((0, n), dtype=np.int32)
    if len(w) and _dial_many_fast is not None:
        w_min, w_max = float(w.min()), float(w.max())
        if w_min > 0 and w_max / w_min < MAX_BUCKETS - 2:
            # A pending key is at most one edge beyond the bucket being scanned, so this many
            # buckets in a ring never lets two live distances share a slot.
            n_buckets = int(w_max / w_min) + 2
            return _dial_many_fast(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32),
                                   w.astype(np.float64), sources, n, w_min, n_buckets)
    dist = dijkstra(matrix, directed=True, indices=sources)
    # scipy's predecessors follow its heap order; apply the tie rule to its distances instead.
    t = matrix.T.tocsr()
    return _smallest_tight_pred_fast(t.indptr.astype(np.int64), t.indices.astype(np.int32),
                                     t.data.astype(np.float64), sources, np.ascontiguousarray(dist))
