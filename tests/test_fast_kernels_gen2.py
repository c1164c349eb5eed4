"""The compiled kernels of the Gen2-at-scale work (issue 15, item 4) against their references.

Each fast path must return exactly what its reference returns (bit for bit) on random cases:
the direction-grid visibility query against the k-d trees.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.network.visibility import VisibilityIndex, VisibilityRule
from leonet.space.frames import geodetic_to_ecef


def _random_sky(seed: int, n_sites: int, n_sats: int, altitudes_km, nan_share: float):
    rng = np.random.default_rng(seed)
    lat = np.rad2deg(np.arcsin(rng.uniform(-1, 1, n_sites)))
    lon = rng.uniform(-180, 180, n_sites)
    h = rng.uniform(0, 3000, n_sites)
    sites = geodetic_to_ecef(lat, lon, h)
    band = rng.integers(0, len(altitudes_km), n_sats)
    alt = np.asarray(altitudes_km, dtype=float)[band] * 1e3 + rng.uniform(-10e3, 10e3, n_sats)
    u = rng.normal(size=(n_sats, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    sats = u * (6_378_137.0 + alt)[:, None]
    sats[rng.random(n_sats) < nan_share] = np.nan
    return lat, lon, sites, sats, band


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f))
               for f in ("site", "sat", "elevation_deg", "azimuth_deg", "range_m", "obstructed"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n_sites=st.integers(1, 400), n_sats=st.integers(1, 3000),
       n_bands=st.integers(1, 3), k=st.sampled_from([None, 1, 2, 3, 8, 32]),
       min_el=st.sampled_from([None, 0.0, 10.0, 25.0, 40.0]), max_range=st.sampled_from([None, 1.5e6, 3e6]),
       near_share=st.sampled_from([0.0, 0.5, 1.0]), nan_share=st.sampled_from([0.0, 0.1]),
       use_bands=st.booleans())
def test_grid_query_equals_kdtree_query(seed, n_sites, n_sats, n_bands, k, min_el, max_range, near_share,
                                        nan_share, use_bands):
    if min_el is None and max_range is None:
        max_range = 2e6
    altitudes = [340, 550, 1150][:n_bands]
    lat, lon, sites, sats, band = _random_sky(seed, n_sites, n_sats, altitudes, nan_share)
    rule = VisibilityRule(min_elevation_deg=min_el, max_range_m=max_range, nearest_k=k)
    near = np.random.default_rng(seed + 1).random(n_sites) < near_share
    index = VisibilityIndex(sites, lat, lon, rule, nearest_sites=near, sat_band=band if use_bands else None)
    assert _same(index.query(sats), index.query_reference(sats))


def test_grid_query_equals_kdtree_query_gen2_like():
    """A Gen2-like sky (three altitude bands, thousands of satellites) and 5,000 dishes plus a
    few full-view sites, nearest 8 split over the bands: the same pairs, to the bit."""
    lat, lon, sites, sats, band = _random_sky(7, 5_000, 30_000, [345, 530, 610], 0.01)
    near = np.ones(5_000, dtype=bool)
    near[::500] = False
    index = VisibilityIndex(sites, lat, lon, VisibilityRule(25.0, None, 8), nearest_sites=near, sat_band=band)
    fast, ref = index.query(sats), index.query_reference(sats)
    assert len(fast) > 10_000
    assert _same(fast, ref)


def test_grid_query_near_the_poles():
    """Sites and satellites near the poles (every longitude is a candidate there)."""
    rng = np.random.default_rng(3)
    n = 300
    lat = np.r_[rng.uniform(84, 90, n // 2), rng.uniform(-90, -84, n // 2)]
    lon = rng.uniform(-180, 180, n)
    sites = geodetic_to_ecef(lat, lon, np.zeros(n))
    u = rng.normal(size=(4000, 3))
    u[:, 2] *= 4  # crowd the poles
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    sats = u * 6_928_137.0
    for k in (None, 3):
        index = VisibilityIndex(sites, lat, lon, VisibilityRule(25.0, None, k))
        assert _same(index.query(sats), index.query_reference(sats))


# -- routes ----------------------------------------------------------------------------------

def _random_forest(rng, n_sats: int, n_ground: int) -> np.ndarray:
    """next_hop (n_sats + n_ground,) int32 of a random forest toward ground nodes: each satellite
    points to a ground node, to an earlier satellite in a random order, or nowhere (-1)."""
    order = rng.permutation(n_sats)
    nh = np.full(n_sats + n_ground, -1, dtype=np.int32)
    for i, v in enumerate(order):
        r = rng.random()
        if r < 0.1 or i == 0:
            nh[v] = n_sats + rng.integers(0, n_ground) if r < 0.08 or i == 0 else -1
        else:
            nh[v] = order[rng.integers(0, i)]
    return nh


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n_sats=st.integers(1, 400), n_ground=st.integers(1, 6))
def test_gateway_and_hops_equals_reference(seed, n_sats, n_ground):
    from leonet.network.routekernels import gateway_and_hops
    from leonet.network.routing import gateway_and_hops_reference

    nh = _random_forest(np.random.default_rng(seed), n_sats, n_ground)
    # the reference's chains must end on a ground node (as Dijkstra's trees do): cut the others
    reaches = np.zeros(n_sats, dtype=bool)
    for v in range(n_sats):
        u = v
        while 0 <= u < n_sats and nh[u] >= 0:
            u = nh[u]
        reaches[v] = u >= n_sats
    nh[:n_sats][~reaches] = -1
    cur, hops = gateway_and_hops(nh, n_sats)
    ref_cur, ref_hops = gateway_and_hops_reference(nh, n_sats)
    assert np.array_equal(cur, ref_cur) and np.array_equal(hops, ref_hops)


def test_route_to_internet_and_paths_equal_reference_on_a_real_graph():
    """Gen1-sized shell, real gateways and PoPs (several home PoPs): the compiled gateway/hop pass
    and path walks give the numpy rounds' answers; the held-path delay equals the hop-by-hop
    reference."""
    import leonet
    from leonet.network.routing import (gateway_and_hops_reference, satellite_paths,
                                        satellite_paths_reference)
    from leonet.sim.instants import Chunk
    from leonet.sim.stages.links import links_at
    from leonet.sim.stages.routes import (held_path_delay, held_path_delay_reference, internet_routes_at,
                                          paths_along, paths_along_reference)
    from leonet.sim.stages.serving import plan_slot
    from leonet.sim.stages.sky import sky_at

    sc = leonet.scenario_from_dict({
        "name": "t", "constellation": "starlink-gen1",
        "ground": {"builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]},
                               {"name": "starlink-pops-2023", "regions": ["Europe"]}],
                   "dish_groups": [{"name": "kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 300,
                                    "radius_km": 400, "seed": 1},
                                   {"name": "lisbon", "lat_deg": 38.7, "lon_deg": -9.1, "count": 300,
                                    "radius_km": 300, "seed": 2}]},
        "time": {"start": "2024-01-06T12:00:00Z", "duration_s": 60, "step_s": 5},
    })
    model = leonet.build_model(sc)
    t = model.t_ns
    chunk = Chunk(model, np.r_[t, model.network.clock.slot_start(t)])
    plan = plan_slot(chunk, int(model.network.clock.slot_start(t[0])))
    assert plan.paths.ok.sum() > 100 and plan.paths.path.shape[1] > 2
    for ti in t[:6]:
        sky = sky_at(chunk, int(ti))
        routes = internet_routes_at(chunk, links_at(chunk, sky))
        assert len(routes.routes) >= 2   # dishes near Kyiv and Lisbon: two home PoPs
        for r in routes.routes:
            n_sats = len(model.constellation)
            cur, hops = gateway_and_hops_reference(r.next_hop, n_sats)
            reachable = np.isfinite(r.delay_s[:n_sats])
            assert np.array_equal(r.sat_isl_hops, np.where(reachable, hops, -1))
            assert np.array_equal(r.sat_gateway, np.where(reachable, cur - n_sats, -1))
            start = np.r_[np.arange(n_sats), -1]
            assert np.array_equal(satellite_paths(r, start, n_sats), satellite_paths_reference(r, start, n_sats))
        fast = held_path_delay(model, sky, plan.paths, routes.pop_to_pop_s)
        ref = held_path_delay_reference(model, sky, plan.paths, routes.pop_to_pop_s)
        assert np.array_equal(fast[0], ref[0]) and np.array_equal(fast[1], ref[1])
        serving = np.random.default_rng(int(ti) % 1000).integers(-1, len(model.constellation), len(plan.paths.serving))
        a, b = paths_along(routes, serving, len(model.constellation)), paths_along_reference(routes, serving,
                                                                                           len(model.constellation))
        for field in ("serving", "ok", "path", "gateway", "pop", "isl_hops"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), field
            assert getattr(a, field).dtype == getattr(b, field).dtype, field


# -- capacity --------------------------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 3000), n_a=st.integers(1, 400), n_b=st.integers(1, 600))
def test_unique_pairs_equals_np_unique(seed, n, n_a, n_b):
    from leonet.capacity.linkindex import unique_pairs, unique_pairs_reference

    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_a, n)
    b = rng.integers(-1, n_b, n)
    u, inv = unique_pairs(a, b)
    ref_u, ref_inv = unique_pairs_reference(a, b)
    assert np.array_equal(u, ref_u) and np.array_equal(inv, ref_inv)


def _random_flows(rng, n_flows: int, n_links: int, max_per_flow: int, unit: bool):
    import scipy.sparse as sp

    per = rng.integers(0, max_per_flow + 1, n_flows)
    rows = np.repeat(np.arange(n_flows), per)
    cols = rng.integers(0, n_links, len(rows))
    w = np.ones(len(rows)) if unit else rng.uniform(0.05, 4.0, len(rows))
    m = sp.csr_matrix((w, (rows, cols)), shape=(n_flows, n_links))
    cap = rng.uniform(1.0, 100.0, n_links) * 10.0 ** rng.integers(0, 4, n_links)
    cap[rng.random(n_links) < 0.05] = 0.0
    cap[rng.random(n_links) < 0.05] = np.inf
    demand = rng.uniform(0.1, 60.0, n_flows)
    demand[rng.random(n_flows) < 0.3] = np.inf
    # an elastic flow needs a finite link
    tightest = np.full(n_flows, np.inf)
    for f in range(n_flows):
        seg = m.indices[m.indptr[f]:m.indptr[f + 1]]
        if len(seg):
            tightest[f] = cap[seg].min()
    demand[np.isinf(demand) & np.isinf(tightest)] = 7.0
    return m, cap, demand


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), n_flows=st.integers(1, 1500), n_links=st.integers(1, 300),
       max_per_flow=st.integers(0, 8), unit=st.booleans(), rel_tol=st.sampled_from([0.0, 1e-9, 1e-4]))
def test_max_min_fair_kernel_equals_numpy_rounds(seed, n_flows, n_links, max_per_flow, unit, rel_tol):
    from leonet.capacity.maxmin import max_min_fair, max_min_fair_reference

    m, cap, demand = _random_flows(np.random.default_rng(seed), n_flows, n_links, max_per_flow, unit)
    a = max_min_fair(m, cap, demand, rel_tol=rel_tol)
    b = max_min_fair_reference(m, cap, demand, rel_tol=rel_tol)
    assert a.iterations == b.iterations
    for f in ("rate_bps", "bottleneck_link", "limited_by_demand", "link_load_bps", "link_utilisation"):
        assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True), f


def test_max_min_fair_kernel_on_shared_links():
    """Links shared by thousands of flows (gateways, PoPs: long chains of rounds, sums of more
    than 128 weights) as in the capacity model."""
    import scipy.sparse as sp

    from leonet.capacity.maxmin import max_min_fair, max_min_fair_reference

    rng = np.random.default_rng(5)
    f, own, shared = 20_000, 30_000, 40
    rows = np.repeat(np.arange(f), 3)
    cols = np.c_[rng.integers(0, own, f), own + rng.integers(0, shared, f), own + shared + rng.integers(0, 5, f)]
    w = np.c_[rng.uniform(0.1, 3, f), np.ones(f), np.ones(f)]
    m = sp.csr_matrix((w.ravel(), (rows, cols.ravel())), shape=(f, own + shared + 5))
    cap = np.r_[rng.uniform(1, 50, own), rng.uniform(100, 3000, shared), rng.uniform(1e3, 1e4, 5)]
    demand = rng.uniform(0.5, 40, f)
    a, b = max_min_fair(m, cap, demand), max_min_fair_reference(m, cap, demand)
    assert a.iterations == b.iterations > 3
    assert np.array_equal(a.rate_bps, b.rate_bps) and np.array_equal(a.bottleneck_link, b.bottleneck_link)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n_flows=st.integers(1, 800), n_links=st.integers(1, 200),
       max_per_flow=st.integers(0, 8))
def test_csr_build_and_speedtest_equal_scipy(seed, n_flows, n_links, max_per_flow):
    import scipy.sparse as sp

    from leonet.capacity.csrkernels import canonical_csr
    from leonet.capacity.model import _carried_and_speedtest, _carried_and_speedtest_reference

    rng = np.random.default_rng(seed)
    per = rng.integers(0, max_per_flow + 1, n_flows)
    rows = np.repeat(np.arange(n_flows), per)
    cols = rng.integers(0, n_links, len(rows))
    data = rng.uniform(0.1, 5.0, len(rows))
    shuffle = rng.permutation(len(rows))   # entries in any order, repeats summed
    rows, cols, data = rows[shuffle], cols[shuffle], data[shuffle]
    fast = canonical_csr(rows, cols, data, (n_flows, n_links))
    ref = sp.csr_matrix((data, (rows, cols)), shape=(n_flows, n_links))
    ref.sum_duplicates()
    assert np.array_equal(fast.indptr, ref.indptr) and np.array_equal(fast.indices, ref.indices)
    assert np.array_equal(fast.data, ref.data)
    cap = rng.uniform(1, 100, n_links)
    cap[rng.random(n_links) < 0.1] = np.inf
    rate = rng.uniform(0, 10, n_flows)
    mult = rng.integers(1, 4, n_flows).astype(float)
    got, want = _carried_and_speedtest(ref, cap, rate, mult), _carried_and_speedtest_reference(ref, cap, rate, mult)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), k=st.integers(0, 600), n=st.integers(1, 120), nan=st.booleans())
def test_best_row_per_site_kernel_equals_reference(seed, k, n, nan):
    from leonet.network.slots import best_row_per_site, best_row_per_site_reference

    rng = np.random.default_rng(seed)
    site = np.sort(rng.integers(0, n, k))
    value = rng.integers(0, 6, k).astype(float)   # many ties: the first row wins
    if nan and k:
        value[rng.integers(0, k)] = np.nan
    assert np.array_equal(best_row_per_site(site, value, n), best_row_per_site_reference(site, value, n))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n_flows=st.integers(1, 300), n_parts=st.integers(1, 6))
def test_csr_from_row_sorted_parts_equals_scipy(seed, n_flows, n_parts):
    """The capacity model's links come in parts (beam, satellite, lasers, feeder, PoP), each with
    its rows sorted: the row-by-row merge gives scipy's canonical matrix (repeats summed)."""
    import scipy.sparse as sp

    from leonet.capacity.csrkernels import canonical_csr

    rng = np.random.default_rng(seed)
    rows, cols, data, offset = [], [], [], 0
    for _ in range(n_parts):
        n_links = int(rng.integers(1, 40))
        r = np.arange(n_flows) if rng.random() < 0.5 else np.sort(rng.integers(0, n_flows, int(rng.integers(0, 900))))
        rows.append(r)
        cols.append(offset + rng.integers(0, n_links, len(r)))
        data.append(rng.uniform(0.1, 3.0, len(r)))
        offset += n_links
    fast = canonical_csr(rows, cols, data, (n_flows, offset))
    ref = sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(n_flows, offset))
    ref.sum_duplicates()
    assert np.array_equal(fast.indptr, ref.indptr) and np.array_equal(fast.indices, ref.indices)
    assert np.array_equal(fast.data, ref.data)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 60), w=st.integers(1, 8))
