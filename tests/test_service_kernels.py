"""The service model's fast paths against their numpy references, to the bit: the compiled ping
kernel (pings.dish_second and ping_rtt_ms vs latency.dish_second and rtt_ms) and the background's cell-satellite pairs
(one sparse distance matrix vs a ball query per cell)."""

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from leonet.service import latency as L
from leonet.service import pings
from leonet.service.background import _cells_near_satellites

S = 1_000_000_000


def assert_same(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    assert np.array_equal(a, b, equal_nan=True)


def test_kernel_sums_the_terms_in_the_reference_order():
    terms = L.rtt_terms_ms(np.arange(3), 10 * S, 1, 20.0)
    assert tuple(terms) == pings.RTT_TERM_ORDER


def test_a_p2_sized_second_is_identical():
    rng = np.random.default_rng(5)
    n = 10_000
    ids = np.arange(n)
    t = 1_700_000_012 * S               # a slot start: the disturbance's losses are in it
    args = dict(offered_bps=rng.uniform(0, 2e8, n), rate_bps=np.where(rng.random(n) < 0.1, 0.0, rng.uniform(1e7, 4e8, n)),
                pop_target_ms=np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, 30, n)),
                isl_hops=rng.integers(-1, 6, n))
    prop = np.where(rng.random(n) < 0.05, 0.0, rng.uniform(5, 60, n))
    params = L.LatencyParams(outage_time_fraction=0.2, isl_hop_ms=0.7)
    fast = pings.dish_second(ids, t, 77, prop, params=params, **args)
    ref = L.dish_second(ids, t, 77, prop, params=params, **args)
    for a, b in zip(fast, ref):
        assert_same(a, b)
    assert np.isnan(fast[0]).any() and (fast[1] > 0).any()   # whole-second outages and partial losses occur


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans(),
       st.booleans(), st.integers(1, 20), st.integers(1, 3), st.sampled_from([(7,), (3, 4), (2, 1, 5)]))
def test_dish_second_equals_the_reference(seed, mac, jitter, reconf, outages, queueing, target, n_pings,
                                          outage_s, shape):
    rng = np.random.default_rng(seed)
    params = L.LatencyParams(mac_on=mac, jitter_on=jitter, reconfiguration_on=reconf, outages_on=outages,
                             queueing_on=queueing, target_on=target, pings_per_s=n_pings,
                             outage_duration_s=outage_s, outage_time_fraction=float(rng.uniform(0, 0.6)),
                             disturbance_ms=float(rng.uniform(0, 900)), disturbance_loss=float(rng.uniform(0, 1)),
                             disturbance_spread_s=float(rng.choice([0.0, rng.uniform(0, 14)])),
                             slot_offset_s=float(rng.uniform(0, 14)), isl_hop_ms=float(rng.uniform(0, 2)),
                             processing_ms=float(rng.uniform(0, 30)))
    ids = rng.integers(-2**40, 2**40, shape)                      # negative ids wrap modulo 2**64
    t = rng.integers(-10**12, 2 * 10**18, shape[-1:])              # broadcast over the leading axes
    prop = rng.uniform(0, 80, shape)
    args = dict(offered_bps=rng.uniform(0, 3e8, shape), rate_bps=rng.choice([0.0, 5e7, 2e8, np.inf], shape),
                pop_target_ms=rng.uniform(0, 40, shape[-1:]), isl_hops=rng.integers(-1, 8, shape))
    fast = pings.dish_second(ids, t, seed, prop, params=params, **args)
    ref = L.dish_second(ids, t, seed, prop, params=params, **args)
    for a, b in zip(fast, ref):
        assert_same(a, b)


def test_dish_second_of_scalars_is_a_scalar_shape():
    fast = pings.dish_second(3, 5 * S, 1, 20.0)
    ref = L.dish_second(3, 5 * S, 1, 20.0)
    for a, b in zip(fast, ref):
        assert_same(np.asarray(a), np.asarray(b))


def _pairs_by_ball_queries(cells, sub, good, chord_m):
    """The listing satellite_background_near used before: a ball query per cell."""
    good_idx = np.flatnonzero(good)
    near = cKDTree(sub[good]).query_ball_point(cells, chord_m)
    lens = np.array([len(x) for x in near])
    flat = good_idx[np.concatenate([np.asarray(x, dtype=np.int64) for x in near])] if lens.sum() else np.zeros(0, np.int64)
    return np.repeat(np.arange(len(cells)), lens), flat


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.integers(1, 400), st.floats(0.05, 1.5))
def test_cell_satellite_pairs_equal_ball_queries(seed, n_cells, n_sats, chord):
    rng = np.random.default_rng(seed)
    unit = lambda n: (v := rng.normal(size=(n, 3))) / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    cells, sub = unit(n_cells) * 6.371e6, unit(n_sats) * 6.371e6
    k = min(2, n_cells, n_sats)
    sub[:k] = cells[:k]                                               # zero distances are in
    good = rng.random(n_sats) > (0.1 if seed % 7 else 1.0)          # sometimes no good satellite at all
    got = _cells_near_satellites(cells, sub, good, chord * 6.371e6)
    want = _pairs_by_ball_queries(cells, sub, good, chord * 6.371e6)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)
    w = rng.uniform(1, 3, n_sats)                                    # the sums are the same to the bit
    assert np.array_equal(np.bincount(got[0], weights=w[got[1]], minlength=n_cells),
                          np.bincount(want[0], weights=w[want[1]], minlength=n_cells))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(1, 12), st.booleans(), st.booleans())
