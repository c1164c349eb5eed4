"""The compiled network kernels against their numpy references: the pair path walk
(route_pairs), path comparison (same_rows, for path_changed), the Arrow list layout of paths, the
laser geometry (active_isls) and the station graph build (station_graph)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.network import paths
from leonet.constants import EARTH_RADIUS_M
from leonet.network.isl import active_isls, active_isls_reference
from leonet.network.pairs import (forwarding_state, route_pairs, route_pairs_reference, station_graph,
                                  station_graph_reference)

from test_incremental import hypatia_graphs


def assert_same_routes(a, b):
    assert np.array_equal(a.one_way_s, b.one_way_s)
    assert np.array_equal(a.hops, b.hops) and a.hops.dtype == b.hops.dtype
    assert np.array_equal(a.path_sats, b.path_sats) and a.path_sats.dtype == b.path_sats.dtype


def test_walk_on_the_hypatia_workload():
    graphs, n_sats, n_stations, dests = hypatia_graphs(2)
    src, dst = np.divmod(np.arange(n_stations * n_stations), n_stations)
    src, dst = src[src != dst], dst[src != dst]
    prev = None
    for g in graphs:
        state = forwarding_state(g, n_sats, n_stations, dests)
        fast, ref = route_pairs(state, src, dst), route_pairs_reference(state, src, dst)
        assert_same_routes(fast, ref)
        assert fast.path_sats.shape[0] == 9900 and fast.path_sats.shape[1] > 5
        if prev is not None:
            assert np.array_equal(paths.same_rows(prev, fast.path_sats), paths.same_rows_reference(prev, fast.path_sats))
        prev = fast.path_sats
        for got, want in zip(paths.list_offsets_values(prev), paths.list_offsets_values_reference(prev)):
            assert np.array_equal(got, want) and got.dtype == want.dtype


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 12), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_walk_on_random_graphs(n_sats, n_stations, seed):
    rng = np.random.default_rng(seed)
    pairs = np.array([(a, b) for a in range(n_sats) for b in range(a + 1, n_sats)], dtype=np.int64).reshape(-1, 2)
    pairs = pairs[rng.random(len(pairs)) < 0.4]
    gsl = np.array([(s, a) for s in range(n_stations) for a in range(n_sats)], dtype=np.int64).reshape(-1, 2)
    gsl = gsl[rng.random(len(gsl)) < 0.3]  # some stations see nothing: unreachable pairs
    g = station_graph(n_sats, n_stations, pairs, rng.uniform(5e5, 5e6, len(pairs)), gsl[:, 0], gsl[:, 1],
                      rng.uniform(5e5, 1.1e6, len(gsl)))
    dests = np.arange(n_stations)
    state = forwarding_state(g, n_sats, n_stations, dests)
    m = int(rng.integers(0, 30))
    src, dst = rng.integers(0, n_stations, m), rng.integers(0, n_stations, m)
    assert_same_routes(route_pairs(state, src, dst), route_pairs_reference(state, src, dst))


def test_walk_rejects_a_broken_forwarding_state():
    g = station_graph(3, 2, np.array([[0, 1], [1, 2]]), np.array([1e6, 1e6]), np.array([0, 1]), np.array([0, 2]),
                      np.array([6e5, 6e5]))
    state = forwarding_state(g, 3, 2, np.arange(2))
    bad = state.next_hop.copy()
    bad[1, 1] = 0  # satellites 0 and 1 now point at each other toward station 1
    bad[1, 0] = 1
    broken = type(state)(state.dests, bad, state.delay_s, 3, 2)
    with pytest.raises(ValueError, match="loops"):
        route_pairs(broken, np.array([0]), np.array([1]))
    with pytest.raises(ValueError, match="no forwarding state"):
        route_pairs(state, np.array([0]), np.array([5]))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 40), st.integers(0, 6), st.integers(0, 6), st.integers(0, 2**32 - 1))
def test_same_rows_and_list_layout_on_random_padded_paths(m, wa, wb, seed):
    rng = np.random.default_rng(seed)

    def padded(w):
        p = np.full((m, w), -1, dtype=np.int32)
        for i in range(m):
            n = int(rng.integers(0, w + 1))
            p[i, :n] = rng.integers(0, 3, n)  # few values: equal rows are common
        return p

    a, b = padded(wa), padded(wb)
    if m and rng.random() < 0.5:
        b[: m // 2, : min(wa, wb)] = a[: m // 2, : min(wa, wb)]
    assert np.array_equal(paths.same_rows(a, b), paths.same_rows_reference(a, b))
    assert paths.same_rows(a, a).all()
    for got, want in zip(paths.list_offsets_values(a), paths.list_offsets_values_reference(a)):
        assert np.array_equal(got, want) and got.dtype == want.dtype


def test_same_rows_checks_its_inputs():
    with pytest.raises(ValueError, match="rows"):
        paths.same_rows(np.zeros((2, 1), np.int32), np.zeros((3, 1), np.int32))
    with pytest.raises(ValueError, match="2-D"):
        paths.same_rows(np.zeros(2, np.int32), np.zeros(2, np.int32))


def assert_same_isls(a, b):
    assert np.array_equal(a.links, b.links) and a.links.dtype == b.links.dtype
    assert np.array_equal(a.length_m, b.length_m)  # bit for bit
    assert np.array_equal(a.candidate_ok, b.candidate_ok)
    assert (a.dropped_failed, a.dropped_grazing, a.dropped_range) == (b.dropped_failed, b.dropped_grazing,
                                                                       b.dropped_range)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 40), st.integers(0, 2**32 - 1), st.sampled_from([None, 3e6, 6e6]), st.booleans())
def test_isl_geometry_on_random_positions(n, seed, max_range_m, coincident):
    """Random shells at 300-1,500 km, some satellites failed (NaN), some pairs coincident: every
    drop reason occurs, and the compiled geometry must give the numpy reference's floats."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n, 3))
    pos = u / np.linalg.norm(u, axis=1, keepdims=True) * (EARTH_RADIUS_M + rng.uniform(3e5, 1.5e6, (n, 1)))
    pos[rng.random(n) < 0.1] = np.nan
    if coincident:
        pos[1] = pos[0]
    cand = np.array([(a, b) for a in range(n) for b in range(a + 1, n)], dtype=np.int32)
    fast = active_isls(cand, pos, 80e3, max_range_m)
    assert_same_isls(fast, active_isls_reference(cand, pos, 80e3, max_range_m))


