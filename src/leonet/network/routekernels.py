"""Compiled walks over the routes to the internet (numba), each equal to its numpy reference.

- :func:`gateway_and_hops`: every satellite's gateway and laser hop count from the next-hop
  tree of :func:`leonet.network.routing.route_to_internet`, in one pass (each satellite's values
  follow from its next hop's), instead of advancing every chain one hop per numpy round;
- :func:`walk_paths`: the satellites on each start satellite's route (``satellite_paths``);
- :func:`path_hops`: every hop of a -1 padded path matrix, row-major;
- :func:`chosen_paths`: each dish's path, the held one or the fresh one, in one pass;
- :func:`internet_tree`: ``scipy.sparse.csgraph.dijkstra(..., min_only=True,
  return_predecessors=True)`` on the reversed snapshot graph, in two phases: the ground nodes
  (PoPs, gateways: a few hundred) with a binary heap, then the satellites, whose only edges are
  lasers, with a bucket queue (Dial's algorithm, buckets as wide as the shortest laser: every node
  of the current bucket is final; :mod:`leonet.network.bucketqueue`, shared with
  :func:`leonet.network.dijkstra.shortest_paths`). Distances are the same bits as scipy's (the
  unique fixpoint of ``d[v] = min fl(d[u] + w)``, see :mod:`leonet.network.dijkstra`); predecessors
  follow the same rule (changed only on a strictly shorter distance), so they differ only where
  two paths tie exactly, which scipy settles by its own heap order;
- :func:`held_hop_delay_s`: the laser delay along each held dish path, summed hop by hop in path
  order as the reference does (``sim.stages.routes.held_path_delay``); :func:`hop_delay_s` the
  same sums from the hops :func:`path_hops` lists (no pass over the paths' padding).

The references are kept next to the callers (``*_reference``) and the tests compare them.
"""

from __future__ import annotations

import numpy as np

from .binheap import heap_pop as _heap_pop, heap_push as _heap_push
from .bucketqueue import bucket_push, settle_nearest

try:  # numba compiles the kernels once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


def _gateway_and_hops(next_hop, n_sats):
    """For each satellite v: the first node that is not a satellite on v's chain of next hops
    (``cur``; v itself where v has no next hop) and the satellite-to-satellite steps to it."""
    cur = np.full(n_sats, -1, np.int64)
    hops = np.zeros(n_sats, np.int32)
    done = np.zeros(n_sats, np.bool_)
    stack = np.empty(n_sats, np.int64)
    for v in range(n_sats):
        if done[v]:
            continue
        top = 0
        u = v
        # climb until a node whose values are known: a finished satellite, a non-satellite
        while u >= 0 and u < n_sats and not done[u] and next_hop[u] >= 0:
            stack[top] = u
            top += 1
            u = next_hop[u]
        if u >= 0 and u < n_sats and not done[u]:   # a satellite without a next hop: its own end
            cur[u] = u
            hops[u] = 0
            done[u] = True
        while top > 0:
            top -= 1
            w = stack[top]
            nh = next_hop[w]
            if nh >= n_sats:
                cur[w] = nh
                hops[w] = 0
            else:
                cur[w] = cur[nh]
                hops[w] = hops[nh] + 1
            done[w] = True
    return cur, hops


def _walk_paths(next_hop, start, length, width):
    out = np.full((len(start), width), -1, np.int32)
    for i in range(len(start)):
        cur = start[i]
        for k in range(length[i]):
            out[i, k] = cur
            cur = next_hop[cur]
    return out


def _walk_grouped(next_hop, group, start, length, width):
    out = np.full((len(start), width), -1, np.int32)
    for i in range(len(start)):
        cur = start[i]
        g = group[i]
        for k in range(length[i]):
            out[i, k] = cur
            cur = next_hop[g, cur]
    return out


