"""Forwarding state repaired step to step instead of recomputed (dynamic shortest paths).

Between two steps 100 ms apart the satellites move ~760 m: every ground and cross-plane laser
delay changes a little, but almost every shortest-path tree keeps its shape. So, for each
destination's tree of the previous step (on the reversed station graph of
:func:`leonet.network.pairs.forwarding_state`), :class:`ForwardingTracker`:

1. re-walks the old tree on the new graph, root first, giving every node the delay of its old
   tree path (``inf`` where a tree edge no longer exists): an upper bound made of real path
   lengths. Each tree keeps, along its order, every node's next hop and where that edge sat in
   the last graph's CSR; one merge of the two graphs' structures per step says where each entry
   moved (or that it is gone), so the walk reads its edges straight, in order, without searching
   rows (the same edge, the same addition);
2. checks every edge of the new graph once, all trees at once (node-major, the inner loop over
   trees): node v's value must equal ``min over v's out-edges v -> u of fl(d[u] + w)`` (the
   Bellman condition), and v's next hop becomes the smallest u reaching the minimum (the tie rule
   of :mod:`leonet.network.dijkstra`), written tree-major a block of nodes at a time;
3. repairs only the nodes that fail: each takes its better value and a label-correcting Dijkstra
   (binary heap, along the reversed edges) spreads the decreases; the tie rule is then applied
   again at the nodes whose value changed and at their upstream neighbours.

Why the result is exactly the full computation's: the distances of the full computation are the
unique fixpoint of ``d[v] = min_u fl(d[u] + w(v, u))`` with ``d[root] = 0`` (unique because every
delay is positive; see :mod:`leonet.network.dijkstra`). After step 3 no edge is violated and every
value is reached by some edge, so the values are that fixpoint, bit for bit; next hops follow from
the same tie rule. A step where more than ``full_above`` of all (tree, node) values failed makes
the next step a full computation (the check would mostly be wasted).

Measured on Hypatia's workload (1,784 nodes, 100 trees, 100 ms steps; ``bench/bench_kernels.py``):
~1.6 ms per step against ~6.4 ms for the bucket-queue Dijkstra of every tree; typically 0-20
trees have a failed node, 1-500 (tree, node) values in all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .binheap import heap_pop as _heap_pop_fast, heap_push as _heap_push_fast
from .dijkstra import shortest_paths
from .pairs import ForwardingState

try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


def _tree_order(next_hop, root, order, pos, n_children, child_start, child_list):
    """Breadth-first order of the tree ``next_hop`` (child -> parent) from ``root`` into ``order``
    and each node's place in it into ``pos`` (-1: not in it); returns how many nodes it holds (the
    nodes that reach the root)."""
    n = len(next_hop)
    n_children[:] = 0
    for v in range(n):
        p = next_hop[v]
        if p >= 0:
            n_children[p] += 1
    child_start[0] = 0
    for v in range(n):
        child_start[v + 1] = child_start[v] + n_children[v]
    n_children[:] = 0
    for v in range(n):
        p = next_hop[v]
        if p >= 0:
            child_list[child_start[p] + n_children[p]] = v
            n_children[p] += 1
    order[0] = root
    head, tail = 0, 1
    while head < tail:
        u = order[head]
        head += 1
        for j in range(child_start[u], child_start[u + 1]):
            order[tail] = child_list[j]
            tail += 1
    pos[:] = -1
    for i in range(tail):
        pos[order[i]] = i
    return tail


def _best_next(indptr, indices, weights, d, v):
    """min over v's out-edges v -> u of fl(d[u] + w), and the smallest u reaching it (-1: none);
    the row's columns must be sorted (the first u reaching the minimum is then the smallest)."""
    best = np.inf
    arg = -1
    for j in range(indptr[v], indptr[v + 1]):
        nd = d[indices[j]] + weights[j]
        if nd < best:
            best = nd
            arg = indices[j]
    return best, arg


def _remap_edges(old_ptr, old_idx, new_ptr, new_idx, out):
    """``out[j]`` (for each entry j of the old CSR): where the same (row, column) sits in the new
    CSR, -1 where it is gone. Columns must be sorted within rows in both (a merge, row by row)."""
    n = len(new_ptr) - 1
    for v in range(n):
        j = new_ptr[v]
        b1 = new_ptr[v + 1]
        for i in range(old_ptr[v], old_ptr[v + 1]):
            c = old_idx[i]
            while j < b1 and new_idx[j] < c:
                j += 1
            out[i] = j if (j < b1 and new_idx[j] == c) else -1