def test_path_hops_equals_numpy_masks(seed, n, w):
    from leonet.network.routekernels import path_hops

    path = np.random.default_rng(seed).integers(-1, 40, (n, w)).astype(np.int32)
    a, b = path[:, :-1], path[:, 1:]
    hop = (a >= 0) & (b >= 0)
    row, x, y = path_hops(path)
    assert np.array_equal(row, np.nonzero(hop)[0]) and np.array_equal(x, a[hop]) and np.array_equal(y, b[hop])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n_sats=st.integers(1, 400), n_gw=st.integers(1, 12), n_pops=st.integers(1, 5),
       multi=st.booleans())
def test_internet_tree_equals_scipy_dijkstra(seed, n_sats, n_gw, n_pops, multi):
    """Random snapshot graphs (lasers, feeder links, fibre, backbone; real-valued delays, some
    fibre of ~0 length): the two-phase compiled search gives scipy's distances, predecessors and
    sources, from one PoP or from all (``min_only``)."""
    from scipy.sparse.csgraph import dijkstra

    from leonet.network.graph import build_snapshot_graph
    from leonet.network.routekernels import internet_tree

    rng = np.random.default_rng(seed)
    n_isl = int(rng.integers(0, 3 * n_sats + 1))
    isl = np.unique(np.sort(rng.integers(0, n_sats, (n_isl, 2)), axis=1), axis=0)
    isl = isl[isl[:, 0] != isl[:, 1]]
    n_feed = int(rng.integers(1, 3 * n_gw + 1))
    feed = np.unique(np.c_[rng.integers(0, n_gw, n_feed), rng.integers(0, n_sats, n_feed)], axis=0)
    gw_pop = rng.integers(-1, n_pops, n_gw)
    bb = np.array([(a, b) for a in range(n_pops) for b in range(a + 1, n_pops) if rng.random() < 0.5]).reshape(-1, 2)
    fibre = np.where(rng.random(n_gw) < 0.2, 0.0, rng.uniform(1e-4, 5e-3, n_gw))
    graph = build_snapshot_graph(n_sats, n_gw, n_pops, isl, rng.uniform(2e5, 5e6, len(isl)), feed[:, 0], feed[:, 1],
                                 rng.uniform(5e5, 2e6, len(feed)), gw_pop, fibre, bb, rng.uniform(1e-3, 3e-2, len(bb)))
    sources = graph.pop_node(np.arange(n_pops) if multi else np.array([int(rng.integers(0, n_pops))]))
    got = internet_tree(graph.reversed_matrix, n_sats, sources)
    if got is None:
        assert len(isl) == 0
        return
    want = dijkstra(graph.reversed_matrix, directed=True, indices=sources, return_predecessors=True, min_only=True)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n_flows=st.integers(1, 300), n_links=st.integers(1, 60))