def _internet_tree(indptr, indices, weights, n_sats, sources, width):
    """Phase 1: ground nodes (>= n_sats) by a binary heap from ``sources``, their edges into
    satellites only lowering the satellites' tentative distances. Phase 2: the satellites by a
    bucket queue (bucket width ``width`` <= every satellite-to-satellite edge). Returns dist,
    pred, origin (-9999: none) and False if phase 2 met an edge shorter than ``width`` (then the
    caller uses scipy)."""
    n = len(indptr) - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -9999, np.int32)
    origin = np.full(n, -9999, np.int32)
    done = np.zeros(n, np.bool_)
    n_ground = n - n_sats
    keys = np.empty(len(indices) + len(sources) + 1)
    vals = np.empty(len(indices) + len(sources) + 1, np.int64)
    size = 0
    for s in sources:
        if dist[s] > 0.0:
            dist[s] = 0.0
            origin[s] = s
            size = _heap_push(keys, vals, size, 0.0, s)
    while size > 0:
        du = keys[0]
        u = vals[0]
        size = _heap_pop(keys, vals, size)
        if done[u] or du > dist[u]:
            continue
        done[u] = True
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            if done[v]:
                continue
            nd = du + weights[j]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                origin[v] = origin[u]
                if v >= n_sats:
                    size = _heap_push(keys, vals, size, nd, v)
    if n_ground == 0:
        return dist, pred, origin, True
    # Phase 2: every satellite with a tentative distance, in buckets of width ``width``.
    lo = np.inf
    hi = -np.inf
    for v in range(n_sats):
        if dist[v] < np.inf:
            lo = min(lo, dist[v])
            hi = max(hi, dist[v])
    if lo == np.inf:
        return dist, pred, origin, True
    w_max = 0.0
    for v in range(n_sats):
        for j in range(indptr[v], indptr[v + 1]):
            w_max = max(w_max, weights[j])
    n_buckets = int((hi - lo + w_max) / width) + 3
    if n_buckets > (1 << 20):
        return dist, pred, origin, False
    base = int(lo / width)
    head = np.full(n_buckets, -1, np.int64)
    cap = len(indices) + n_sats + 1
    nxt = np.empty(cap, np.int64)
    val = np.empty(cap, np.int64)
    key = np.empty(cap)
    top = 0
    pending = 0
    for v in range(n_sats):
        if dist[v] < np.inf:
            top = bucket_push(head, nxt, val, key, top, (int(dist[v] / width) - base) % n_buckets, v, dist[v])
            pending += 1
    ok = settle_nearest(indptr, indices, weights, dist, pred, origin, done, head, nxt, val, key, top, pending,
                     width, base, n_buckets, n_sats)
    return dist, pred, origin, ok


def _held_hop_delay(path, ecef, c):
    """(D,) sum over each row's consecutive satellite pairs (both >= 0), in path order from 0.0,
    of |ecef[a] - ecef[b]| / c (the norm's squares summed left to right, as numpy's)."""
    n, w = path.shape
    out = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for k in range(w - 1):
            a = path[i, k]
            b = path[i, k + 1]
            if a >= 0 and b >= 0:
                dx = ecef[a, 0] - ecef[b, 0]
                dy = ecef[a, 1] - ecef[b, 1]
                dz = ecef[a, 2] - ecef[b, 2]
                acc += np.sqrt(dx * dx + dy * dy + dz * dz) / c
        out[i] = acc
    return out


def _hop_delay_by_row(row, a, b, ecef, c, n):
    """(n,) sum over the hops of each row (``row, a, b`` as :func:`_path_hops` lists them, row-major)
    of |ecef[a] - ecef[b]| / c, from 0.0 in hop order: the same additions as :func:`_held_hop_delay`
    on the path matrix, without scanning its padding."""
    out = np.zeros(n)
    for e in range(len(row)):
        x, y = a[e], b[e]
        dx = ecef[x, 0] - ecef[y, 0]
        dy = ecef[x, 1] - ecef[y, 1]
        dz = ecef[x, 2] - ecef[y, 2]
        out[row[e]] += np.sqrt(dx * dx + dy * dy + dz * dz) / c
    return out


