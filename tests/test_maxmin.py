"""Max-min fair allocation: hand-worked networks, the definition checked on random networks, and
two oracles: an iterative linear program (scipy's HiGHS) and the textbook one-level-per-round
water filling, both written here independently of the module."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from leonet.capacity.maxmin import Allocation, max_min_fair

INF = np.inf


def routing_from_routes(routes, n_links, weights=None) -> sp.csr_matrix:
    """CSR (F, L) from a list of link lists, one per flow; weights like routes or None (all 1)."""
    rows, cols, vals = [], [], []
    for f, links in enumerate(routes):
        for k, link in enumerate(links):
            rows.append(f)
            cols.append(link)
            vals.append(1.0 if weights is None else weights[f][k])
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(routes), n_links))


# ---------------------------------------------------------------------------------------------
# Oracles (test only)
# ---------------------------------------------------------------------------------------------

def max_min_fair_lp(routing, capacity_bps, demand_bps=None, tol=1e-7) -> np.ndarray:
    """Max-min fair rates by the iterative LP.

    Each round maximises t, the least rate of the flows not yet fixed, subject to the link
    capacities, the demands and the rates already fixed. Then, with t held at its optimum, one LP
    per unfixed flow maximises that flow's rate alone: a flow that cannot rise above t is
    saturated at t and is fixed there. At least the flows on the tightest link (or the flow at
    the lowest demand) are fixed each round.
    """
    weights = np.asarray(sp.csr_matrix(routing).todense(), dtype=float)     # (F, L)
    n_flows, _ = weights.shape
    capacity_bps = np.asarray(capacity_bps, dtype=float)
    demand_bps = np.full(n_flows, INF) if demand_bps is None else np.asarray(demand_bps, float)
    a_cap = np.hstack([weights.T, np.zeros((weights.shape[1], 1))])        # links x (F + t)
    fixed = np.full(n_flows, np.nan)
    while np.isnan(fixed).any():
        free = np.flatnonzero(np.isnan(fixed))
        # t - x_f <= 0 for every unfixed flow
        a_min = np.zeros((len(free), n_flows + 1))
        a_min[np.arange(len(free)), free] = -1.0
        a_min[:, -1] = 1.0
        a_ub = np.vstack([a_cap, a_min])
        b_ub = np.concatenate([capacity_bps, np.zeros(len(free))])

        def bounds(t_bounds):
            out = []
            for f in range(n_flows):
                if np.isnan(fixed[f]):
                    out.append((0.0, None if np.isinf(demand_bps[f]) else demand_bps[f]))
                else:
                    out.append((fixed[f], fixed[f]))
            return out + [t_bounds]

        c = np.zeros(n_flows + 1)
        c[-1] = -1.0
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds((0.0, None)), method="highs")
        assert res.status == 0, res.message
        t_star = res.x[-1]
        # Hold t a hair below its optimum so that the per-flow LPs stay feasible after rounding.
        t_hold = t_star * (1 - 1e-10)
        newly = []
        for f in free:
            c = np.zeros(n_flows + 1)
            c[f] = -1.0
            res_f = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds((t_hold, t_hold)),
                            method="highs")
            assert res_f.status == 0, res_f.message
            if res_f.x[f] <= t_star + tol * max(1.0, t_star):
                newly.append(f)
        assert newly, "the LP oracle fixed no flow in a round"
        fixed[newly] = t_star
    return fixed


def textbook_water_filling(routing, capacity_bps, demand_bps=None):
    """Progressive filling one level per round, as in Bertsekas & Gallager: raise every unfrozen
    flow to the lowest link level or demand, freeze the flows on saturated links and the flows at
    their demand, repeat. Returns (rates, rounds)."""
    matrix = sp.csr_matrix(routing, dtype=float)
    n_flows, _ = matrix.shape
    capacity_bps = np.asarray(capacity_bps, dtype=float)
    demand_bps = np.full(n_flows, INF) if demand_bps is None else np.asarray(demand_bps, float)
    rate = np.zeros(n_flows)
    has_links = np.diff(matrix.indptr) > 0
    rate[~has_links] = demand_bps[~has_links]
    active = has_links.copy()
    rounds = 0
    while active.any():
        rounds += 1
        weight = matrix.T @ active.astype(float)
        remaining = capacity_bps - matrix.T @ rate
        used = weight > 0
        step = min(np.min(np.maximum(remaining[used], 0) / weight[used], initial=INF),
                   np.min(demand_bps[active] - rate[active]))
        rate[active] += step
        saturated = used & (capacity_bps - matrix.T @ rate <= 1e-9 * capacity_bps)
        on_saturated = (matrix @ saturated.astype(float)) > 0
        at_demand = rate >= demand_bps * (1 - 1e-12)
        rate = np.minimum(rate, demand_bps)
        active &= ~(on_saturated | at_demand)
    return rate, rounds


def random_case(rng, n_flows, n_links, max_route=4, weighted=False, demands=False,
                zero_links=False, isolated=False):
    """A random network: routes of 1..max_route distinct links, capacities in [1, 10]."""
    routes, weights = [], []
    for _ in range(n_flows):
        k = rng.integers(1, max_route + 1)
        routes.append(list(rng.choice(n_links, size=min(k, n_links), replace=False)))
        weights.append(list(rng.choice([0.5, 1.0, 1.5, 2.0, 3.0], size=len(routes[-1]))))
    if isolated:
        routes[0] = []
    routing = routing_from_routes(routes, n_links, weights if weighted else None)
    capacity = rng.uniform(1.0, 10.0, n_links)
    if zero_links:
        capacity[rng.integers(0, n_links)] = 0.0
    demand = None
    if demands or isolated:
        demand = np.where(rng.random(n_flows) < 0.4, rng.uniform(0.1, 4.0, n_flows), INF)
        if isolated:
            demand[0] = 1.25
    return routing, capacity, demand


def assert_max_min_fair(alloc: Allocation, routing, capacity, demand, rtol=1e-8):
    """The definition: feasible, and every flow has its demand or a bottleneck link."""
    matrix = sp.csr_matrix(routing, dtype=float)
    n_flows, n_links = matrix.shape
    demand = np.full(n_flows, INF) if demand is None else np.asarray(demand, float)
    rate = alloc.rate_bps
    assert rate.shape == (n_flows,) and alloc.link_load_bps.shape == (n_links,)
    assert np.all(rate >= 0)
    assert np.all(rate <= demand * (1 + 1e-12))
    load = matrix.T @ rate
    np.testing.assert_allclose(alloc.link_load_bps, load, rtol=1e-12, atol=1e-12)
    assert np.all(load <= capacity * (1 + 1e-9) + 1e-12), "a link is over capacity"
    dense = matrix.toarray() > 0
    for f in range(n_flows):
        if alloc.limited_by_demand[f]:
            assert alloc.bottleneck_link[f] == -1
            assert rate[f] == pytest.approx(demand[f], rel=rtol)
            continue
        b = alloc.bottleneck_link[f]
        assert 0 <= b < n_links and dense[f, b], f"flow {f}: bottleneck {b} not on its route"
        assert load[b] >= capacity[b] * (1 - rtol) - 1e-12, f"flow {f}: link {b} not saturated"
        assert rate[f] >= rate[dense[:, b]].max() * (1 - rtol), f"flow {f}: not largest on {b}"


# ---------------------------------------------------------------------------------------------
# Hand-worked networks
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_dishes", [1, 2, 7, 100])
def test_one_beam_shared_evenly(n_dishes):
    capacity_bps = 1.2e9
    routing = routing_from_routes([[0]] * n_dishes, 1)
    alloc = max_min_fair(routing, [capacity_bps])
    np.testing.assert_allclose(alloc.rate_bps, capacity_bps / n_dishes, rtol=1e-12)
    assert np.all(alloc.bottleneck_link == 0)
    assert not alloc.limited_by_demand.any()
    assert alloc.link_utilisation[0] == pytest.approx(1.0)
    assert alloc.iterations == 1


def test_parking_lot_equal_capacities():
    # One long flow over links 0, 1, 2 and one short flow per link, capacity 1 each.
    routing = routing_from_routes([[0, 1, 2], [0], [1], [2]], 3)
    alloc = max_min_fair(routing, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(alloc.rate_bps, 0.5, rtol=1e-12)
    np.testing.assert_allclose(alloc.link_load_bps, 1.0, rtol=1e-12)
    assert alloc.bottleneck_link[1:].tolist() == [0, 1, 2]
    assert alloc.bottleneck_link[0] == 0            # all three saturate at once; lowest index
    assert alloc.iterations == 1


def test_parking_lot_unequal_capacities():
    # Link 0 (capacity 1) is shared by the long flow and short flow 1: 0.5 each. The long flow
    # then takes 0.5 of links 1 and 2, leaving 1.5 and 2.5 to short flows 2 and 3.
    routing = routing_from_routes([[0, 1, 2], [0], [1], [2]], 3)
    alloc = max_min_fair(routing, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(alloc.rate_bps, [0.5, 0.5, 1.5, 2.5], rtol=1e-12)
    assert alloc.bottleneck_link.tolist() == [0, 0, 1, 2]
    np.testing.assert_allclose(alloc.link_utilisation, 1.0, rtol=1e-12)
    # Links 1 and 2 wait only for link 0, so they are settled together in the second round.
    assert alloc.iterations == 2
    assert textbook_water_filling(routing, [1.0, 2.0, 3.0])[1] == 3


def test_three_levels_by_hand():
    # Links A=0 (10), B=1 (4), C=2 (6). Flows: 0 on A,B; 1 on B; 2 on A,C; 3 on C; 4 on A.
    # B's level is 4/2 = 2 (flows 0, 1); C's is 6/2 = 3 (flows 2, 3); then A has 10 - 2 - 3 = 5
    # left for flow 4.
    routing = routing_from_routes([[0, 1], [1], [0, 2], [2], [0]], 3)
    alloc = max_min_fair(routing, [10.0, 4.0, 6.0])
    np.testing.assert_allclose(alloc.rate_bps, [2, 2, 3, 3, 5], rtol=1e-12)
    assert alloc.bottleneck_link.tolist() == [1, 1, 2, 2, 0]
    assert alloc.iterations == 2


def test_demand_limited_flows_release_capacity():
    routing = routing_from_routes([[0]] * 4, 1)
    alloc = max_min_fair(routing, [10.0], [1.0, 2.0, INF, INF])
    np.testing.assert_allclose(alloc.rate_bps, [1.0, 2.0, 3.5, 3.5], rtol=1e-12)
    assert alloc.limited_by_demand.tolist() == [True, True, False, False]
    assert alloc.bottleneck_link.tolist() == [-1, -1, 0, 0]


def test_demand_below_fair_share_leaves_link_unsaturated():
    routing = routing_from_routes([[0], [0]], 1)
    alloc = max_min_fair(routing, [10.0], [1.0, 2.0])
    np.testing.assert_allclose(alloc.rate_bps, [1.0, 2.0])
    assert alloc.limited_by_demand.all()
    assert alloc.link_utilisation[0] == pytest.approx(0.3)


def test_weight_two_consumes_twice_its_rate():
    # Link 0 (capacity 3): flow 0 with weight 2, flow 1 with weight 1 -> equal rates of 1.
    routing = routing_from_routes([[0], [0]], 1, weights=[[2.0], [1.0]])
    alloc = max_min_fair(routing, [3.0])
    np.testing.assert_allclose(alloc.rate_bps, [1.0, 1.0], rtol=1e-12)
    assert alloc.link_load_bps[0] == pytest.approx(3.0)
    # Now flow 1 is also held to 0.5 by link 1, so flow 0 gets (3 - 0.5) / 2 = 1.25.
    routing = routing_from_routes([[0], [0, 1]], 2, weights=[[2.0], [1.0, 1.0]])
    alloc = max_min_fair(routing, [3.0, 0.5])
    np.testing.assert_allclose(alloc.rate_bps, [1.25, 0.5], rtol=1e-12)
    assert alloc.bottleneck_link.tolist() == [0, 1]


def test_duplicate_entries_are_summed():
    # A route that crosses link 0 twice uses it twice (COO duplicates, summed).
    routing = sp.coo_matrix(([1.0, 1.0, 1.0], ([0, 0, 1], [0, 0, 0])), shape=(2, 1))
    alloc = max_min_fair(routing, [3.0])
    np.testing.assert_allclose(alloc.rate_bps, [1.0, 1.0], rtol=1e-12)


def test_zero_capacity_link_holds_its_flows_at_zero():
    routing = routing_from_routes([[0, 1], [1]], 2)
    alloc = max_min_fair(routing, [0.0, 1.0])
    np.testing.assert_allclose(alloc.rate_bps, [0.0, 1.0])
    assert alloc.bottleneck_link.tolist() == [0, 1]
    assert np.isnan(alloc.link_utilisation[0]) and alloc.link_utilisation[1] == 1.0


def test_zero_demand_and_flows_without_links():
    routing = routing_from_routes([[0], [], [0], []], 1)
    alloc = max_min_fair(routing, [4.0], [0.0, 3.0, INF, 0.0])
    np.testing.assert_allclose(alloc.rate_bps, [0.0, 3.0, 4.0, 0.0])
    assert alloc.limited_by_demand.tolist() == [True, True, False, True]
    assert alloc.bottleneck_link.tolist() == [-1, -1, 0, -1]


def test_infinite_capacity_link_never_limits():
    routing = routing_from_routes([[0, 1], [1]], 2)
    alloc = max_min_fair(routing, [INF, 2.0])
    np.testing.assert_allclose(alloc.rate_bps, [1.0, 1.0])
    assert alloc.link_utilisation[0] == 0.0
    # A finite demand over links of infinite capacity is simply met.
    alloc = max_min_fair(routing_from_routes([[0]], 1), [INF], [5.0])
    assert alloc.rate_bps[0] == 5.0 and alloc.limited_by_demand[0]


def test_empty_inputs():
    alloc = max_min_fair(sp.csr_matrix((0, 3)), np.ones(3))
    assert alloc.rate_bps.shape == (0,) and alloc.iterations == 0
    np.testing.assert_array_equal(alloc.link_load_bps, 0.0)
    alloc = max_min_fair(sp.csr_matrix((2, 0)), np.zeros(0), [1.0, 2.0])
    np.testing.assert_array_equal(alloc.rate_bps, [1.0, 2.0])
    assert alloc.iterations == 0


def test_tolerance_merges_levels_that_differ_by_rounding():
    # Link 0's level is 1; link 1's is (2 + 2e-13) / 2, above it only by floating-point dust.
    # Within the tolerance both saturate in one round; with none, link 1 waits a round.
    routing = routing_from_routes([[0, 1], [1]], 2)
    capacity = [1.0, 2.0 + 2e-13]
    alloc = max_min_fair(routing, capacity)
    assert alloc.iterations == 1
    np.testing.assert_allclose(alloc.rate_bps, [1.0, 1.0], rtol=1e-12)
    assert max_min_fair(routing, capacity, rel_tol=0.0).iterations == 2


def test_inputs_not_modified_and_outputs_read_only():
    routing = routing_from_routes([[0, 1], [1]], 2)
    before = routing.copy()
    capacity = np.array([1.0, 3.0])
    demand = np.array([INF, 0.5])
    alloc = max_min_fair(routing, capacity, demand)
    assert (routing != before).nnz == 0
    np.testing.assert_array_equal(capacity, [1.0, 3.0])
    np.testing.assert_array_equal(demand, [INF, 0.5])
    with pytest.raises(ValueError):
        alloc.rate_bps[0] = 2.0


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

def test_negative_or_nan_capacity_names_index():
    routing = routing_from_routes([[0], [1], [2]], 3)
    with pytest.raises(ValueError, match=r"capacity_bps\[2\]"):
        max_min_fair(routing, [1.0, 1.0, -1.0])
    with pytest.raises(ValueError, match=r"capacity_bps\[1\].*NaN"):
        max_min_fair(routing, [1.0, np.nan, 1.0])


def test_negative_or_nan_demand_names_index():
    routing = routing_from_routes([[0], [0], [0]], 1)
    with pytest.raises(ValueError, match=r"demand_bps\[1\]"):
        max_min_fair(routing, [1.0], [1.0, -0.5, INF])
    with pytest.raises(ValueError, match=r"demand_bps\[0\].*NaN"):
        max_min_fair(routing, [1.0], [np.nan, 1.0, INF])


def test_elastic_flow_without_links_is_an_error():
    routing = routing_from_routes([[0], [], []], 1)
    with pytest.raises(ValueError, match=r"demand_bps\[1\].*no links"):
        max_min_fair(routing, [1.0])
    with pytest.raises(ValueError, match=r"demand_bps\[2\]"):
        max_min_fair(routing, [1.0], [INF, 1.0, INF])


def test_elastic_flow_over_infinite_links_only_is_an_error():
    routing = routing_from_routes([[0], [1]], 2)
    with pytest.raises(ValueError, match=r"demand_bps\[1\].*infinite capacity"):
        max_min_fair(routing, [1.0, INF])


def test_bad_weights_shapes_and_types():
    bad = sp.csr_matrix(([1.0, -2.0], ([0, 1], [0, 1])), shape=(2, 2))
    with pytest.raises(ValueError, match=r"routing\[1, 1\]"):
        max_min_fair(bad, [1.0, 1.0])
    bad = sp.csr_matrix(([1.0, np.inf], ([0, 1], [0, 1])), shape=(2, 2))
    with pytest.raises(ValueError, match=r"routing\[1, 1\]"):
        max_min_fair(bad, [1.0, 1.0])
    routing = routing_from_routes([[0], [1]], 2)
    with pytest.raises(ValueError, match="capacity_bps.*shape"):
        max_min_fair(routing, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="demand_bps.*shape"):
        max_min_fair(routing, [1.0, 1.0], [1.0])
    with pytest.raises(TypeError, match="sparse"):
        max_min_fair(routing.toarray(), [1.0, 1.0])


# ---------------------------------------------------------------------------------------------
# Random networks: the definition, the LP oracle, the textbook filling
# ---------------------------------------------------------------------------------------------

CASE_KINDS = [
    dict(),
    dict(demands=True),
    dict(weighted=True),
    dict(weighted=True, demands=True, zero_links=True),
    dict(isolated=True, zero_links=True),
]


@pytest.mark.parametrize("kind", range(len(CASE_KINDS)))
@pytest.mark.parametrize("seed", range(8))
def test_matches_lp_oracle_on_small_networks(seed, kind):
    rng = np.random.default_rng(1000 * kind + seed)
    n_flows, n_links = int(rng.integers(6, 16)), int(rng.integers(5, 13))
    routing, capacity, demand = random_case(rng, n_flows, n_links, **CASE_KINDS[kind])
    alloc = max_min_fair(routing, capacity, demand)
    expected = max_min_fair_lp(routing, capacity, demand)
    np.testing.assert_allclose(alloc.rate_bps, expected, rtol=1e-6, atol=1e-9)
    assert_max_min_fair(alloc, routing, capacity, demand)


@pytest.mark.parametrize("kind", range(len(CASE_KINDS)))
@pytest.mark.parametrize("seed", range(5))
def test_definition_and_textbook_filling_on_larger_networks(seed, kind):
    rng = np.random.default_rng(7000 + 100 * kind + seed)
    routing, capacity, demand = random_case(rng, 400, 250, max_route=6, **CASE_KINDS[kind])
    alloc = max_min_fair(routing, capacity, demand)
    assert_max_min_fair(alloc, routing, capacity, demand)
    expected, textbook_rounds = textbook_water_filling(routing, capacity, demand)
    np.testing.assert_allclose(alloc.rate_bps, expected, rtol=1e-8, atol=1e-12)
    assert alloc.iterations <= textbook_rounds


def test_many_equal_capacities_ties():
    # Integer-valued capacities and unit weights produce many exact ties between levels.
    rng = np.random.default_rng(5)
    routing, _, _ = random_case(rng, 300, 60, max_route=3)
    capacity = rng.integers(1, 4, 60).astype(float)
    alloc = max_min_fair(routing, capacity)
    assert_max_min_fair(alloc, routing, capacity, None)
    np.testing.assert_allclose(alloc.rate_bps, textbook_water_filling(routing, capacity)[0],
                               rtol=1e-9)
