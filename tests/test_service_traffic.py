"""On/off traffic and speed tests (leonet.service.traffic), against scipy and max_min_fair."""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from leonet.capacity.maxmin import max_min_fair
from leonet.errors import InputError
from leonet.service.traffic import (DEFAULT_TRAFFIC, TrafficParams, busy_hour_demand_per_dish_bps,
                                    demand_bps, diurnal_factor, local_solar_hour, mean_demand_bps,
                                    on_probability, speed_test_bps)

T0 = 1_704_067_200 * 10**9          # 2024-01-01T00:00:00Z
S = 10**9


def test_local_solar_time_and_the_diurnal_shape():
    assert local_solar_hour(15.0, T0) == pytest.approx(1.0)
    assert local_solar_hour(-90.0, T0 + 3 * 3600 * S) == pytest.approx(21.0)
    hours = np.arange(0, 24, 0.25)
    f = diurnal_factor(hours)
    assert 20 <= hours[np.argmax(f)] <= 22            # busy hour in the evening
    assert 3 <= hours[np.argmin(f)] <= 5              # trough before dawn
    assert f.max() == 1.0 and f.min() < 0.3
    assert diurnal_factor(24.0) == diurnal_factor(0.0)


def test_pure_function_of_time_in_any_chunking():
    ids = np.arange(40)
    lon = np.linspace(-170, 170, 40)
    n = np.where(ids % 3 == 0, 25, 1)
    t = T0 + np.arange(0, 3 * 3600, 7)[:, None] * S       # (T, 1), every 7 s for 3 h
    whole = demand_bps(ids, n, lon, t, seed=5)
    # Chunks of time in reverse order, and single (dish, t) calls, agree exactly.
    chunks = [demand_bps(ids, n, lon, t[k:k + 97], seed=5) for k in reversed(range(0, len(t), 97))]
    for part, got in zip(range(3), zip(*[c for c in chunks])):
        np.testing.assert_array_equal(np.concatenate(got[::-1]), whole[part])
    one = demand_bps(ids[7], n[7], lon[7], t[1234, 0], seed=5)
    assert one[0] == whole[0][1234, 7] and one[2] == whole[2][1234, 7]
    # A different seed is different traffic; the same seed is the same.
    assert not np.array_equal(demand_bps(ids, n, lon, t, seed=6)[0], whole[0])
    # Constant within a dish's period, changing between periods.
    assert np.mean(np.diff(whole[2], axis=0) != 0) < 0.2


def test_active_count_is_binomial():
    # 20,000 sites of N = 12 at one instant (periods start within a minute of it).
    ids = np.arange(20_000)
    lon = 0.0
    t = T0 + 21 * 3600 * S                  # 21:00 local at lon 0: the busy hour
    _, _, active = demand_bps(ids, 12, lon, t, seed=1)
    p = on_probability(lon, t - 30 * S)     # +- the diurnal change over one period
    observed = np.bincount(active, minlength=13)
    expected = stats.binom.pmf(np.arange(13), 12, p) * len(ids)
    keep = expected > 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert chi2 < stats.chi2.ppf(0.999, keep.sum() - 1), (observed, expected.round())


def test_aggregate_of_n_matches_n_single_processes():
    n = 30
    t = T0 + 19 * 3600 * S
    lon = 0.0
    sites = np.arange(4000)
    site_down, site_up, _ = demand_bps(sites, n, lon, t, seed=2)
    singles = np.arange(4000 * n).reshape(4000, n) + 10**6
    single_down, single_up, _ = demand_bps(singles, 1, lon, t, seed=2)
    sum_down = single_down.sum(axis=1)
    # Theory: mean N p sum s r; variance N (p sum s r^2 - (p sum s r)^2).
    p = float(on_probability(lon, t))
    rates = np.array([min(u.down_bps, 300e6) for u in DEFAULT_TRAFFIC.uses])
    shares = np.array([u.share for u in DEFAULT_TRAFFIC.uses])
    mean1 = p * (shares * rates).sum()
    var1 = p * (shares * rates**2).sum() - mean1**2
    assert mean_demand_bps(n, lon, t)[0] == pytest.approx(n * mean1)
    for sample in (site_down, sum_down):
        se = np.sqrt(n * var1 / len(sample))
        assert abs(sample.mean() - n * mean1) < 4.5 * se
        assert sample.var() == pytest.approx(n * var1, rel=0.15)
    assert site_up.mean() == pytest.approx(single_up.sum(axis=1).mean(), rel=0.05)