def _edge_at(indptr, indices, v, p):
    """Where column ``p`` sits in row ``v`` of the CSR (-1: nowhere, or p < 0)."""
    if p < 0:
        return -1
    for j in range(indptr[v], indptr[v + 1]):
        if indices[j] == p:
            return j
    return -1


def _order_edges(indptr, indices, next_hop, order, count, o_next, o_edge):
    """Along one tree's order: each node's next hop (``o_next``) and where the edge to it sits in
    the CSR (``o_edge``; -1 for the root and where there is none)."""
    if count > 0:
        o_next[0] = -1
        o_edge[0] = -1
    for i in range(1, count):
        v = order[i]
        p = next_hop[v]
        o_next[i] = p
        o_edge[i] = _edge_at_fast(indptr, indices, v, p)


def _walk(weights, roots, order, count, o_next, o_edge, remap, dist):
    """Step 1 of the module docstring for every tree k: ``dist`` (K, n) receives each node's delay
    along last step's tree on this step's graph (inf where a tree edge is gone).

    weights : the *forward* station graph's CSR data (row v: edges v -> u).
    roots : (K,) the destinations' in-nodes.
    order, count : each tree's nodes, parents first (K, n), and how many (K,).
    o_next, o_edge : (K, n), in order positions: each node's previous next hop and where that
        edge sat in the previous step's CSR (-1: none); ``o_edge`` is rewritten to this step's CSR.
    remap : for each entry of the previous CSR, where it sits in this step's (-1: gone).
    """
    n_trees = len(roots)
    for k in range(n_trees):
        d = dist[k]
        ov = order[k]
        op = o_next[k]
        oe = o_edge[k]
        d[:] = np.inf
        d[roots[k]] = 0.0
        for i in range(1, count[k]):
            e = oe[i]
            if e >= 0:
                e = remap[e]
                oe[i] = e
            d[ov[i]] = d[op[i]] + weights[e] if e >= 0 else np.inf


def _check(indptr, indices, weights, dt, roots, prev_next, next_hop, row_changed):
    """Step 2 for all trees at once, node-major (``dt`` (n, K): the walked delays; the inner loop
    runs over trees). ``next_hop`` (K, n) receives every node's next hop by the tie rule (the
    first u reaching the minimum is the smallest: rows must be sorted), -1 at each tree's root;
    nodes are taken in blocks so that it is written a few entries of a row at a time.
    ``row_changed`` (K,) receives whether each tree's row differs from ``prev_next`` (K, n), the
    previous step's. Returns the (node, tree) pairs that fail the Bellman condition, ordered by
    tree."""
    n, n_trees = dt.shape
    block = 16
    best = np.empty(n_trees)
    hops = np.empty((block, n_trees), np.int32)
    bad_v = np.empty(n * n_trees, np.int64)  # never touched beyond the failures
    bad_k = np.empty(n * n_trees, np.int64)
    n_bad = 0
    for v0 in range(0, n, block):
        v1 = min(v0 + block, n)
        for v in range(v0, v1):
            nh = hops[v - v0]
            best[:] = np.inf
            nh[:] = -1
            for j in range(indptr[v], indptr[v + 1]):
                u = indices[j]
                w = weights[j]
                for k in range(n_trees):
                    c = dt[u, k] + w
                    if c < best[k]:
                        best[k] = c
                        nh[k] = u
            fails = 0
            for k in range(n_trees):
                fails += best[k] < dt[v, k]
            if fails:
                for k in range(n_trees):
                    if best[k] < dt[v, k]:
                        bad_v[n_bad] = v
                        bad_k[n_bad] = k
                        n_bad += 1
        for k in range(n_trees):
            row = next_hop[k]
            for v in range(v0, v1):
                row[v] = hops[v - v0, k]
    for k in range(n_trees):
        row = next_hop[k]
        row[roots[k]] = -1
        old = prev_next[k]
        diff = 0
        for v in range(n):
            diff += row[v] != old[v]
        row_changed[k] = diff != 0
    by_tree = np.argsort(bad_k[:n_bad], kind="mergesort")
    return bad_v[:n_bad][by_tree], bad_k[:n_bad][by_tree]