def test_isl_geometry_on_the_hypatia_workload():
    from leonet.scenario import load_scenario
    from leonet.sim.model import build_model
    from leonet.space.propagate import propagate

    model = build_model(load_scenario("hypatia-starlink", overrides={"time.duration_s": 1.0}))
    net = model.network
    pos = propagate(model.constellation, model.t_ns[:5])
    for ecef in pos.ecef_m:
        for grazing in (net.grazing_height_m, 300e3):  # the second drops many links
            assert_same_isls(active_isls(net.isl_candidates, ecef, grazing, net.isl_max_range_m),
                             active_isls_reference(net.isl_candidates, ecef, grazing, net.isl_max_range_m))


def assert_same_csr(a, b):
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.shape == b.shape and a.indices.dtype == b.indices.dtype and a.indptr.dtype == b.indptr.dtype


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 15), st.integers(1, 6), st.integers(0, 2**32 - 1), st.booleans())
def test_station_graph_build_against_scipy(n_sats, n_stations, seed, duplicates):
    rng = np.random.default_rng(seed)
    isl = rng.integers(0, n_sats, (int(rng.integers(0, 3 * n_sats)), 2))
    isl = isl[isl[:, 0] != isl[:, 1]]
    gsl_st = rng.integers(0, n_stations, int(rng.integers(0, 4 * n_stations)))
    gsl_sat = rng.integers(0, n_sats, len(gsl_st))
    if not duplicates:  # the simulation's inputs: each link once
        isl = np.unique(np.sort(isl, axis=1), axis=0).reshape(-1, 2)
        _, first = np.unique(gsl_st * n_sats + gsl_sat, return_index=True)
        gsl_st, gsl_sat = gsl_st[first], gsl_sat[first]
    args = (n_sats, n_stations, isl, rng.uniform(0, 5e6, len(isl)), gsl_st, gsl_sat, rng.uniform(0, 1.1e6, len(gsl_st)))
    ref = station_graph_reference(*args)
    if ref.nnz < 2 * len(isl) + 2 * len(gsl_st):  # scipy merged a link given twice
        with pytest.raises(ValueError, match="twice"):
            station_graph(*args)
    else:
        assert_same_csr(station_graph(*args), ref)


def test_station_graph_rejects_unknown_nodes():
    with pytest.raises(ValueError, match="outside"):
        station_graph(2, 1, np.array([[0, 2]]), np.array([1e6]), np.zeros(0), np.zeros(0), np.zeros(0))