def _path_hops(path):
    """Row, first and second satellite of every hop (consecutive entries both >= 0) of ``path``
    (D, W), in row-major order. The first pass counts each row's hops without branches; the
    second stops a row once its hops are out (a route's hops come first, then the padding: at
    Gen2 x 100,000 dishes W is 75, set by the longest route, while most rows are far shorter)."""
    n, w = path.shape
    per_row = np.zeros(n, np.int64)
    count = 0
    for i in range(n):
        c = 0
        for k in range(w - 1):
            c += (path[i, k] >= 0) & (path[i, k + 1] >= 0)
        per_row[i] = c
        count += c
    row = np.empty(count, np.int64)
    a = np.empty(count, np.int64)
    b = np.empty(count, np.int64)
    e = 0
    for i in range(n):
        left = per_row[i]
        k = 0
        while left > 0:
            x, y = path[i, k], path[i, k + 1]
            if x >= 0 and y >= 0:
                row[e], a[e], b[e] = i, x, y
                e += 1
                left -= 1
            k += 1
    return row, a, b


def _chosen_paths(held, fresh, keep, connected):
    """(D, max(Wh, Wf)) int32: row i of ``held`` (D, Wh) where ``keep[i]``, else of ``fresh``
    (D, Wf), -1 padded; all -1 where not ``connected[i]``."""
    n = keep.shape[0]
    wh, wf = held.shape[1], fresh.shape[1]
    out = np.full((n, max(wh, wf)), -1, np.int32)
    for i in range(n):
        if not connected[i]:
            continue
        if keep[i]:
            for k in range(wh):
                out[i, k] = held[i, k]
        else:
            for k in range(wf):
                out[i, k] = fresh[i, k]
    return out


if njit is not None:
    _internet_tree_fast = njit(cache=True, nogil=True)(_internet_tree)
    _walk_grouped_fast = njit(cache=True, nogil=True)(_walk_grouped)
    _path_hops_fast = njit(cache=True, nogil=True)(_path_hops)
    _chosen_paths_fast = njit(cache=True, nogil=True)(_chosen_paths)
    _gateway_and_hops_fast = njit(cache=True, nogil=True)(_gateway_and_hops)
    _walk_paths_fast = njit(cache=True, nogil=True)(_walk_paths)
    _held_hop_delay_fast = njit(cache=True, nogil=True)(_held_hop_delay)
    _hop_delay_by_row_fast = njit(cache=True, nogil=True)(_hop_delay_by_row)
else:  # pragma: no cover
    _gateway_and_hops_fast, _walk_paths_fast, _held_hop_delay_fast = _gateway_and_hops, _walk_paths, _held_hop_delay
    _path_hops_fast, _walk_grouped_fast, _chosen_paths_fast = _path_hops, _walk_grouped, _chosen_paths
    _hop_delay_by_row_fast = _hop_delay_by_row
    _internet_tree_fast = None


def gateway_and_hops(next_hop: np.ndarray, n_sats: int) -> tuple[np.ndarray, np.ndarray]:
    """(N,) int64 first non-satellite node on each satellite's chain (the satellite itself where
    it has no next hop) and (N,) int32 laser hops to it."""
    return _gateway_and_hops_fast(np.ascontiguousarray(next_hop, dtype=np.int64), int(n_sats))