def _mend(indptr, indices, weights, t_indptr, t_indices, t_weights, roots, bad_v, bad_k, prev_next,
          next_hop, dist, order, pos, count, o_next, o_edge, row_changed):
    """Step 3 for the trees with failed nodes ``bad_v`` (ordered by tree ``bad_k``), in place in
    ``dist`` and ``next_hop`` (K, n); then, in place in ``order``, ``pos`` and ``count``, a new
    order for every tree where the old one no longer puts each node after its next hop (the walk
    needs parents first, in any order; the walk of this step has used the old orders), and in
    ``o_next`` and ``o_edge`` each ordered node's next hop and its edge in this step's CSR.
    ``row_changed`` (K,): whether the check changed a next hop of each tree (the others, unless
    repaired here, keep their orders and edges as they are).

    t_indptr, t_indices, t_weights : CSR of the transposed graph (row u: edges v -> u).
    """
    n_trees, n = dist.shape
    n_bad = len(bad_v)
    # 3. Repair the trees that failed: every value is the length of some path, so only decreases
    # remain to spread (label-correcting Dijkstra from the failed nodes along the reversed edges);
    # then the tie rule again at the nodes whose value changed and at their neighbours upstream.
    cap = len(t_indices) + n + 1
    keys = np.empty(cap, np.float64)
    vals = np.empty(cap, np.int64)
    changed = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    n_children = np.empty(n, np.int64)
    child_start = np.empty(n + 1, np.int64)
    child_list = np.empty(n, np.int64)
    first = 0
    while first < n_bad:
        k = bad_k[first]
        last = first
        while last < n_bad and bad_k[last] == k:
            last += 1
        d = dist[k]
        nh = next_hop[k]
        row_changed[k] = True
        size = 0
        n_touched = 0
        for i in range(first, last):
            v = bad_v[i]
            b, _ = _best_next_fast(indptr, indices, weights, d, v)
            if b < d[v]:
                d[v] = b
                size = _heap_push_fast(keys, vals, size, b, v)
                if not changed[v]:
                    changed[v] = True
                    touched[n_touched] = v
                    n_touched += 1
        while size > 0:
            key = keys[0]
            u = vals[0]
            size = _heap_pop_fast(keys, vals, size)
            if key > d[u]:
                continue  # stale
            for j in range(t_indptr[u], t_indptr[u + 1]):
                x = t_indices[j]
                nd = key + t_weights[j]
                if nd < d[x]:
                    d[x] = nd
                    size = _heap_push_fast(keys, vals, size, nd, x)
                    if not changed[x]:
                        changed[x] = True
                        touched[n_touched] = x
                        n_touched += 1
        for i in range(n_touched):
            u = touched[i]
            _, nh[u] = _best_next_fast(indptr, indices, weights, d, u)
            for j in range(t_indptr[u], t_indptr[u + 1]):
                x = t_indices[j]
                if x != roots[k]:
                    _, nh[x] = _best_next_fast(indptr, indices, weights, d, x)
        for i in range(n_touched):
            changed[touched[i]] = False
        first = last
    # The trees' orders for the next step: kept while every node whose next hop changed still
    # comes after it (and was in the order already).
    # A kept order gets the new next hops (and their edges) of the nodes whose next hop changed.
    for k in range(n_trees):
        if not row_changed[k]:
            continue
        nh = next_hop[k]
        old = prev_next[k]
        place = pos[k]
        op = o_next[k]
        oe = o_edge[k]
        valid = True
        for v in range(n):
            p = nh[v]
            if p != old[v]:
                if p >= 0 and (place[v] < 0 or place[p] < 0 or place[p] > place[v]):
                    valid = False
                    break
                i = place[v]
                if i >= 0:
                    op[i] = p
                    oe[i] = _edge_at_fast(indptr, indices, v, p)
        if not valid:
            count[k] = _tree_order_fast(nh, roots[k], order[k], place, n_children, child_start, child_list)
            _order_edges_fast(indptr, indices, nh, order[k], count[k], op, oe)


def _transpose(n, indptr, indices, weights, t_ptr, t_idx, t_w):
    """The transpose of the CSR (n, n) ``indptr, indices, weights`` into ``t_ptr`` (n + 1,),
    ``t_idx``, ``t_w``, columns sorted within each row (rows are read in order), as scipy's
    ``matrix.T.tocsr()`` gives it."""
    for i in range(n + 1):
        t_ptr[i] = 0
    for j in range(indptr[n]):
        t_ptr[indices[j] + 1] += 1
    for i in range(n):
        t_ptr[i + 1] += t_ptr[i]
    fill = t_ptr[:n].copy()
    for r in range(n):
        for j in range(indptr[r], indptr[r + 1]):
            c = indices[j]
            t_idx[fill[c]] = r
            t_w[fill[c]] = weights[j]
            fill[c] += 1