def test_speed_test_kernel_equals_the_reference(seed, n_flows, n_links, alongside, ties):
    import scipy.sparse as sp

    from leonet.service.traffic import speed_test_bps, speed_test_bps_reference

    rng = np.random.default_rng(seed)
    m = (rng.random((n_flows, n_links)) < 0.5) * rng.choice([1.0, 0.5, 2.0, 1 / 3], (n_flows, n_links))
    m[np.arange(n_flows), rng.integers(0, n_links, n_flows)] = rng.uniform(0.2, 3.0, n_flows)
    routing = sp.csr_matrix(m)
    capacity = rng.choice([0.0, 5.0, np.inf, 17.3, 100.0], n_links) if ties else rng.uniform(0, 50, n_links)
    rate = rng.choice([0.0, 1.0, 2.5], n_flows) if ties else rng.uniform(0, 10, n_flows)
    probes = rng.integers(0, n_flows, int(rng.integers(1, 2 * n_flows)))
    cap = rng.choice([3.0, 20.0, np.inf], len(probes))
    fast = speed_test_bps(routing, capacity, rate, probes, cap, alongside=alongside)
    ref = speed_test_bps_reference(routing, capacity, rate, probes, cap, alongside=alongside)
    assert_same(fast, ref)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 50), st.integers(1, 9))
def test_probe_rows_equal_scipy_stacking(seed, n_rows, n_links):
    import scipy.sparse as sp

    from leonet.sim.stages.allocation import _with_probe_rows

    rng = np.random.default_rng(seed)
    routing = sp.random(n_rows, n_links, density=0.4, format="csr", random_state=seed % 1000)
    f = int(rng.integers(0, n_rows + 1))
    scale = 1.0 / rng.integers(1, 6, f)
    want = sp.vstack([routing, routing[:f].multiply(scale[:, None]).tocsr()]).tocsr()
    got = _with_probe_rows(routing, f, scale)
    assert got.shape == want.shape
    for m in (got, want):
        m.sum_duplicates()
        m.eliminate_zeros()
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 200), st.lists(st.integers(-400, 4000), min_size=1, max_size=40))
def test_period_demand_equals_demand_bps_at_every_instant(seed, n, steps_s):
    from leonet.service.traffic import PeriodDemand, TrafficParams, demand_bps

    rng = np.random.default_rng(seed)
    ids = np.arange(n, dtype=np.int64) * 3 + 1
    count = rng.integers(0, 40, n)
    lon = rng.uniform(-180, 180, n)
    cap_down, cap_up = rng.choice([100e6, 220e6], n), rng.choice([10e6, 20e6], n)
    params = TrafficParams(period_s=float(rng.choice([7.0, 60.0, 300.0])))
    memo = PeriodDemand(ids, count, lon, seed, cap_down_bps=cap_down, cap_up_bps=cap_up, params=params)
    t0 = 1_700_000_000 * S
    for t in t0 + np.cumsum(steps_s) * S // 2:          # forwards, backwards, repeats, jumps
        got = memo(int(t))
        want = demand_bps(ids, count, lon, int(t), seed, cap_down_bps=cap_down, cap_up_bps=cap_up, params=params)
        for a, b in zip(got, want):
            assert_same(a, b)