def test_busiest_on_route_kernel_equals_reduceat(seed, n_flows, n_links):
    import scipy.sparse as sp

    from leonet.capacity.model import _busiest_on_route, _busiest_on_route_reference

    rng = np.random.default_rng(seed)
    per = rng.integers(0, 6, n_flows)
    rows = np.repeat(np.arange(n_flows), per)
    m = sp.csr_matrix((np.ones(len(rows)), (rows, rng.integers(0, n_links, len(rows)))), shape=(n_flows, n_links))
    util = rng.random(n_links)
    util[rng.random(n_links) < 0.1] = np.nan   # links of capacity 0
    assert np.array_equal(_busiest_on_route(m, util), _busiest_on_route_reference(m, util), equal_nan=True)


def test_laser_clear_equals_active_isls():
    from leonet.space.lineofsight import active_isls, laser_clear

    rng = np.random.default_rng(11)
    pos = rng.normal(size=(500, 3))
    pos *= (6.9e6 / np.linalg.norm(pos, axis=1))[:, None]
    pos[rng.random(500) < 0.02] = np.nan
    cand = rng.integers(0, 500, (5000, 2))
    for max_range in (None, 3e6):
        assert np.array_equal(laser_clear(cand, pos, 80e3, max_range), active_isls(cand, pos, 80e3, max_range).candidate_ok)