def _orders(indptr, indices, next_hop, roots, order, pos, count, o_next, o_edge):
    """Tree orders of the rows ``next_hop`` (K, n) into ``order`` and ``pos`` (K, n) and ``count``
    (K,), and along them each node's next hop and its edge in the CSR (``o_next``, ``o_edge``)."""
    n_trees, n = next_hop.shape
    n_children = np.empty(n, np.int64)
    child_start = np.empty(n + 1, np.int64)
    child_list = np.empty(n, np.int64)
    for k in range(n_trees):
        count[k] = _tree_order_fast(next_hop[k], roots[k], order[k], pos[k], n_children, child_start, child_list)
        _order_edges_fast(indptr, indices, next_hop[k], order[k], count[k], o_next[k], o_edge[k])


if njit is not None:
    _tree_order_fast = njit(cache=True, nogil=True)(_tree_order)
    _best_next_fast = njit(cache=True, nogil=True)(_best_next)
    _edge_at_fast = njit(cache=True, nogil=True)(_edge_at)
    _order_edges_fast = njit(cache=True, nogil=True)(_order_edges)
    _remap_edges_fast = njit(cache=True, nogil=True)(_remap_edges)
    _walk_fast = njit(cache=True, nogil=True)(_walk)
    _check_fast = njit(cache=True, nogil=True)(_check)
    _mend_fast = njit(cache=True, nogil=True)(_mend)
    _orders_fast = njit(cache=True, nogil=True)(_orders)
    _transpose_fast = njit(cache=True, nogil=True)(_transpose)
else:  # pragma: no cover
    _transpose_fast = _transpose
    _tree_order_fast, _best_next_fast = _tree_order, _best_next
    _edge_at_fast, _order_edges_fast, _remap_edges_fast = _edge_at, _order_edges, _remap_edges
    _walk_fast, _check_fast, _mend_fast, _orders_fast = _walk, _check, _mend, _orders


@dataclass
class UpdateStats:
    """What the last :meth:`ForwardingTracker.update` did: ``full`` (every tree computed from
    scratch), ``trees`` (how many), ``repaired`` (trees where some node failed the check; all of
    them when ``full``), ``nodes_repaired`` (nodes that failed the check, summed over the trees;
    the repair may then lower more)."""

    full: bool = True
    trees: int = 0
    repaired: int = 0
    nodes_repaired: int = 0