def _background_near_before(grid, sat_xyz_m, wanted, min_elevation_deg, t_ns, per_subscriber_busy_bps,
                            cell_area_m2, diurnal, weight=None, cell_weight=None):
    """satellite_background_near as it was before the speed-up (a ball query per grid cell, the
    whole grid's demand): the oracle the current one must equal to the bit."""
    from leonet.service import background as B

    xyz = np.asarray(sat_xyz_m, dtype=float)
    load, cells = np.zeros(len(xyz)), np.zeros(len(xyz))
    wanted = np.unique(np.asarray(wanted, dtype=np.int64))
    good = np.isfinite(xyz).all(axis=1)
    wanted = wanted[good[wanted]] if len(wanted) else wanted
    if not len(wanted) or grid.count.size == 0:
        return load, cells
    r = np.linalg.norm(xyz[wanted], axis=1)
    radius_m = float(np.max(B.footprint_radius_m(r - B.EARTH_RADIUS_M, min_elevation_deg)))
    chord_m = 2 * B.EARTH_RADIUS_M * np.sin(radius_m / (2 * B.EARTH_RADIUS_M))
    sub = xyz / np.linalg.norm(np.where(good[:, None], xyz, 1.0), axis=1, keepdims=True) * B.EARTH_RADIUS_M
    pairs = cKDTree(grid.xyz_m).sparse_distance_matrix(cKDTree(sub[wanted]), chord_m, output_type="ndarray")
    gi, wj = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    if not len(gi):
        return load, cells
    used = np.unique(gi)
    w = np.ones(len(xyz)) if weight is None else np.asarray(weight, dtype=float)
    wc = np.ones(len(xyz)) if cell_weight is None else np.asarray(cell_weight, dtype=float)
    good_idx = np.flatnonzero(good)
    near = cKDTree(sub[good]).query_ball_point(grid.xyz_m[used], chord_m)
    lens = np.array([len(x) for x in near])
    flat = good_idx[np.concatenate([np.asarray(x, dtype=np.int64) for x in near])] if lens.sum() else np.zeros(0, np.int64)
    owner = np.repeat(np.arange(len(used)), lens)
    sum_w, sum_wc = np.ones(grid.count.size), np.ones(grid.count.size)
    sum_w[used] = np.maximum(np.bincount(owner, weights=w[flat], minlength=len(used)), 1e-300)
    sum_wc[used] = np.maximum(np.bincount(owner, weights=wc[flat], minlength=len(used)), 1e-300)
    demand = grid.count * per_subscriber_busy_bps * B.diurnal_factor(B.local_solar_hour(grid.lon_deg, t_ns), diurnal)
    n_cols = grid.subscribers.shape[1]
    n_beam_cells = np.maximum(B._grid_cell_area_m2(grid.flat_index // n_cols, grid.cell_deg) / cell_area_m2, 1.0)
    occupied = n_beam_cells * (1.0 - np.exp(-grid.count / n_beam_cells))
    sat = wanted[wj]
    load[wanted] = np.bincount(wj, weights=demand[gi] * w[sat] / sum_w[gi], minlength=len(wanted))
    cells[wanted] = np.bincount(wj, weights=occupied[gi] * wc[sat] / sum_wc[gi], minlength=len(wanted))
    return load, cells


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.integers(1, 300), st.booleans())
def test_background_near_equals_the_version_before(seed, n_cities, n_sats, weighted):
    from leonet.service import background as B

    rng = np.random.default_rng(seed)
    lat = np.rad2deg(np.arcsin(rng.uniform(-0.9, 0.9, n_cities)))
    grid = B.subscriber_grid(float(rng.uniform(1e4, 1e7)), lat, rng.uniform(-180, 180, n_cities),
                             rng.uniform(1e4, 1e6, n_cities), float(rng.choice([0.5, 1.0, 2.0])))
    v = rng.normal(size=(n_sats, 3))
    xyz = v / np.linalg.norm(v, axis=1, keepdims=True) * (B.EARTH_RADIUS_M + rng.uniform(500e3, 600e3, (n_sats, 1)))
    xyz[rng.random(n_sats) < 0.05] = np.nan                          # lost satellites
    wanted = rng.integers(0, n_sats, int(rng.integers(0, 40)))
    kw = dict(weight=rng.choice([15e9, 20e9, 96e9], n_sats), cell_weight=rng.choice([24.0, 48.0], n_sats)) if weighted else {}
    args = (grid, xyz, wanted, 25.0, 1_700_000_000 * S + int(rng.integers(0, 86400)) * S, 2.3e6, 5.76e8,
            B.DEFAULT_DIURNAL)
    for a, b in zip(B.satellite_background_near(*args, **kw), _background_near_before(*args, **kw)):
        assert_same(a, b)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.booleans(), st.booleans(), st.sampled_from([(9,), (2, 5)]))
def test_one_ping_rtt_equals_rtt_ms(seed, mac, jitter, queueing, shape):
    rng = np.random.default_rng(seed)
    params = L.LatencyParams(mac_on=mac, jitter_on=jitter, queueing_on=queueing, outage_time_fraction=0.5,
                             isl_hop_ms=float(rng.uniform(0, 2)))       # outages and losses play no part
    ids, t = rng.integers(0, 2**40, shape), rng.integers(0, 2 * 10**18, shape)
    args = dict(offered_bps=rng.uniform(0, 3e8, shape), rate_bps=rng.choice([0.0, 5e7, np.inf], shape),
                pop_target_ms=rng.uniform(0, 40, shape), isl_hops=rng.integers(-1, 8, shape), params=params)
    prop = rng.uniform(0, 80, shape)
    assert_same(pings.ping_rtt_ms(ids, t, seed, prop, **args), L.rtt_ms(ids, t, seed, prop, **args))