def test_paths_along_without_dishes_equals_the_reference():
    """A run without dishes has no home-PoP groups (internet_routes): both walks give empty paths."""
    from leonet.sim.stages.routes import HomeRoutes, paths_along, paths_along_reference

    empty = HomeRoutes(np.zeros(0, dtype=np.int64), (), np.zeros(0, dtype=np.int64), np.zeros((0, 0)))
    fast, ref = paths_along(empty, np.zeros(0, dtype=np.int32), 10), paths_along_reference(empty, np.zeros(0, dtype=np.int32), 10)
    for name in ("serving", "ok", "path", "gateway", "pop", "isl_hops"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(ref, name))
        assert getattr(fast, name).shape == getattr(ref, name).shape


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 80), w=st.integers(1, 40), holes=st.booleans())
def test_path_hops_on_padded_routes_equals_numpy_masks(seed, n, w, holes):
    """Rows as routes are stored (a prefix of satellites, then -1 padding, some rows all -1),
    where the kernel's second pass stops early; and with holes inside rows, where it must not."""
    from leonet.network.routekernels import path_hops

    rng = np.random.default_rng(seed)
    length = rng.integers(0, w + 1, n)
    path = np.where(np.arange(w)[None, :] < length[:, None], rng.integers(0, 500, (n, w)), -1).astype(np.int32)
    if holes:
        path[rng.random((n, w)) < 0.2] = -1
    a, b = path[:, :-1], path[:, 1:]
    hop = (a >= 0) & (b >= 0)
    row, x, y = path_hops(path)
    assert np.array_equal(row, np.nonzero(hop)[0]) and np.array_equal(x, a[hop]) and np.array_equal(y, b[hop])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 80), wh=st.integers(0, 12), wf=st.integers(0, 12))