class ForwardingTracker:
    """The forwarding state toward fixed destination stations, kept step to step.

    ``update(matrix)`` returns exactly ``forwarding_state(matrix, n_sats, n_stations, dests)``
    (same distances bit for bit, same next hops) for any sequence of graphs of the right size; it
    is only faster when consecutive graphs are close (consecutive time steps). The first call, a
    call after :meth:`reset`, and a step after one where more than ``full_above`` of the trees
    needed repair compute every tree from scratch.

    Parameters
    ----------
    n_sats, n_stations : ints, the node layout of :func:`leonet.network.pairs.station_graph`.
    dests : int (K,), destination stations (as ``forwarding_state`` takes them).
    full_above : float in [0, 1], see above.

    The arrays of a returned :class:`ForwardingState` are read-only and never changed afterwards
    (the tracker writes each step into new arrays).
    """

    def __init__(self, n_sats: int, n_stations: int, dests: np.ndarray, full_above: float = 0.5):
        if not 0.0 <= full_above <= 1.0:
            raise ValueError(f"full_above must be within [0, 1], got {full_above!r}")
        self.n_sats = int(n_sats)
        self.n_stations = int(n_stations)
        self.dests = np.asarray(dests, dtype=np.int64).copy()
        if len(self.dests) and (self.dests.min() < 0 or self.dests.max() >= self.n_stations):
            raise ValueError(f"dests must be station numbers in 0..{self.n_stations - 1}")
        self.dests.setflags(write=False)
        self.roots = (self.n_sats + self.n_stations + self.dests).astype(np.int64)
        self.full_above = float(full_above)
        self.stats = UpdateStats()
        self.reset()

    @property
    def n_nodes(self) -> int:
        return self.n_sats + 2 * self.n_stations

    def reset(self) -> None:
        """Forget the previous step: the next update computes every tree from scratch."""
        k, n = len(self.dests), self.n_nodes
        self._has_prev = False
        self._must_full = True
        self._prev_next = np.zeros((k, n), np.int32)
        # Scratch kept between steps (never handed out): each tree's order (parents before
        # children; any such order will do), each node's place in it, each tree's size, along
        # the order each node's next hop and where that edge sits in the last graph's CSR (whose
        # structure is kept to find where each entry moved), a node-major copy for the check.
        self._order = np.zeros((k, n), np.int32)
        self._pos = np.zeros((k, n), np.int32)
        self._count = np.zeros(k, np.int64)
        self._o_next = np.zeros((k, n), np.int32)
        self._o_edge = np.zeros((k, n), np.int32)
        self._prev_ptr = np.zeros(n + 1, np.int64)
        self._prev_idx = np.zeros(0, np.int32)
        self._dt = np.empty((n, k))

    def update(self, matrix: sp.csr_matrix) -> ForwardingState:
        """The forwarding state of this step's station graph (CSR (n, n) of one-way delays, s,
        from :func:`leonet.network.pairs.station_graph`)."""
        if not isinstance(matrix, sp.csr_matrix):  # a CSR matrix is read as it is (and keeps its sorted flag)
            matrix = sp.csr_matrix(matrix)
        n = self.n_nodes
        if matrix.shape != (n, n):
            raise ValueError(f"matrix has shape {matrix.shape}; {self.n_sats} satellites and "
                             f"{self.n_stations} stations make ({n}, {n})")
        if not matrix.has_sorted_indices:
            matrix = matrix.sorted_indices()
        k = len(self.dests)
        if k == 0:
            z = np.zeros((0, n))
            self.stats = UpdateStats(True, 0, 0, 0)
            return ForwardingState(self.dests, z.astype(np.int32), z, self.n_sats, self.n_stations)
        order, count = self._order, self._count
        f_ptr = matrix.indptr.astype(np.int64, copy=False)
        f_idx = matrix.indices.astype(np.int32, copy=False)
        f_w = matrix.data.astype(np.float64, copy=False)
        if len(f_idx) >= np.iinfo(np.int32).max:
            raise ValueError(f"matrix has {len(f_idx)} entries; the tracker numbers them in int32")
        if not self._has_prev or self._must_full:
            dist, next_hop = shortest_paths(matrix.T.tocsr(), self.roots)
            _orders_fast(f_ptr, f_idx, next_hop, self.roots, order, self._pos, count, self._o_next, self._o_edge)
            self.stats = UpdateStats(True, k, k, k * n)
        else:
            prev_next = self._prev_next
            remap = np.empty(len(self._prev_idx), np.int32)
            _remap_edges_fast(self._prev_ptr, self._prev_idx, f_ptr, f_idx, remap)
            dist = np.empty((k, n))
            _walk_fast(f_w, self.roots, order, count, self._o_next, self._o_edge, remap, dist)
            np.copyto(self._dt, dist.T)
            next_hop = np.empty((k, n), np.int32)
            row_changed = np.empty(k, np.bool_)
            bad_v, bad_k = _check_fast(f_ptr, f_idx, f_w, self._dt, self.roots, prev_next, next_hop, row_changed)
            if len(bad_v):  # the reversed graph, for the repair (a compiled matrix.T.tocsr())
                nnz = len(f_idx)
                t_ptr, t_idx, t_w = np.empty(n + 1, np.int64), np.empty(nnz, np.int32), np.empty(nnz, np.float64)
                _transpose_fast(n, f_ptr, f_idx, f_w, t_ptr, t_idx, t_w)
            else:
                t_ptr, t_idx, t_w = f_ptr[:1], f_idx[:0], f_w[:0]  # not read: nothing to repair
            _mend_fast(f_ptr, f_idx, f_w, t_ptr, t_idx, t_w, self.roots, bad_v, bad_k, prev_next, next_hop,
                       dist, order, self._pos, count, self._o_next, self._o_edge, row_changed)
            # bad_k is sorted by tree: the trees repaired are its distinct values
            trees = int(np.count_nonzero(bad_k[1:] != bad_k[:-1])) + 1 if len(bad_k) else 0
            self.stats = UpdateStats(False, k, trees, len(bad_k))
        # The graph's structure, for the next step's remap (the caller may reuse its arrays).
        self._prev_ptr = np.array(f_ptr, dtype=np.int64)
        self._prev_idx = np.array(f_idx, dtype=np.int32)
        self._must_full = not self.stats.full and self.stats.nodes_repaired > self.full_above * k * n
        self._has_prev = True
        for a in (dist, next_hop):
            a.setflags(write=False)
        self._prev_next = next_hop
        return ForwardingState(self.dests, next_hop, dist, self.n_sats, self.n_stations)