def walk_paths(next_hop: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """int32 (M, max length): row i lists ``length[i]`` nodes from ``start[i]`` along
    ``next_hop``, -1 padded."""
    width = int(length.max()) if len(length) else 0
    return _walk_paths_fast(np.ascontiguousarray(next_hop, dtype=np.int64), np.asarray(start, dtype=np.int64),
                            np.asarray(length, dtype=np.int64), width)


def walk_grouped_paths(next_hop: np.ndarray, group: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """:func:`walk_paths` with one next-hop table per group: row i walks ``next_hop[group[i]]``
    (``next_hop`` (H, n))."""
    width = int(length.max()) if len(length) else 0
    return _walk_grouped_fast(np.ascontiguousarray(next_hop, dtype=np.int64), np.asarray(group, dtype=np.int64),
                              np.asarray(start, dtype=np.int64), np.asarray(length, dtype=np.int64), width)


def internet_tree(reversed_matrix, n_sats: int, sources: np.ndarray):
    """dist (n,), predecessor (n,) int32 and source (n,) int32 (-9999: none) of the nearest of
    ``sources`` over the reversed snapshot graph (CSR (n, n); satellites 0..n_sats-1, whose rows
    hold only satellites), as scipy's ``dijkstra(min_only=True, return_predecessors=True)``
    returns them; None where the compiled two-phase search does not apply (no laser, or a laser
    delay too short for the buckets): the caller then uses scipy."""
    if _internet_tree_fast is None:  # pragma: no cover
        return None
    m = reversed_matrix
    sat_rows = m.indptr[n_sats]
    if sat_rows == 0:
        return None
    width = float(m.data[:sat_rows].min())
    if not width > 0.0:
        return None
    dist, pred, origin, ok = _internet_tree_fast(m.indptr, m.indices, m.data, int(n_sats),
                                                 np.asarray(sources, dtype=np.int64), width)
    return (dist, pred, origin) if ok else None


def path_hops(path: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H,) int64 row, first and second satellite of every hop of ``path`` (D, W) (consecutive
    entries both >= 0), in row-major order: ``np.nonzero(hop)[0], a[hop], b[hop]`` with ``a, b =
    path[:, :-1], path[:, 1:]`` and ``hop = (a >= 0) & (b >= 0)``."""
    return _path_hops_fast(np.ascontiguousarray(path))


def chosen_paths(held: np.ndarray, fresh: np.ndarray, keep: np.ndarray, connected: np.ndarray) -> np.ndarray:
    """int32 (D, max(Wh, Wf)): each dish's path, ``held`` (D, Wh) where ``keep`` (D,) bool, else
    ``fresh`` (D, Wf), -1 padded, all -1 where not ``connected`` (D,) bool; in one pass (the
    numpy masks it replaces are ``sim.stages.routes.chosen_paths_reference``)."""
    return _chosen_paths_fast(np.ascontiguousarray(held, dtype=np.int32), np.ascontiguousarray(fresh, dtype=np.int32),
                              np.ascontiguousarray(keep, dtype=np.bool_), np.ascontiguousarray(connected, dtype=np.bool_))


def held_hop_delay_s(path: np.ndarray, sat_ecef_m: np.ndarray, speed_m_per_s: float) -> np.ndarray:
    """(D,) laser delay (s) along each row of ``path`` (D, W) (satellites, -1 padded)."""
    return _held_hop_delay_fast(np.ascontiguousarray(path), np.ascontiguousarray(sat_ecef_m, dtype=np.float64),
                                float(speed_m_per_s))


def hop_delay_s(row: np.ndarray, a: np.ndarray, b: np.ndarray, sat_ecef_m: np.ndarray, speed_m_per_s: float,
                n_rows: int) -> np.ndarray:
    """(n_rows,) laser delay (s) of each row from its hops (``row, a, b`` of :func:`path_hops`):
    equal to :func:`held_hop_delay_s` of the path matrix (the same additions in the same order)."""
    return _hop_delay_by_row_fast(np.asarray(row, dtype=np.int64), np.asarray(a, dtype=np.int64),
                                  np.asarray(b, dtype=np.int64), np.ascontiguousarray(sat_ecef_m, dtype=np.float64),
                                  float(speed_m_per_s), int(n_rows))
