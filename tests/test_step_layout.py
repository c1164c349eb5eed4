"""The bookkeeping behind the per-step fast paths of the Hypatia workload, against plain
references: where each CSR entry moves between two graphs (the tracker's walk reads its tree
edges by position), the tracker's per-tree edge positions after every update, the satellites'
radii handed to the candidate search, and the positions' memory layout."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.network import skygrid
from leonet.network.incremental import ForwardingTracker, _remap_edges_fast
from leonet.network.pairs import forwarding_state
from leonet.scenario import load_scenario
from leonet.sim.model import build_model
from leonet.space.propagate import propagate

from test_incremental import graph_sequences, hypatia_graphs


def remap_reference(old: sp.csr_matrix, new: sp.csr_matrix) -> np.ndarray:
    """For each stored entry of ``old``, its index in ``new``'s data (-1: not stored there), by a
    dictionary of (row, column) -> index."""
    where = {}
    for r in range(new.shape[0]):
        for j in range(new.indptr[r], new.indptr[r + 1]):
            where[(r, int(new.indices[j]))] = j
    out = np.full(old.nnz, -1, dtype=np.int64)
    for r in range(old.shape[0]):
        for j in range(old.indptr[r], old.indptr[r + 1]):
            out[j] = where.get((r, int(old.indices[j])), -1)
    return out


def _remap(old, new):
    out = np.empty(old.nnz, np.int32)
    _remap_edges_fast(old.indptr.astype(np.int64), old.indices.astype(np.int32), new.indptr.astype(np.int64),
                      new.indices.astype(np.int32), out)
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 30), st.floats(0.0, 0.6), st.floats(0.0, 0.6), st.integers(0, 2**32 - 1))
def test_remap_of_random_csr_pairs(n, density_a, density_b, seed):
    rng = np.random.default_rng(seed)
    a = sp.random(n, n, density=density_a, format="csr", random_state=rng)
    # b keeps some of a's entries, drops others and adds new ones
    keep = sp.random(n, n, density=0.7, format="csr", random_state=rng)
    b = (a.multiply(keep > 0) + sp.random(n, n, density=density_b, format="csr", random_state=rng)).tocsr()
    a.sort_indices()
    b.sort_indices()
    assert np.array_equal(_remap(a, b), remap_reference(a, b))
    assert np.array_equal(_remap(a, a), np.arange(a.nnz))


def _check_tree_edges(tracker: ForwardingTracker, matrix: sp.csr_matrix, next_hop: np.ndarray) -> None:
    """Along every tree's order: the kept next hop is the state's, and the kept position holds
    that edge in this matrix (-1 only at the root and where the next hop is -1)."""
    ptr, idx = matrix.indptr, matrix.indices
    for k in range(len(tracker.dests)):
        order = tracker._order[k, : tracker._count[k]]
        assert order[0] == tracker.roots[k]
        for i in range(1, len(order)):
            v, p, e = order[i], tracker._o_next[k, i], tracker._o_edge[k, i]
            assert p == next_hop[k, v]
            if p < 0:
                assert e == -1
            else:
                assert ptr[v] <= e < ptr[v + 1] and idx[e] == p


def test_tracker_edge_positions_on_the_hypatia_workload():
    graphs, n_sats, n_stations, dests = hypatia_graphs(12)
    tracker = ForwardingTracker(n_sats, n_stations, dests)
    for g in graphs:
        state = tracker.update(g)
        _check_tree_edges(tracker, g, state.next_hop)


@settings(max_examples=60, deadline=None)
@given(graph_sequences())
def test_tracker_edge_positions_on_random_graphs(case):
    steps, n_sats, n_stations, dests = case
    tracker = ForwardingTracker(n_sats, n_stations, dests, full_above=1.0)
    for g in steps:
        state = tracker.update(g)
        full = forwarding_state(g, n_sats, n_stations, dests)
        assert np.array_equal(state.delay_s, full.delay_s) and np.array_equal(state.next_hop, full.next_hop)
        if len(dests):
            _check_tree_edges(tracker, g, state.next_hop)


def test_candidates_with_given_radii_equal_computed_ones():
    model = build_model(load_scenario("hypatia-starlink", overrides={"time.duration_s": 1.0}))
    ecef = propagate(model.constellation, model.t_ns[:1]).ecef_m[0].copy()
    ecef[::11] = np.nan
    index = model.visibility
    ok = np.isfinite(ecef).all(axis=1)
    sites = index.site_ecef_m
    near = np.zeros(len(sites), dtype=bool)
    band = np.zeros(len(ecef), dtype=np.int64)
    args = (sites, near, ecef, ok, band, np.array([1]), np.array([3e6]), 3e6)
    a = skygrid.candidate_pairs(*args)
    b = skygrid.candidate_pairs(*args, sat_radius_m=np.sqrt((ecef ** 2).sum(axis=1)))
    assert len(a[0]) > 0
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_positions_are_instant_major_and_equal_one_instant_at_a_time():
    model = build_model(load_scenario("hypatia-starlink", overrides={"time.duration_s": 2.0}))
    t = model.t_ns[:7]
    pos = propagate(model.constellation, t)
    assert pos.ecef_m.flags["C_CONTIGUOUS"] and pos.ecef_m.shape == (7, len(model.constellation), 3)
    for k in range(len(t)):
        one = propagate(model.constellation, t[k: k + 1])
        assert np.array_equal(pos.ecef_m[k], one.ecef_m[0], equal_nan=True)
        assert np.array_equal(pos.error_code[k], one.error_code[0])


def test_joined_runs_equals_concatenate():
    from leonet.sim.stages.tables import _joined_runs

    base = np.arange(100, dtype=np.int32)
    cases = [
        [base[0:10], base[10:25], base[25:25], base[25:40]],   # one run: a view of base
        [base[5:10], base[11:20]],                               # a gap: copied
        [base[10:20], base[0:10]],                               # out of order: copied
        [base[0:10], np.arange(10, 20, dtype=np.int32)],         # another array: copied
        [base[0:10]],                                            # one part
        [base[::2][:5], base[10:20]],                            # strided: copied
    ]
    for parts in cases:
        got = _joined_runs(parts)
        assert np.array_equal(got, np.concatenate(parts)) and got.dtype == np.concatenate(parts).dtype
    assert _joined_runs(cases[0]).base is base


def test_pair_walker_steps_are_one_run_of_memory():
    from leonet.network.pair_walk import PairPathWalker, pair_paths_reference
    from leonet.sim.stages.tables import _joined_runs

    graphs, n_sats, n_stations, dests = hypatia_graphs(8)
    rng = np.random.default_rng(5)
    src = rng.integers(0, n_stations, 400)
    dst = (src + rng.integers(1, n_stations, 400)) % n_stations
    tracker = ForwardingTracker(n_sats, n_stations, np.unique(dst))
    walker = PairPathWalker(src, dst)
    parts, previous = [], None
    for g in graphs:
        state = tracker.update(g)
        paths = walker.walk(state)
        ref = pair_paths_reference(state, src, dst, previous)
        assert np.array_equal(paths.values, ref.values) and np.array_equal(paths.offsets, ref.offsets)
        assert np.array_equal(paths.changed, ref.changed)
        parts.append(paths.values)
        previous = ref
    joined = _joined_runs(parts[1:])  # the first step has no previous one: its own array
    assert joined.base is parts[1].base
    assert np.array_equal(joined, np.concatenate(parts[1:]))
