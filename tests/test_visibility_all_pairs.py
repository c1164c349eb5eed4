"""The visibility query's all-pairs candidate search (small problems: sites x satellites up to
ALL_PAIRS_MAX) against its k-d tree ball query (the code it stands beside): the same pairs and
look angles at many instants of presets with stations, gateways and dishes, and on random
points against a brute-force distance test in numpy."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.network.visibility import pairs_within
from leonet.scenario import load_scenario
from leonet.sim.model import build_model
from leonet.space.propagate import propagate


def assert_same_pairs(a, b):
    for name in ("site", "sat", "elevation_deg", "azimuth_deg", "range_m", "obstructed"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert np.array_equal(x, y) and x.dtype == y.dtype, name


@pytest.mark.parametrize("preset,overrides", [
    ("hypatia-starlink", {"time.duration_s": 6.0}),
    ("ukraine-gen1", {"time.duration_s": 60}),
    ("ukraine-2022", {"time.duration_s": 86400, "time.step_s": 1800}),
])
def test_all_pairs_equal_the_trees(preset, overrides):
    model = build_model(load_scenario(preset, overrides=overrides))
    fast = model.visibility
    if len(fast._near_index):
        pytest.skip("nearest-k rule: the trees answer")
    assert len(fast.site_ecef_m) * len(model.constellation) <= fast.all_pairs_max
    trees = copy.copy(fast)
    trees.all_pairs_max = 0
    pos = propagate(model.constellation, model.t_ns[:60]).ecef_m
    total = 0
    for ecef in pos:
        a, b = fast.query(ecef), trees.query(ecef)
        assert_same_pairs(a, b)
        total += len(a.site)
    assert total > 0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 30), st.integers(0, 40), st.floats(1e5, 3e6), st.integers(0, 2**32 - 1))
def test_pairs_within_against_numpy(n_sites, n_sats, radius_m, seed):
    rng = np.random.default_rng(seed)
    sites = rng.uniform(-2e6, 2e6, (n_sites, 3))
    sats = rng.uniform(-2e6, 2e6, (n_sats, 3))
    site, sat = pairs_within(sites, sats, radius_m)
    d2 = ((sats[None, :, :] - sites[:, None, :]) ** 2).sum(axis=2)
    want_site, want_sat = np.nonzero(d2 <= radius_m * radius_m)
    assert np.array_equal(site, want_site) and np.array_equal(sat, want_sat)
