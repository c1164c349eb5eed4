"""The station pairs' paths step to step, straight into Arrow list layout.

:func:`leonet.network.pairs.route_pairs` walks every pair's path at every step into a padded
(M, L) matrix; the tables then drop the padding (``list_offsets_values``) and compare it with the
previous step's (``same_rows``, for ``path_changed``). Between 100 ms steps a few dozen of the
100 x 1,784 next hops change, so most paths are the previous step's.

:class:`PairPathWalker` keeps the previous step's forwarding state and paths. A pair's path is
fully determined by its destination's row of ``next_hop`` at the nodes it visits (its source's
out-node, then each satellite on it), so where none of those entries changed the path is the old
one and is copied (kept paths of consecutive pairs as one run); only the other pairs are walked.
The result is the offsets and values of the ``list<int32>`` column, the hop counts, and
``path_changed``, in one compiled pass. Each step's values are written after the previous step's
in one arena and handed out as a view of it (never written again), so a chunk's steps lie in one
run of memory that its table takes without a copy.

:func:`pair_paths_reference` computes the same from the full walk, the padding removal and the
row comparison (the code it replaces); the tests compare the two on many steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pairs import ForwardingState, _dest_rows, route_pairs
from .paths import list_offsets_values, same_rows

try:  # numba compiles the kernels once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


@dataclass(frozen=True)
class PairPaths:
    """Routes of M station pairs at one instant, paths in Arrow list layout.

    Attributes
    ----------
    one_way_s : (M,) float64 one-way propagation delay, s; inf if unreachable.
    hops : (M,) int32 links on the path (station-satellite, lasers, satellite-station); -1 if
        unreachable.
    offsets : (M + 1,) int32, pair i's satellites are ``values[offsets[i]:offsets[i + 1]]``
        (none where unreachable).
    values : (total,) int32 satellites along the paths, src to dst.
    changed : (M,) bool, the path differs from the previous step's (all False at the first step
        a walker sees: nothing before it).
    """

    one_way_s: np.ndarray
    hops: np.ndarray
    offsets: np.ndarray
    values: np.ndarray
    changed: np.ndarray


def _rows_differ(a, b, out):
    """out[k] = row k of a differs from row k of b (int32 (K, n) each). Every entry is compared
    (no early exit: the loop then runs in SIMD lanes, and most rows are equal anyway)."""
    k, n = a.shape
    for r in range(k):
        ar, br = a[r], b[r]
        c = 0
        for j in range(n):
            c += ar[j] != br[j]
        out[r] = c != 0


def _walk_lists(next_hop, prev_next, row_diff, has_prev, rows, start, target, ok,
                prev_offsets, prev_values, offsets, values, hops, changed):
    """Each pair's path as a segment of ``values``; returns the values written, or -1 when
    ``values`` is too short (the caller retries with a longer one).

    next_hop, prev_next : int32 (K, n) this and the previous step's forwarding state;
    row_diff : bool (K,), whether the two differ anywhere in a row; has_prev : whether there is a
    previous step (else every pair is walked and nothing has changed); rows, start, target :
    int64 (M,) the pair's row, out-node and in-node; ok : bool (M,) reachable now;
    prev_offsets (M + 1,), prev_values : the previous step's paths.
    Writes offsets (M + 1,), values, hops (M,) and changed (M,).
    """
    m = len(rows)
    n = next_hop.shape[1]
    cap = len(values)
    top = 0
    offsets[0] = 0
    # Kept paths of consecutive pairs are consecutive in prev_values: they are copied as one run
    # (prev_values[run_from:run_from + run_len] to values[run_to:]) when a walked pair ends it.
    run_from = run_to = run_len = 0
    for i in range(m):
        r = rows[i]
        s = start[i]
        keep = False
        if has_prev:
            a0, a1 = prev_offsets[i], prev_offsets[i + 1]
            # The old path holds now if every entry it went through is unchanged, and its
            # reachability agrees with this step's delay (a reachable path has a satellite).
            if ok[i] == (a1 > a0):
                if not row_diff[r]:
                    keep = True
                elif next_hop[r, s] == prev_next[r, s]:
                    keep = True
                    for q in range(a0, a1):
                        v = prev_values[q]
                        if next_hop[r, v] != prev_next[r, v]:
                            keep = False
                            break
            if keep:
                length = a1 - a0
                if top + length > cap:
                    return -1
                if run_len == 0:
                    run_from, run_to = a0, top
                run_len += length
                top += length
                offsets[i + 1] = top
                hops[i] = length + 1 if ok[i] else -1
                changed[i] = False
                continue
        if run_len:
            values[run_to: run_to + run_len] = prev_values[run_from: run_from + run_len]
            run_len = 0
        first = top
        if ok[i]:
            cur = next_hop[r, s]
            length = 0
            while cur != target[i]:
                if cur < 0 or length >= n:
                    raise ValueError("pair walk: the forwarding state breaks off or loops on a reachable path")
                if top >= cap:
                    return -1
                values[top] = cur
                top += 1
                length += 1
                cur = next_hop[r, cur]
            hops[i] = length + 1
        else:
            hops[i] = -1
        offsets[i + 1] = top
        if has_prev:
            a0, a1 = prev_offsets[i], prev_offsets[i + 1]
            same = (a1 - a0) == (top - first)
            if same:
                for q in range(top - first):
                    if values[first + q] != prev_values[a0 + q]:
                        same = False
                        break
            changed[i] = not same
        else:
            changed[i] = False
    if run_len:
        values[run_to: run_to + run_len] = prev_values[run_from: run_from + run_len]
    return top


#: Steps' values an arena holds (sized from the step that opens it; its pages are touched only
#: as steps fill them), and at most this many values (128 MiB of address space) unless one step
#: needs more.
ARENA_STEPS = 64
ARENA_MAX_VALUES = 1 << 25


if njit is not None:
    _rows_differ_fast = njit(cache=True, nogil=True)(_rows_differ)
    _walk_lists_fast = njit(cache=True, nogil=True)(_walk_lists)
else:  # pragma: no cover
    _rows_differ_fast, _walk_lists_fast = _rows_differ, _walk_lists


class PairPathWalker:
    """The paths of fixed station pairs (src[i], dst[i]) step after step (see the module's text).

    ``walk(state)`` returns exactly :func:`pair_paths_reference` of ``state`` and the state
    given to the previous call (the first call, and the first after :meth:`reset`, have no
    previous step: nothing has changed). It is only faster when consecutive states are close.

    Parameters
    ----------
    src, dst : int (M,) station numbers (as :func:`leonet.network.pairs.route_pairs` takes them).
    """

    def __init__(self, src: np.ndarray, dst: np.ndarray):
        self.src = np.asarray(src, dtype=np.int64).copy()
        self.dst = np.asarray(dst, dtype=np.int64).copy()
        if self.src.shape != self.dst.shape or self.src.ndim != 1:
            raise ValueError(f"src and dst must be 1-D of one length, got {self.src.shape} and {self.dst.shape}")
        self.reset()

    def reset(self) -> None:
        """Forget the previous step."""
        self._prev: tuple[np.ndarray, PairPaths] | None = None
        self._layout: tuple | None = None
        # Steps after the first write their values one after the other into an arena and hand
        # out views of it (never written again): a chunk's steps are then one run of memory,
        # which its table takes as it is (:func:`leonet.sim.stages.tables._joined_runs`).
        self._arena = np.zeros(0, np.int32)
        self._arena_top = 0

    def walk(self, state: ForwardingState) -> PairPaths:
        """This step's :class:`PairPaths` from its forwarding state."""
        m = len(self.src)
        layout = (state.n_sats, state.n_stations, state.delay_s.shape[-1])
        if self._layout is None or self._layout[0] != layout or not np.array_equal(self._layout[1], state.dests):
            rows = _dest_rows(state, self.dst).astype(np.int64)
            start = state.out_node(self.src).astype(np.int64)
            # where delay_s[rows, start] sits in the flattened (K * n) delays
            flat = rows * layout[2] + start
            self._layout = (layout, np.array(state.dests), rows, start, state.in_node(self.dst).astype(np.int64), flat)
            self._prev = None  # another node layout: nothing to compare with
        _, _, rows, start, target, flat = self._layout
        next_hop = np.ascontiguousarray(state.next_hop, dtype=np.int32)
        one_way = state.delay_s.reshape(-1)[flat] if m else np.zeros(0)
        ok = np.isfinite(one_way)
        prev = self._prev
        if prev is not None and prev[0].shape != next_hop.shape:
            prev = None
        if prev is None:
            prev_next, row_diff = next_hop, np.ones(len(next_hop), dtype=bool)
            prev_offsets, prev_values = np.zeros(m + 1, np.int32), np.zeros(0, np.int32)
            cap = max(16 * m, 1)
        else:
            prev_next, prev_paths = prev
            row_diff = np.empty(len(next_hop), dtype=bool)
            _rows_differ_fast(next_hop, prev_next, row_diff)
            prev_offsets, prev_values = prev_paths.offsets, prev_paths.values
            cap = max(len(prev_values) + len(prev_values) // 4 + 64, 1)
        offsets = np.empty(m + 1, np.int32)
        hops = np.empty(m, np.int32)
        changed = np.empty(m, dtype=bool)
        while True:
            if prev is None:  # the first step: a generous buffer, copied to size below
                values = np.empty(cap, np.int32)
            else:
                if self._arena_top + cap > len(self._arena):
                    self._arena = np.empty(max(min(ARENA_STEPS * cap, ARENA_MAX_VALUES), cap), np.int32)
                    self._arena_top = 0
                values = self._arena[self._arena_top: self._arena_top + cap]
            top = _walk_lists_fast(next_hop, prev_next, row_diff, prev is not None, rows, start, target, ok,
                                   prev_offsets, prev_values, offsets, values, hops, changed)
            if top >= 0:
                break
            cap *= 2
        if prev is None:
            values = values[:top].copy()
        else:
            values = values[:top]  # a view of the arena, which is never written there again
            self._arena_top += top
        out = PairPaths(one_way, hops, offsets, values, changed)
        self._prev = (next_hop, out)
        return out


def pair_paths_reference(state: ForwardingState, src: np.ndarray, dst: np.ndarray,
                         previous: PairPaths | None = None) -> PairPaths:
    """:class:`PairPaths` from the full walk (:func:`~leonet.network.pairs.route_pairs`), the
    padding removed (:func:`~leonet.network.paths.list_offsets_values`) and ``changed`` against
    ``previous`` (None: nothing before) by :func:`~leonet.network.paths.same_rows`."""
    r = route_pairs(state, src, dst)
    offsets, values = list_offsets_values(r.path_sats)
    if previous is None:
        changed = np.zeros(len(r.hops), dtype=bool)
    else:
        width = int(np.diff(previous.offsets).max(initial=0))
        old = np.full((len(r.hops), width), -1, dtype=np.int32)
        lengths = np.diff(previous.offsets)
        for i in np.flatnonzero(lengths):
            old[i, : lengths[i]] = previous.values[previous.offsets[i]: previous.offsets[i + 1]]
        changed = ~same_rows(old, r.path_sats)
    return PairPaths(r.one_way_s, r.hops.astype(np.int32), offsets, values, changed)