def test_chosen_paths_kernel_equals_numpy_masks(seed, n, wh, wf):
    from leonet.network.routekernels import chosen_paths
    from leonet.sim.stages.routes import chosen_paths_reference

    rng = np.random.default_rng(seed)
    held = rng.integers(-1, 300, (n, wh)).astype(np.int32)
    fresh = rng.integers(-1, 300, (n, wf)).astype(np.int32)
    keep, connected = rng.random(n) < 0.5, rng.random(n) < 0.8
    fast = chosen_paths(held, fresh, keep, connected)
    ref = chosen_paths_reference(held, fresh, keep, connected)
    assert fast.dtype == ref.dtype == np.int32 and fast.shape == ref.shape and np.array_equal(fast, ref)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 60), wa=st.integers(0, 6), wb=st.integers(0, 6),
       p_change=st.floats(0.0, 1.0))
def test_same_routes_equals_rows_of_the_joined_signature(seed, n, wa, wb, p_change):
    """path_changed compares (serving, gateway, PoP, path) part by part; the reference joins them
    into one matrix per step (np.c_) and compares rows padded with -1."""
    from leonet.sim.stages.tables import same_routes, same_routes_reference

    rng = np.random.default_rng(seed)
    path_a = np.where(np.arange(wa)[None, :] < rng.integers(0, wa + 1, n)[:, None],
                      rng.integers(0, 5, (n, wa)), -1).astype(np.int32)
    path_b = np.full((n, wb), -1, np.int32)
    w = min(wa, wb)
    path_b[:, :w] = path_a[:, :w]
    flip = rng.random((n, wb)) < p_change * 0.3
    path_b[flip] = rng.integers(-1, 5, int(flip.sum()))
    a = tuple(rng.integers(-1, 3, n).astype(np.int32) for _ in range(3)) + (path_a,)
    b = tuple(np.where(rng.random(n) < p_change * 0.2, rng.integers(-1, 3, n), x).astype(np.int32) for x in a[:3])
    b = b + (path_b,)
    assert np.array_equal(same_routes(a, b), same_routes_reference(a, b))
    assert same_routes(a, a).all()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 80), w=st.integers(2, 30), holes=st.booleans())
def test_hop_delay_from_hops_equals_the_path_matrix_pass(seed, n, w, holes):
    """The held paths' laser delay summed from path_hops' list equals, to the bit, the pass over
    the padded path matrix (same additions, same order)."""
    from leonet.network.routekernels import held_hop_delay_s, hop_delay_s, path_hops

    rng = np.random.default_rng(seed)
    length = rng.integers(0, w + 1, n)
    path = np.where(np.arange(w)[None, :] < length[:, None], rng.integers(0, 200, (n, w)), -1).astype(np.int32)
    if holes:
        path[rng.random((n, w)) < 0.2] = -1
    ecef = rng.normal(0.0, 7.0e6, (200, 3))
    row, a, b = path_hops(path)
    fast = hop_delay_s(row, a, b, ecef, 299_792_458.0, n)
    ref = held_hop_delay_s(path, ecef, 299_792_458.0)
    assert fast.view(np.int64).tolist() == ref.view(np.int64).tolist()