def test_kit_cap_is_never_exceeded():
    rng = np.random.default_rng(0)
    ids = np.arange(3000)
    caps = rng.choice([150e6, 300e6, 450e6], ids.size)
    n = rng.integers(0, 50, ids.size)
    for hour in (4, 12, 21):
        down, up, active = demand_bps(ids, n, 0.0, T0 + hour * 3600 * S, seed=9,
                                      cap_down_bps=caps, cap_up_bps=caps / 10)
        assert (down <= active * caps).all() and (up <= active * caps / 10).all()
        assert (active <= n).all()
    # A single dish on bulk gets exactly its cap; bulk has the highest rate of all uses.
    down, _, active = demand_bps(ids, 1, 0.0, T0 + 21 * 3600 * S, seed=9, cap_down_bps=caps)
    assert down.max() <= caps.max() and ((down == caps) == (down > 8e6)).all()


def test_busy_hour_mean_per_dish_is_a_few_mbps():
    down, up = busy_hour_demand_per_dish_bps()
    assert 2e6 < down < 6e6 and 0.1e6 < up < 1e6     # residential busy-hour averages


def test_bad_parameters():
    with pytest.raises(InputError, match="uses"):
        TrafficParams(uses=DEFAULT_TRAFFIC.uses[:2])
    with pytest.raises(InputError, match="diurnal"):
        TrafficParams(diurnal=(1.0,) * 23)
    with pytest.raises(InputError, match="n_dishes"):
        demand_bps([1], [-1], 0.0, T0, seed=0)


def _exact(routing, capacity, demand, probes, cap):
    """The oracle: re-run max-min with one probing dish's demand raised to its cap at a time."""
    out = []
    for p, c in zip(probes, cap):
        d = demand.copy()
        d[p] = c
        out.append(max_min_fair(routing, capacity, d).rate_bps[p])
    return np.array(out)


@pytest.mark.parametrize("trial", range(40))
def test_speed_test_equals_a_max_min_rerun_on_dish_beam_gateway_trees(trial):
    rng = np.random.default_rng(trial)
    d, b, g = int(rng.integers(2, 30)), int(rng.integers(1, 5)), int(rng.integers(1, 3))
    beam = rng.integers(0, b, d)
    gw = rng.integers(0, g, b)[beam]
    rows = np.r_[np.arange(d), np.arange(d), np.arange(d)]
    cols = np.r_[np.arange(d), d + beam, d + b + gw]
    routing = sp.csr_matrix((np.ones(3 * d), (rows, cols)), shape=(d, d + b + g))
    kit_cap = rng.choice([150e6, 300e6, 450e6], d)
    capacity = np.r_[kit_cap, rng.uniform(0.05e9, 1e9, b), rng.uniform(0.1e9, 1.5e9, g)]
    demand = np.minimum(rng.choice([0, 3e6, 8e6, 300e6], d, p=[.5, .2, .2, .1]), kit_cap)
    rate = max_min_fair(routing, capacity, demand).rate_bps
    fast = speed_test_bps(routing, capacity, rate, np.arange(d), kit_cap)
    np.testing.assert_allclose(fast, _exact(routing, capacity, demand, np.arange(d), kit_cap), rtol=1e-9)
    assert (fast <= kit_cap).all()


