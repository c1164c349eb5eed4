"""A bucket queue (Dial's algorithm) for the compiled shortest-path searches: the one core of
:func:`leonet.network.dijkstra.shortest_paths` (one search per source) and of
:func:`leonet.network.routekernels.internet_tree` (its satellite phase, from many sources).

Buckets are ``width`` wide (a delay, s), with ``width`` <= every edge weight the search may relax:
then no edge leads from a node of the bucket being scanned back into it, so every node popped
from the current bucket with its current distance is final, and nodes are settled in bucket order
with no heap. The buckets form a ring of ``n_buckets`` slots, enough that two pending distances
never share a slot (a pending distance is at most one edge beyond the bucket being scanned).

The queue lives in arrays the caller owns: ``head`` (n_buckets,) int64, the first entry of each
slot (-1: empty); and the entries, a linked list per slot, in ``nxt`` (next entry, int64),
``val`` (node, int64) and ``key`` (distance when pushed, float64), each sized for every push the
search may make (edges + starting nodes + 1). An entry whose key is above its node's current
distance is stale (the node was reached more cheaply later) and is skipped when popped.

numba keys a cached kernel on the content of its own file only: the callers' cached kernels
(which hold the settling loop inlined) do not see a change here. After one, remove their cache
files (``src/leonet/network/__pycache__/{dijkstra,routekernels}.*.nb[ic]``).
"""

from __future__ import annotations


def bucket_push(head, nxt, val, key, top, slot, node, dist):
    """Add entry ``top`` (node, dist) at the head of slot ``slot``; returns top + 1."""
    val[top] = node
    key[top] = dist
    nxt[top] = head[slot]
    head[slot] = top
    return top + 1


def _settle_kernel(ties: bool):
    """The settling loop of one kind of search (one Python body; numba compiles each kind with
    ``ties`` a constant, so neither pays for the other's branches)."""

    def settle(indptr, indices, weights, dist, pred, origin, done, head, nxt, val, key, top, pending,
               width, base, n_buckets, n_limit):
        cur = 0
        while pending > 0:
            b = cur % n_buckets
            e = head[b]
            if e == -1:
                cur += 1
                continue
            head[b] = nxt[e]
            pending -= 1
            u = val[e]
            if done[u] or key[e] > dist[u]:
                continue  # a stale entry: u was reached more cheaply later
            done[u] = True
            du = dist[u]
            for j in range(indptr[u], indptr[u + 1]):
                v = indices[j]
                w = weights[j]
                if not ties:
                    if done[v]:
                        continue
                    if w < width or v >= n_limit:
                        return False
                nd = du + w
                if nd < dist[v]:
                    dist[v] = nd
                    pred[v] = u
                    if not ties:
                        origin[v] = origin[u]
                    top = bucket_push(head, nxt, val, key, top, (int(nd / width) - base) % n_buckets, v, nd)
                    pending += 1
                elif ties and nd == dist[v] and u < pred[v]:
                    pred[v] = u  # the tie rule: the smallest predecessor among equal distances
        return True

    return settle


#: ``settle_ties(indptr, indices, weights, dist, pred, origin, done, head, nxt, val, key, top,
#: pending, width, base, n_buckets, n_limit) -> True``: settle every node the queue reaches, in
#: bucket order, from the ``pending`` entries pushed so far (entries 0..top-1; the slot of
#: distance d is ``(int(d / width) - base) % n_buckets``, the scan starting at slot 0, i.e. bucket
#: ``base``). Relaxing the CSR edge u -> v (``indptr, indices, weights``) to a shorter distance
#: sets ``dist[v]`` and ``pred[v] = u`` and pushes v; an edge of equal length from a smaller u
#: also sets ``pred[v] = u`` (the smallest predecessor among equal distances), settled nodes
#: included. The caller guarantees ``width`` <= every weight; ``origin`` and ``n_limit`` are unused.
settle_ties = _settle_kernel(True)

#: ``settle_nearest(...)``, the same arguments: the search from many sources at once. A shorter
#: distance also sets ``origin[v] = origin[u]`` (the source whose tree v joins); ties keep the
#: first predecessor found; edges into settled nodes are passed over. Returns False, leaving the
#: search unfinished, on an edge shorter than ``width`` or into a node >= ``n_limit`` (the caller
#: then searches another way); True when the queue is empty.
settle_nearest = _settle_kernel(False)


try:  # numba compiles them once per machine (cached on disk); the settling loops are inlined
    # into their callers' kernels, where the queue's arrays are known not to overlap the others.
    from numba import njit

    bucket_push = njit(cache=True, nogil=True)(bucket_push)
    settle_ties = njit(cache=True, nogil=True, inline="always")(settle_ties)
    settle_nearest = njit(cache=True, nogil=True, inline="always")(settle_nearest)
except ImportError:  # pragma: no cover - numba is a dependency
    pass
