"""The incremental forwarding state (ForwardingTracker) against the full computation
(forwarding_state), scipy's Dijkstra and networkx: same distances bit for bit, same next hops,
step after step."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from leonet.network.incremental import ForwardingTracker
from leonet.network.isl import active_isls
from leonet.network.pairs import forwarding_state, station_graph
from leonet.scenario import load_scenario
from leonet.sim.model import build_model
from leonet.space.propagate import propagate


def hypatia_graphs(n_steps):
    """Station graphs of the hypatia-starlink preset (72x22 shell, top-100 cities, 100 ms steps)
    at its first ``n_steps`` consecutive steps, built as the simulation builds them."""
    sc = load_scenario("hypatia-starlink", overrides={"time.duration_s": (n_steps + 1) * 0.1})
    model = build_model(sc)
    net = model.network
    n_sats, n_sites = len(model.constellation), len(model.sites)
    stations = np.unique(np.r_[net.pair_src, net.pair_dst])
    number = np.full(n_sites, -1, dtype=np.int64)
    number[stations] = np.arange(len(stations))
    pos = propagate(model.constellation, model.t_ns[:n_steps])
    graphs = []
    for k in range(n_steps):
        ecef = pos.ecef_m[k]
        vis = model.visibility.query(ecef)
        isl = active_isls(net.isl_candidates, ecef, net.grazing_height_m, net.isl_max_range_m)
        local = number[vis.site]
        keep = local >= 0
        graphs.append(station_graph(n_sats, len(stations), isl.links, isl.length_m, local[keep], vis.sat[keep],
                                    vis.range_m[keep]))
    return graphs, n_sats, len(stations), np.unique(number[net.pair_dst])


def test_hypatia_workload_50_steps_equal_to_the_full_computation():
    graphs, n_sats, n_stations, dests = hypatia_graphs(50)
    assert n_sats == 1584 and n_stations == 100 and len(dests) == 100
    tracker = ForwardingTracker(n_sats, n_stations, dests)
    incremental_steps = repaired = 0
    for k, g in enumerate(graphs):
        full = forwarding_state(g, n_sats, n_stations, dests)
        inc = tracker.update(g)
        assert tracker.stats.full == (k == 0)
        incremental_steps += not tracker.stats.full
        repaired += tracker.stats.repaired
        # Bit for bit (stronger than the 1e-12 relative the issue asks for), and every next hop.
        assert np.array_equal(inc.delay_s, full.delay_s), k
        assert np.array_equal(inc.next_hop, full.next_hop), k
        assert np.array_equal(inc.dests, full.dests)
    assert incremental_steps == 49
    # The workload really exercises the repair: some trees fail the check at some steps.
    assert repaired > 0


def test_hypatia_distances_match_scipy_and_next_hops_are_shortest():
    graphs, n_sats, n_stations, dests = hypatia_graphs(3)
    tracker = ForwardingTracker(n_sats, n_stations, dests)
    for g in graphs:
        state = tracker.update(g)
    roots = n_sats + n_stations + dests
    ref = dijkstra(g.T.tocsr(), directed=True, indices=roots)
    assert np.array_equal(state.delay_s, ref)
    dense = g.toarray()
    for k in range(0, len(dests), 17):
        v = np.flatnonzero(state.next_hop[k] >= 0)
        u = state.next_hop[k][v]
        assert (dense[v, u] > 0).all()
        assert np.array_equal(state.delay_s[k][u] + dense[v, u], state.delay_s[k][v])


def smallest_tight_next_hop(dense, dist, root):
    """The tie rule, written plainly: v's next hop is the smallest u with an edge v -> u and
    dist[u] + w == dist[v]."""
    n = len(dist)
    out = np.full(n, -1, dtype=np.int64)
    for v in range(n):
        if v == root or not np.isfinite(dist[v]):
            continue
        tight = [u for u in range(n) if dense[v, u] > 0 and dist[u] + dense[v, u] == dist[v]]
        out[v] = min(tight)
    return out


@st.composite
def graph_sequences(draw):
    """A small constellation-like network over several steps: random lasers and ground links whose
    lengths drift a little each step, with links coming and going. With ``grid`` the lengths are
    whole multiples of 1,000 km, so equal-length paths (ties) are common."""
    n_sats = draw(st.integers(2, 14))
    n_stations = draw(st.integers(1, 5))
    grid = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    n_steps = draw(st.integers(2, 7))
    rng = np.random.default_rng(seed)
    pairs = np.array([(a, b) for a in range(n_sats) for b in range(a + 1, n_sats)], dtype=np.int64).reshape(-1, 2)
    isl_on = rng.random(len(pairs)) < 0.4
    gsl = np.array([(s, a) for s in range(n_stations) for a in range(n_sats)], dtype=np.int64).reshape(-1, 2)
    gsl_on = rng.random(len(gsl)) < 0.35
    if grid:
        isl_len = rng.integers(1, 4, len(pairs)) * 1e6
        gsl_len = rng.integers(1, 3, len(gsl)) * 1e6
    else:
        isl_len = rng.uniform(5e5, 5e6, len(pairs))
        gsl_len = rng.uniform(5e5, 1.1e6, len(gsl))
    steps = []
    for _ in range(n_steps):
        steps.append(station_graph(n_sats, n_stations, pairs[isl_on], isl_len[isl_on], gsl[gsl_on, 0],
                                   gsl[gsl_on, 1], gsl_len[gsl_on]))
        change = draw(st.sampled_from(["drift", "flip", "jump", "none"]))
        if change == "drift" and not grid:
            isl_len = isl_len * (1 + rng.uniform(-1e-3, 1e-3, len(isl_len)))
            gsl_len = gsl_len * (1 + rng.uniform(-1e-2, 1e-2, len(gsl_len)))
        elif change == "flip":  # links appear and disappear
            isl_on ^= rng.random(len(isl_on)) < 0.1
            gsl_on ^= rng.random(len(gsl_on)) < 0.1
        elif change == "jump":  # a few links change a lot
            hit = rng.random(len(isl_len)) < 0.2
            isl_len = np.where(hit, (rng.integers(1, 4, len(pairs)) * 1e6) if grid else rng.uniform(5e5, 5e6, len(pairs)),
                               isl_len)
    dests = np.flatnonzero(rng.random(n_stations) < 0.7)
    return steps, n_sats, n_stations, dests


@settings(max_examples=120, deadline=None)
@given(graph_sequences())
def test_random_graphs_with_changing_links(case):
    steps, n_sats, n_stations, dests = case
    tracker = ForwardingTracker(n_sats, n_stations, dests, full_above=1.0)
    roots = n_sats + n_stations + dests
    for k, g in enumerate(steps):
        inc = tracker.update(g)
        assert tracker.stats.full == (k == 0 or len(dests) == 0)
        full = forwarding_state(g, n_sats, n_stations, dests)
        assert np.array_equal(inc.delay_s, full.delay_s)
        assert np.array_equal(inc.next_hop, full.next_hop)
        if len(dests) == 0:
            continue
        # scipy's heap Dijkstra reaches the same fixpoint, so the same floats.
        ref = dijkstra(g.T.tocsr(), directed=True, indices=roots)
        assert np.array_equal(inc.delay_s, ref)
        dense = g.toarray()
        nxg = nx.from_scipy_sparse_array(g, create_using=nx.DiGraph)
        for i, root in enumerate(roots):
            lengths = nx.single_source_dijkstra_path_length(nxg.reverse(copy=False), int(root))
            reach = np.isfinite(inc.delay_s[i])
            assert set(np.flatnonzero(reach)) == set(lengths)
            for v, length in lengths.items():
                assert inc.delay_s[i, v] == pytest.approx(length, rel=1e-12, abs=0)
            assert np.array_equal(inc.next_hop[i], smallest_tight_next_hop(dense, inc.delay_s[i], root))


def test_a_large_change_falls_back_to_the_full_computation():
    """After a step where most nodes fail the check, the next step is computed from scratch."""
    rng = np.random.default_rng(3)
    n_sats, n_stations = 30, 4
    pairs = np.array([(a, (a + 1) % n_sats) for a in range(n_sats)] + [(a, (a + 7) % n_sats) for a in range(n_sats)])
    gsl = np.array([(s, a) for s in range(n_stations) for a in rng.choice(n_sats, 4, replace=False)])

    def graph(lengths):
        return station_graph(n_sats, n_stations, pairs, lengths, gsl[:, 0], gsl[:, 1], np.full(len(gsl), 8e5))

    tracker = ForwardingTracker(n_sats, n_stations, np.arange(n_stations), full_above=0.05)
    tracker.update(graph(rng.uniform(1e6, 2e6, len(pairs))))
    for _ in range(4):
        g = graph(rng.uniform(1e6, 2e6, len(pairs)))  # everything changes
        state = tracker.update(g)
        full = forwarding_state(g, n_sats, n_stations, np.arange(n_stations))
        assert np.array_equal(state.delay_s, full.delay_s) and np.array_equal(state.next_hop, full.next_hop)
        if not tracker.stats.full:
            assert tracker.stats.nodes_repaired > 0.05 * n_stations * (n_sats + 2 * n_stations)
            break
    tracker.update(graph(rng.uniform(1e6, 2e6, len(pairs))))
    assert tracker.stats.full


def test_reset_state_is_read_only_and_shape_is_checked():
    g = station_graph(3, 2, np.array([[0, 1], [1, 2]]), np.array([1e6, 1e6]), np.array([0, 1]), np.array([0, 2]),
                      np.array([6e5, 6e5]))
    tracker = ForwardingTracker(3, 2, np.array([0, 1]))
    a = tracker.update(g)
    b = tracker.update(g)
    assert not tracker.stats.full and tracker.stats.repaired == 0
    assert not a.next_hop.flags.writeable and not a.delay_s.flags.writeable
    assert a.next_hop is not b.next_hop
    tracker.reset()
    tracker.update(g)
    assert tracker.stats.full
    with pytest.raises(ValueError, match="shape"):
        tracker.update(station_graph(4, 2, np.zeros((0, 2)), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)))
    with pytest.raises(ValueError, match="dests"):
        ForwardingTracker(3, 2, np.array([2]))