@pytest.mark.parametrize("trial", range(40))
def test_speed_test_on_random_weighted_networks(trial):
    rng = np.random.default_rng(100 + trial)
    f, l = int(rng.integers(2, 20)), int(rng.integers(1, 8))
    m = (rng.random((f, l)) < 0.4) * rng.choice([1.0, 2.0], (f, l))
    m[np.arange(f), rng.integers(0, l, f)] = 1.0
    routing = sp.csr_matrix(m)
    capacity = rng.uniform(1, 10, l)
    cap = np.full(f, 20.0)
    demand = np.minimum(rng.choice([0, 0.5, 2, np.inf], f), cap)
    rate = max_min_fair(routing, capacity, demand).rate_bps
    fast = speed_test_bps(routing, capacity, rate, np.arange(f), cap)
    np.testing.assert_allclose(fast, _exact(routing, capacity, demand, np.arange(f), cap), rtol=1e-9)


def test_speed_test_simple_cases():
    # One 100 Mbps beam, three dishes: a video (8), an idle one, and the prober (was at 3 Mbps).
    routing = sp.csr_matrix(np.ones((3, 1)))
    rate = max_min_fair(routing, [100e6], [8e6, 0, 3e6]).rate_bps
    assert speed_test_bps(routing, [100e6], rate, [2], 300e6)[0] == pytest.approx(92e6)
    # Infinite link: the test reads the kit cap.
    assert speed_test_bps(routing, [np.inf], rate, [2], 300e6)[0] == 300e6
    # A failed link reads 0.
    assert speed_test_bps(routing, [0.0], [0, 0, 0], [2], 300e6)[0] == 0
    # Elastic neighbours are shared with equally.
    rate = max_min_fair(routing, [90e6], [np.inf, np.inf, 1e6]).rate_bps
    assert speed_test_bps(routing, [90e6], rate, [2], 300e6)[0] == pytest.approx(30e6)


@pytest.mark.parametrize("trial", range(20))
def test_speed_test_alongside_a_site_flow_equals_a_rerun_with_one_more_flow(trial):
    # Sites (one flow each, standing for N dishes) behind terminal links of N x cap; one dish of
    # a site tests: a new flow on the site's beam and gateway, capped at one kit.
    rng = np.random.default_rng(200 + trial)
    d, b = int(rng.integers(2, 15)), int(rng.integers(1, 4))
    beam = rng.integers(0, b, d)
    n = rng.integers(1, 20, d)
    rows = np.r_[np.arange(d), np.arange(d), np.arange(d)]
    cols = np.r_[np.arange(d), d + beam, np.full(d, d + b)]
    routing = sp.csr_matrix((np.ones(3 * d), (rows, cols)), shape=(d, d + b + 1))
    capacity = np.r_[n * 300e6, rng.uniform(0.05e9, 1e9, b), rng.uniform(0.2e9, 2e9)]
    demand = n * rng.uniform(0, 20e6, d)
    rate = max_min_fair(routing, capacity, demand).rate_bps
    fast = speed_test_bps(routing[:, d:], capacity[d:], rate, np.arange(d), 300e6, alongside=True)
    for p in range(d):
        probe = sp.csr_matrix(routing[p, d:].toarray())
        with_probe = sp.vstack([routing[:, d:], probe], format="csr")
        exact = max_min_fair(with_probe, capacity[d:], np.r_[demand, 300e6]).rate_bps[-1]
        assert fast[p] == pytest.approx(exact, rel=1e-9)


def test_a_use_share_out_of_range_is_named_and_nan_is_refused():
    def shares(*values):
        uses = DEFAULT_TRAFFIC.uses
        return tuple(dataclasses.replace(u, share=v) for u, v in zip(uses, list(values) + [0.0] * len(uses)))

    with pytest.raises(InputError, match="nan"):           # NaN compared false and passed
        TrafficParams(uses=shares(float("nan"), 1.0))
    with pytest.raises(InputError, match=r"within 0\.\.1, got browsing 2, video -1"):
        TrafficParams(uses=shares(2.0, -1.0))
