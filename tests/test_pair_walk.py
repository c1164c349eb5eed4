"""The step-to-step pair path walker (PairPathWalker: paths copied where none of the next hops
they use changed, walked elsewhere, written in Arrow list layout with path_changed) against the
full walk (route_pairs), the padding removal (list_offsets_values) and the row comparison
(same_rows) it replaces, on many consecutive steps of the Hypatia workload and on random graph
sequences."""

import numpy as np
import pytest
from hypothesis import given, settings

from leonet.network.incremental import ForwardingTracker
from leonet.network.pair_walk import PairPathWalker, pair_paths_reference
from leonet.network.pairs import forwarding_state, route_pairs
from leonet.network.paths import same_rows_reference

from test_incremental import graph_sequences, hypatia_graphs


def assert_same(fast, ref):
    assert np.array_equal(fast.one_way_s, ref.one_way_s)
    for name in ("hops", "offsets", "values", "changed"):
        got, want = getattr(fast, name), getattr(ref, name)
        assert np.array_equal(got, want), name
        assert got.dtype == want.dtype, name


def all_pairs(n_stations):
    src, dst = np.divmod(np.arange(n_stations * n_stations), n_stations)
    return src[src != dst], dst[src != dst]


def test_hypatia_workload_60_steps_equal_to_the_full_walk():
    graphs, n_sats, n_stations, dests = hypatia_graphs(60)
    src, dst = all_pairs(n_stations)
    tracker = ForwardingTracker(n_sats, n_stations, dests)
    walker = PairPathWalker(src, dst)
    prev = None
    n_changed = 0
    for g in graphs:
        state = tracker.update(g)
        fast = walker.walk(state)
        ref = pair_paths_reference(state, src, dst, prev)
        assert_same(fast, ref)
        n_changed += int(fast.changed.sum())
        prev = ref
    # The workload moves: some paths change between steps, most do not.
    assert 0 < n_changed < 0.5 * len(src) * (len(graphs) - 1)


def test_reference_changed_is_same_rows_of_the_padded_paths():
    graphs, n_sats, n_stations, dests = hypatia_graphs(3)
    src, dst = all_pairs(n_stations)
    prev_pad, prev = None, None
    for g in graphs:
        state = forwarding_state(g, n_sats, n_stations, dests)
        pad = route_pairs(state, src, dst).path_sats
        ref = pair_paths_reference(state, src, dst, prev)
        if prev_pad is not None:
            w = max(pad.shape[1], prev_pad.shape[1])
            assert np.array_equal(ref.changed, ~same_rows_reference(prev_pad, pad))
            assert w > 0
        prev_pad, prev = pad, ref


@settings(max_examples=120, deadline=None)
@given(graph_sequences())
def test_random_graph_sequences(case):
    steps, n_sats, n_stations, dests = case
    if len(dests) == 0:
        return
    rng = np.random.default_rng(len(steps) * 7919 + n_sats)
    m = int(rng.integers(0, 40))
    src, dst = rng.integers(0, n_stations, m), dests[rng.integers(0, len(dests), m)]
    tracker = ForwardingTracker(n_sats, n_stations, dests, full_above=1.0)
    walker = PairPathWalker(src, dst)
    prev = None
    for g in steps:
        state = tracker.update(g)
        ref = pair_paths_reference(state, src, dst, prev)
        assert_same(walker.walk(state), ref)
        prev = ref


def test_a_tight_values_buffer_grows_and_reset_forgets():
    graphs, n_sats, n_stations, dests = hypatia_graphs(3)
    src, dst = all_pairs(n_stations)
    walker = PairPathWalker(src, dst)
    states = [forwarding_state(g, n_sats, n_stations, dests) for g in graphs]
    # From a state where every pair is unreachable (empty paths) to a real one: the buffer sized
    # from the previous step is far too short and must grow.
    k, n = states[0].next_hop.shape
    empty = type(states[0])(states[0].dests, np.full((k, n), -1, np.int32), np.full((k, n), np.inf), n_sats, n_stations)
    walker.walk(empty)
    got = walker.walk(states[0])
    assert got.changed.all()
    assert_same(got, pair_paths_reference(states[0], src, dst, pair_paths_reference(empty, src, dst)))
    walker.reset()
    assert not walker.walk(states[1]).changed.any()


def test_walker_checks_its_pairs():
    with pytest.raises(ValueError):
        PairPathWalker(np.zeros(3), np.zeros(2))


@settings(max_examples=60, deadline=None)
@given(graph_sequences())
def test_tracker_states_stay_put_with_one_destination(case):
    # With one destination the tracker's node-major scratch transposes to a contiguous row: the
    # states it returned must be copies that later updates leave alone.
    steps, n_sats, n_stations, dests = case
    one = np.arange(min(1, n_stations))
    tracker = ForwardingTracker(n_sats, n_stations, one, full_above=1.0)
    states = [tracker.update(g) for g in steps]
    for g, s in zip(steps, states):
        full = forwarding_state(g, n_sats, n_stations, one)
        assert np.array_equal(s.next_hop, full.next_hop) and np.array_equal(s.delay_s, full.delay_s)
