"""Snapshot graph, routes to the internet and routes between station pairs, checked against
networkx (test-only oracle) on graphs built independently, and one bent pipe by hand."""

import networkx as nx
import numpy as np
import pytest

from leonet.constants import NS_PER_S, SPEED_OF_LIGHT_M_PER_S, WGS84_A_M
from leonet.network.fibre import fibre_delay_s
from leonet.network.graph import MIN_EDGE_DELAY_S, build_snapshot_graph, gateway_links
from leonet.network.isl import active_isls, plus_grid_candidates
from leonet.network.pairs import forwarding_state, route_pairs, station_graph
from leonet.network.routing import route_to_internet, satellite_paths
from leonet.network.visibility import VisibilityIndex, VisibilityRule
from leonet.space.constellation import Constellation
from leonet.space.frames import geodetic_to_ecef
from leonet.space.propagate import propagate
from leonet.space.walker import WalkerShell

C = SPEED_OF_LIGHT_M_PER_S
EPOCH_NS = 1_646_136_000 * NS_PER_S  # 2022-03-01T12:00:00Z
TOL_S = 1e-12


# --- random snapshot-shaped graphs ------------------------------------------------------------


def unique_pairs(rng, n_a, n_b, k, undirected):
    """Up to k distinct pairs (a, b), a in 0..n_a-1, b in 0..n_b-1 (no self pairs and, when
    undirected, at most one of (a, b) / (b, a))."""
    seen = set()
    out = []
    for _ in range(4 * k):
        if len(out) >= k:
            break
        a, b = int(rng.integers(n_a)), int(rng.integers(n_b))
        if undirected:
            if a == b or (min(a, b), max(a, b)) in seen:
                continue
            seen.add((min(a, b), max(a, b)))
        else:
            if (a, b) in seen:
                continue
            seen.add((a, b))
        out.append((a, b))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def random_snapshot(seed, descend: bool = False):
    """Random inputs to build_snapshot_graph, plus the same graph as a networkx DiGraph built
    from the raw inputs (nodes named by leonet's numbering). ``descend``: satellites with a feeder
    link to a gateway with a PoP send nothing on over lasers (``landing_route: bent-pipe-first``)."""
    rng = np.random.default_rng(seed)
    n_sats = int(rng.integers(3, 30))
    n_gw = int(rng.integers(1, 6))
    n_pops = int(rng.integers(1, 4))
    isl = unique_pairs(rng, n_sats, n_sats, int(rng.integers(0, 2 * n_sats)), undirected=True)
    isl_len = rng.uniform(500e3, 5000e3, len(isl))
    feeders = unique_pairs(rng, n_sats, n_gw, int(rng.integers(1, 2 * n_gw + 2)), undirected=False)
    feeder_sat, feeder_gw = feeders[:, 0], feeders[:, 1]
    feeder_range = rng.uniform(550e3, 1200e3, len(feeders))
    gateway_pop = rng.integers(-1, n_pops, n_gw)  # -1: a gateway with no PoP
    gateway_pop_delay = rng.uniform(1e-5, 5e-3, n_gw)
    backbone = unique_pairs(rng, n_pops, n_pops, int(rng.integers(0, n_pops + 1)), undirected=True)
    backbone_delay = rng.uniform(1e-4, 2e-2, len(backbone))

    down = {int(s) for s, gw in zip(feeder_sat, feeder_gw) if gateway_pop[gw] >= 0} if descend else set()
    descend_at = np.isin(np.arange(n_sats), list(down)) if descend else None
    g = build_snapshot_graph(
        n_sats, n_gw, n_pops, isl, isl_len, feeder_gw, feeder_sat, feeder_range,
        gateway_pop, gateway_pop_delay, backbone, backbone_delay, descend_at,
    )

    G = nx.DiGraph()
    G.add_nodes_from(range(n_sats + n_gw + n_pops))
    for (a, b), length in zip(isl, isl_len):
        if int(a) not in down:
            G.add_edge(int(a), int(b), weight=length / C)
        if int(b) not in down:
            G.add_edge(int(b), int(a), weight=length / C)
    for s, gw, r in zip(feeder_sat, feeder_gw, feeder_range):
        G.add_edge(int(s), n_sats + int(gw), weight=r / C)  # one way: sat -> gateway
    for gw in range(n_gw):
        if gateway_pop[gw] >= 0:
            G.add_edge(n_sats + gw, n_sats + n_gw + int(gateway_pop[gw]), weight=gateway_pop_delay[gw])
    for (a, b), d in zip(backbone, backbone_delay):
        G.add_edge(n_sats + n_gw + int(a), n_sats + n_gw + int(b), weight=d)
        G.add_edge(n_sats + n_gw + int(b), n_sats + n_gw + int(a), weight=d)
    return g, G


def chain(next_hop, v):
    nodes = [int(v)]
    while next_hop[nodes[-1]] >= 0:
        nodes.append(int(next_hop[nodes[-1]]))
        assert len(nodes) <= len(next_hop), "next_hop has a cycle"
    return nodes


def chain_delay(G, nodes):
    return sum(G[a][b]["weight"] for a, b in zip(nodes[:-1], nodes[1:]))


@pytest.mark.parametrize("descend", [False, True])
@pytest.mark.parametrize("seed", range(20))
def test_route_to_internet_matches_networkx(seed, descend):
    g, G = random_snapshot(seed, descend)
    n_sats, n_gw, n_pops = g.n_sats, g.n_gateways, g.n_pops
    pop0 = n_sats + n_gw
    pops = list(range(pop0, pop0 + n_pops))
    r = route_to_internet(g)

    # The matrix holds exactly the oracle's edges, with the oracle's weights.
    coo = g.matrix.tocoo()
    assert {(int(i), int(j)) for i, j in zip(coo.row, coo.col)} == set(G.edges)
    for i, j, d in zip(coo.row, coo.col, coo.data):
        assert d == pytest.approx(G[int(i)][int(j)]["weight"], rel=1e-15, abs=0)

    dist, _paths = nx.multi_source_dijkstra(G.reverse(copy=True), set(pops), weight="weight")
    expected = np.array([dist.get(v, np.inf) for v in range(g.n_nodes)])
    finite = np.isfinite(expected)
    assert np.array_equal(np.isfinite(r.delay_s), finite)
    assert np.all(np.abs(r.delay_s[finite] - expected[finite]) <= TOL_S)

    for v in range(g.n_nodes):
        if not finite[v]:
            assert r.next_hop[v] == -1 and r.exit_pop[v] == -1
            continue
        nodes = chain(r.next_hop, v)
        assert nodes[-1] in pops
        assert r.exit_pop[v] == nodes[-1] - pop0
        for a, b in zip(nodes[:-1], nodes[1:]):
            assert G.has_edge(a, b)
        assert abs(chain_delay(G, nodes) - r.delay_s[v]) <= TOL_S
        # Every suffix of a shortest path is a shortest path.
        for k, u in enumerate(nodes):
            assert abs(chain_delay(G, nodes[k:]) - r.delay_s[u]) <= TOL_S
        # Ground sites never go back up: once a chain leaves the satellites it stays down.
        on_ground = [u >= n_sats for u in nodes]
        assert on_ground == sorted(on_ground)

    for p in pops:
        assert r.delay_s[p] == 0 and r.next_hop[p] == -1 and r.exit_pop[p] == p - pop0

    # Satellites: first gateway on the chain and the number of laser hops before it.
    for s in range(n_sats):
        if not finite[s]:
            assert r.sat_gateway[s] == -1 and r.sat_isl_hops[s] == -1
            continue
        nodes = chain(r.next_hop, s)
        first_ground = next(k for k, u in enumerate(nodes) if u >= n_sats)
        assert n_sats <= nodes[first_ground] < pop0  # a gateway, not a PoP
        assert r.sat_gateway[s] == nodes[first_ground] - n_sats
        isl_edges = sum(1 for a, b in zip(nodes[:-1], nodes[1:]) if a < n_sats and b < n_sats)
        assert isl_edges == first_ground - 1  # the satellites come first, then only ground
        assert r.sat_isl_hops[s] == isl_edges

    if descend:  # a satellite that sees a gateway with a PoP goes down there, never on over lasers
        sees = np.zeros(n_sats, dtype=bool)
        coo_sat = coo.row < n_sats
        to_gw = coo_sat & (coo.col >= n_sats) & (coo.col < pop0)
        has_pop = np.asarray([G.out_degree(int(c)) > 0 for c in coo.col[to_gw]], dtype=bool)
        sees[coo.row[to_gw][has_pop]] = True
        assert np.all(r.sat_isl_hops[sees] == 0)
        assert not np.any(coo_sat & (coo.col < n_sats) & sees[np.minimum(coo.row, n_sats - 1)])

    # satellite_paths: each row is the satellite prefix of the chain, padded with -1.
    starts = np.r_[np.arange(n_sats), -1, np.random.default_rng(seed).integers(0, n_sats, 5)]
    paths = satellite_paths(r, starts, n_sats)
    assert paths.dtype == np.int32 and paths.shape[0] == len(starts)
    width = 0
    for row, s in zip(paths, starts):
        if s < 0 or not finite[s]:
            assert (row == -1).all()
            continue
        sats = [u for u in chain(r.next_hop, s) if u < n_sats]
        width = max(width, len(sats))
        assert list(row[: len(sats)]) == sats
        assert (row[len(sats):] == -1).all()
    assert paths.shape[1] == width


def test_random_graphs_cover_unreachable_and_multi_pop_cases():
    """The 20 seeds above exercise the interesting cases (guards against a vacuous sweep)."""
    any_unreachable_sat = any_reachable_sat = multi_hop = False
    for seed in range(20):
        g, _G = random_snapshot(seed)
        r = route_to_internet(g)
        s = r.delay_s[: g.n_sats]
        any_unreachable_sat |= bool(np.isinf(s).any())
        any_reachable_sat |= bool(np.isfinite(s).any())
        multi_hop |= bool((r.sat_isl_hops >= 2).any())
        # descending at the first satellite that can never shortens a route
        d = route_to_internet(random_snapshot(seed, descend=True)[0]).delay_s
        assert np.all(d >= r.delay_s - TOL_S)
    assert any_unreachable_sat and any_reachable_sat and multi_hop


def test_bent_pipe_first_by_hand():
    """Satellite 0 sees gateway 0, whose fibre to the PoP is 20 ms; a 1,000 km laser takes it to
    satellite 1, which sees gateway 1, 0.1 ms from the PoP. The shortest route takes the laser;
    bent-pipe-first goes down at gateway 0. Satellite 2, linked only to 0, follows 0 either way."""
    args = (3, 2, 1, [[0, 1], [0, 2]], [1_000e3, 500e3], [0, 1], [0, 1], [600e3, 700e3], [0, 0], [20e-3, 0.1e-3],
            np.zeros((0, 2)), np.zeros(0))
    shortest = route_to_internet(build_snapshot_graph(*args))
    first = route_to_internet(build_snapshot_graph(*args, descend_at=np.array([True, True, False])))
    assert shortest.sat_gateway[0] == 1 and shortest.sat_isl_hops[0] == 1
    assert shortest.delay_s[0] == pytest.approx((1_000e3 + 700e3) / C + 0.1e-3, abs=TOL_S)
    assert first.sat_gateway[0] == 0 and first.sat_isl_hops[0] == 0
    assert first.delay_s[0] == pytest.approx(600e3 / C + 20e-3, abs=TOL_S)
    assert first.sat_gateway[2] == 0 and first.sat_isl_hops[2] == 1
    assert first.delay_s[2] == pytest.approx(500e3 / C + 600e3 / C + 20e-3, abs=TOL_S)
    assert shortest.sat_gateway[2] == 1 and shortest.sat_isl_hops[2] == 2


def test_no_pops_means_nothing_reachable():
    g = build_snapshot_graph(2, 1, 0, [[0, 1]], [1e6], [0], [0], [6e5], [-1], [0.0],
                             np.zeros((0, 2)), np.zeros(0))
    r = route_to_internet(g)
    assert np.isinf(r.delay_s).all()
    assert (r.next_hop == -1).all() and (r.exit_pop == -1).all()
    assert (r.sat_gateway == -1).all() and (r.sat_isl_hops == -1).all()


# --- ground sites never relay -----------------------------------------------------------------


def test_gateway_never_relays_back_up():
    # Satellites 0 and 1 are joined by a long laser (15,000 km, 50 ms). Both see gateway 0
    # (300 km feeders, 1 ms), which has no PoP; only satellite 1 sees gateway 1, which has PoP 0.
    # If a gateway could relay back up, 0 -> gw0 -> 1 -> gw1 -> PoP (about 3 ms + fibre) would
    # beat 0 -> 1 -> gw1 -> PoP (about 51 ms + fibre). Feeder links are one way, so it cannot.
    isl_len = 15_000e3
    feeder = 300e3
    fibre = 1e-3
    g = build_snapshot_graph(
        2, 2, 1, [[0, 1]], [isl_len],
        feeder_gateway=[0, 0, 1], feeder_sat=[0, 1, 1], feeder_range_m=[feeder] * 3,
        gateway_pop=[-1, 0], gateway_pop_delay_s=[0.0, fibre],
        backbone=np.zeros((0, 2)), backbone_delay_s=np.zeros(0),
    )
    # No edge leaves a gateway towards a satellite, nor a PoP towards a gateway or satellite.
    m = g.matrix.tocsr()
    assert m[2:, :2].nnz == 0 and m[4:, :4].nnz == 0

    r = route_to_internet(g)
    relay_free = isl_len / C + feeder / C + fibre
    assert abs(r.delay_s[0] - relay_free) <= TOL_S
    assert r.next_hop[0] == 1 and r.sat_gateway[0] == 1 and r.sat_isl_hops[0] == 1
    assert list(satellite_paths(r, np.array([0]), 2)[0]) == [0, 1]
    assert np.isinf(r.delay_s[2])  # gateway 0 has no PoP and cannot go back up

    # The case is meaningful: with two-way feeders the relay would have been shorter.
    U = nx.DiGraph()
    U.add_edge(0, 1, weight=isl_len / C)
    U.add_edge(1, 0, weight=isl_len / C)
    for s, gw in [(0, 2), (1, 2), (1, 3)]:
        U.add_edge(s, gw, weight=feeder / C)
        U.add_edge(gw, s, weight=feeder / C)
    U.add_edge(3, 4, weight=fibre)
    relayed = nx.shortest_path_length(U, 0, 4, weight="weight")
    assert relayed < relay_free - 40e-3


def test_colocated_gateway_and_pop_zero_fibre_still_routes():
    g = build_snapshot_graph(
        1, 1, 1, np.zeros((0, 2)), np.zeros(0),
        feeder_gateway=[0], feeder_sat=[0], feeder_range_m=[600e3],
        gateway_pop=[0], gateway_pop_delay_s=[0.0],
        backbone=np.zeros((0, 2)), backbone_delay_s=np.zeros(0),
    )
    assert g.matrix[1, 2] == MIN_EDGE_DELAY_S  # scipy would drop an explicit zero
    r = route_to_internet(g)
    assert np.isfinite(r.delay_s[0]) and abs(r.delay_s[0] - 600e3 / C) <= 2 * MIN_EDGE_DELAY_S
    assert r.sat_gateway[0] == 0 and r.exit_pop[0] == 0 and r.sat_isl_hops[0] == 0
    assert r.delay_s[1] == pytest.approx(MIN_EDGE_DELAY_S, abs=1e-15)


# --- gateway antennas ---------------------------------------------------------------------------


def test_gateway_links_keeps_highest_elevations_per_gateway():
    # Gateway 0: 3 antennas, 5 satellites in view -> the 3 highest. Gateway 1: 2 antennas, 1 in
    # view -> that one. Gateway 2: 4 antennas, 3 in view -> all. Input order shuffled.
    site = np.array([0, 0, 0, 0, 0, 1, 2, 2, 2])
    sat = np.array([10, 11, 12, 13, 14, 11, 20, 21, 22])
    elev = np.array([30.0, 80.0, 25.0, 55.0, 60.0, 40.0, 70.0, 26.0, 45.0])
    rng_m = 1e3 * np.arange(1, 10, dtype=float)
    perm = np.random.default_rng(7).permutation(len(site))
    g, s, r = gateway_links(site[perm], sat[perm], elev[perm], rng_m[perm], np.array([3, 2, 4]))
    kept = {(int(a), int(b), float(c)) for a, b, c in zip(g, s, r)}
    assert kept == {(0, 11, 2e3), (0, 14, 5e3), (0, 13, 4e3), (1, 11, 6e3),
                    (2, 20, 7e3), (2, 21, 8e3), (2, 22, 9e3)}


@pytest.mark.parametrize("seed", range(10))
def test_gateway_links_random_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n_gw, n_sat = 6, 40
    pairs = unique_pairs(rng, n_gw, n_sat, 80, undirected=False)
    site, sat = pairs[:, 0], pairs[:, 1]
    elev = rng.uniform(25, 90, len(site))
    range_m = rng.uniform(550e3, 1100e3, len(site))
    antennas = rng.integers(0, 5, n_gw)
    g, s, r = gateway_links(site, sat, elev, range_m, antennas)
    expected = set()
    for gw in range(n_gw):
        idx = [k for k in range(len(site)) if site[k] == gw]
        idx.sort(key=lambda k: -elev[k])
        expected |= {(gw, int(sat[k]), float(range_m[k])) for k in idx[: antennas[gw]]}
    assert {(int(a), int(b), float(c)) for a, b, c in zip(g, s, r)} == expected
    assert len(g) == len(expected)


def _ranked_by_island(gw, site, sat, elev, island) -> list:
    """Brute force: the pairs of gateway ``gw`` in tracking order by the laser-island rule (each
    island's highest satellite first, highest leaders first, then the rest by elevation)."""
    idx = sorted((k for k in range(len(site)) if site[k] == gw), key=lambda k: -elev[k])
    leaders = [k for i in sorted(set(island[sat[idx]]) - {-1})
               for k in [next(k for k in idx if island[sat[k]] == i)]]
    leaders.sort(key=lambda k: -elev[k])
    return leaders + [k for k in idx if k not in leaders]


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("with_marks", [False, True])
def test_gateway_links_by_laser_island_against_brute_force(seed, with_marks):
    # Each gateway first tracks the highest satellite of every laser island in view (highest
    # leaders first), then the highest of the rest; satellites without lasers (-1) lead nothing.
    # With marks (network.gateway_tracking: traffic), the marked satellites in view come before
    # all of those (the ones carrying the dishes' traffic), in the same order among themselves.
    rng = np.random.default_rng(seed + 100 * with_marks)
    n_gw, n_sat = 6, 40
    pairs = unique_pairs(rng, n_gw, n_sat, 80, undirected=False)
    site, sat = pairs[:, 0], pairs[:, 1]
    elev = rng.uniform(25, 90, len(site))
    range_m = rng.uniform(550e3, 1100e3, len(site))
    antennas = rng.integers(0, 6, n_gw)
    island = rng.integers(-1, 4, n_sat)
    marked = rng.random(n_sat) < 0.3 if with_marks else None
    g, s, r = gateway_links(site, sat, elev, range_m, antennas, island, None if marked is None else marked[sat])
    expected = set()
    for gw in range(n_gw):
        ranked = _ranked_by_island(gw, site, sat, elev, island)
        if with_marks:
            ranked = [k for k in ranked if marked[sat[k]]] + [k for k in ranked if not marked[sat[k]]]
        expected |= {(gw, int(sat[k]), float(range_m[k])) for k in ranked[: antennas[gw]]}
    assert {(int(a), int(b), float(c)) for a, b, c in zip(g, s, r)} == expected
    assert len(g) == len(expected)
    # With every satellite in one island (and nothing marked) the rule is the highest-only one.
    same = gateway_links(site, sat, elev, range_m, antennas, np.zeros(n_sat, dtype=np.int64), np.zeros(len(site), dtype=bool))
    plain = gateway_links(site, sat, elev, range_m, antennas)
    assert {tuple(map(float, x)) for x in zip(*same)} == {tuple(map(float, x)) for x in zip(*plain)}


def test_laser_islands_match_networkx_components():
    import networkx as nx

    from leonet.network.graph import laser_islands

    rng = np.random.default_rng(3)
    n = 60
    cand = unique_pairs(rng, n, n, 45, undirected=True)
    cand = cand[cand[:, 0] != cand[:, 1]]
    island = laser_islands(n, cand)
    graph = nx.Graph(cand.tolist())
    for comp in nx.connected_components(graph):
        labels = set(island[list(comp)])
        assert len(labels) == 1 and labels != {-1}
    linked = set(graph.nodes)
    assert all(island[k] == -1 for k in range(n) if k not in linked)
    assert len(set(island[island >= 0])) == nx.number_connected_components(graph)


def test_gateway_links_empty():
    e = np.zeros(0, dtype=np.int32)
    g, s, r = gateway_links(e, e, np.zeros(0), np.zeros(0), np.array([2]))
    assert len(g) == len(s) == len(r) == 0


# --- bent pipe by hand --------------------------------------------------------------------------


def test_bent_pipe_rtt_by_hand():
    # Dish at (0 N, 0 E), gateway 10 km east along the equator, one satellite 550 km straight up
    # over the dish, PoP in the gateway's building. No ISLs.
    h = 550e3
    gw_lon_deg = np.rad2deg(10e3 / WGS84_A_M)
    dish = geodetic_to_ecef(0.0, 0.0, 0.0)
    gw = geodetic_to_ecef(0.0, gw_lon_deg, 0.0)
    sat = geodetic_to_ecef(0.0, 0.0, h)

    # By hand: on the equator the ellipsoid's radius is a, so dish = (a, 0, 0),
    # sat = (a + h, 0, 0), gw = (a cos t, a sin t, 0) with t = 10 km / a.
    a = WGS84_A_M
    t = 10e3 / a
    d_dish_sat = np.sqrt((a + h - a) ** 2 + 0.0**2 + 0.0**2)
    d_sat_gw = np.sqrt((a + h - a * np.cos(t)) ** 2 + (0.0 - a * np.sin(t)) ** 2 + 0.0**2)
    assert d_dish_sat == pytest.approx(550_000.0, abs=1e-3)
    assert d_sat_gw == pytest.approx(550_098.7, abs=0.1)  # ~550.10 km
    fibre = float(fibre_delay_s(0.0, gw_lon_deg, 0.0, gw_lon_deg))  # co-located PoP: 0
    assert fibre == 0.0
    expected_rtt = 2 * (d_dish_sat + d_sat_gw) / C + 2 * fibre  # ~7.339 ms
    assert expected_rtt == pytest.approx(7.339e-3, abs=1e-6)

    sats = sat.reshape(1, 3)
    dish_vis = VisibilityIndex(dish.reshape(1, 3), [0.0], [0.0], VisibilityRule(25.0)).query(sats)
    gw_vis = VisibilityIndex(gw.reshape(1, 3), [0.0], [gw_lon_deg], VisibilityRule(25.0)).query(sats)
    assert len(dish_vis) == 1 and dish_vis.elevation_deg[0] == pytest.approx(90.0, abs=1e-6)
    assert len(gw_vis) == 1 and gw_vis.elevation_deg[0] > 88.0
    fg, fs, fr = gateway_links(gw_vis.site, gw_vis.sat, gw_vis.elevation_deg, gw_vis.range_m,
                               np.array([1]))
    g = build_snapshot_graph(1, 1, 1, np.zeros((0, 2)), np.zeros(0), fg, fs, fr,
                             np.array([0]), np.array([fibre]), np.zeros((0, 2)), np.zeros(0))
    r = route_to_internet(g)
    rtt = 2 * (dish_vis.range_m[0] / C + r.delay_s[0])
    assert abs(rtt - expected_rtt) <= 1e-6
    assert abs(dish_vis.range_m[0] - d_dish_sat) < 1e-3 and abs(fr[0] - d_sat_gw) < 1e-3
    assert r.sat_gateway[0] == 0 and r.sat_isl_hops[0] == 0 and r.exit_pop[0] == 0


# --- pairs of ground stations (Hypatia semantics) ----------------------------------------------

HYPATIA_MAX_GSL_M = 1_089_686.0


def shell_snapshot(planes, sats, rule, n_stations, seed):
    shell = WalkerShell(name="s", altitude_m=550e3, inclination_deg=53.0, planes=planes,
                        sats_per_plane=sats, epoch_ns=EPOCH_NS)
    c = Constellation.from_walker([shell])
    pos = propagate(c, np.array([EPOCH_NS + 600 * NS_PER_S])).ecef_m[0]
    isl = active_isls(plus_grid_candidates(c), pos, grazing_height_m=80e3)
    rng = np.random.default_rng(seed)
    lat = rng.uniform(-50, 50, n_stations)
    lon = rng.uniform(-180, 180, n_stations)
    site = geodetic_to_ecef(lat, lon, 0.0)
    vis = VisibilityIndex(site, lat, lon, rule).query(pos)
    return len(c), pos, site, isl, vis


def oracle_pair_graph(pos, site, isl_links, vis, src, dst):
    """Satellites with two-way lasers, plus only src (edges to the satellites it sees) and dst
    (edges from the satellites it sees). Delays from positions, computed here."""
    G = nx.DiGraph()
    for a, b in isl_links:
        d = np.sqrt(np.sum((pos[a] - pos[b]) ** 2)) / C
        G.add_edge(int(a), int(b), weight=d)
        G.add_edge(int(b), int(a), weight=d)
    G.add_node("src")
    G.add_node("dst")
    for st, s in zip(vis.site, vis.sat):
        d = np.sqrt(np.sum((site[st] - pos[s]) ** 2)) / C
        if st == src:
            G.add_edge("src", int(s), weight=d)
        if st == dst:
            G.add_edge(int(s), "dst", weight=d)
    return G


@pytest.mark.parametrize("planes,sats,rule,seed", [
    (16, 16, VisibilityRule(min_elevation_deg=10.0), 1),
    (24, 24, VisibilityRule(min_elevation_deg=None, max_range_m=HYPATIA_MAX_GSL_M), 2),
    (8, 8, VisibilityRule(min_elevation_deg=10.0), 3),
])
def test_route_pairs_match_networkx(planes, sats, rule, seed):
    n_stations = 10
    n_sats, pos, site, isl, vis = shell_snapshot(planes, sats, rule, n_stations, seed)
    assert len(isl.links) > 0
    m = station_graph(n_sats, n_stations, isl.links, isl.length_m, vis.site, vis.sat, vis.range_m)
    state = forwarding_state(m, n_sats, n_stations, np.arange(n_stations))
    src, dst = [a.ravel() for a in np.meshgrid(np.arange(n_stations), np.arange(n_stations), indexing="ij")]
    keep = src != dst
    src, dst = src[keep], dst[keep]
    routes = route_pairs(state, src, dst)
    assert routes.one_way_s.shape == routes.hops.shape == (len(src),)

    visible = {(int(a), int(b)) for a, b in zip(vis.site, vis.sat)}
    isl_set = {(int(a), int(b)) for a, b in isl.links} | {(int(b), int(a)) for a, b in isl.links}
    n_reachable = 0
    for i, (a, b) in enumerate(zip(src, dst)):
        G = oracle_pair_graph(pos, site, isl.links, vis, a, b)
        try:
            expected = nx.dijkstra_path_length(G, "src", "dst", weight="weight")
        except nx.NetworkXNoPath:
            expected = np.inf
        got = routes.one_way_s[i]
        row = routes.path_sats[i]
        if np.isinf(expected):
            assert np.isinf(got) and routes.hops[i] == -1 and (row == -1).all()
            continue
        n_reachable += 1
        assert abs(got - expected) <= TOL_S
        path = [int(x) for x in row if x >= 0]
        assert (row[len(path):] == -1).all()
        # A station never appears in the middle: every intermediate node is a satellite.
        assert path and all(0 <= s < n_sats for s in path)
        assert routes.hops[i] == len(path) + 1
        # Consecutive nodes are linked, and the path's delay is the distance.
        assert (int(a), path[0]) in visible and (int(b), path[-1]) in visible
        assert all((u, v) in isl_set for u, v in zip(path[:-1], path[1:]))
        nodes = ["src", *path, "dst"]
        assert abs(chain_delay(G, nodes) - got) <= TOL_S
        # Same number of links as networkx's shortest path (ties of equal delay aside).
        nx_path = nx.dijkstra_path(G, "src", "dst", weight="weight")
        if nx_path[1:-1] != path:
            assert abs(chain_delay(G, nx_path) - got) <= TOL_S
        else:
            assert routes.hops[i] == len(nx_path) - 1
    if planes >= 16:
        assert n_reachable >= len(src) // 2  # a dense enough shell: most pairs connect
    assert n_reachable > 0


def test_forwarding_state_distances_from_satellites():
    n_stations = 6
    n_sats, pos, site, isl, vis = shell_snapshot(16, 16, VisibilityRule(10.0), n_stations, 5)
    m = station_graph(n_sats, n_stations, isl.links, isl.length_m, vis.site, vis.sat, vis.range_m)
    dests = np.array([4, 1])
    state = forwarding_state(m, n_sats, n_stations, dests)
    for k, d in enumerate(dests):
        G = oracle_pair_graph(pos, site, isl.links, vis, -1, d)
        dist = nx.single_source_dijkstra_path_length(G.reverse(copy=True), "dst", weight="weight")
        for s in range(n_sats):
            exp = dist.get(s, np.inf)
            got = state.delay_s[k, s]
            assert (np.isinf(exp) and np.isinf(got)) or abs(got - exp) <= TOL_S
            if np.isfinite(got):
                nh = state.next_hop[k, s]
                assert nh == state.in_node(d) or 0 <= nh < n_sats


def test_pairs_never_relay_through_a_third_station():
    # Satellites 0 and 1 have no laser between them. Station 2 sees both; stations 0 and 1 see
    # one each. Through station 2 (down then up) they would connect; without it they cannot.
    g = station_graph(2, 3, np.zeros((0, 2)), np.zeros(0),
                      gsl_station=[0, 1, 2, 2], gsl_sat=[0, 1, 0, 1], gsl_range_m=[6e5] * 4)
    state = forwarding_state(g, 2, 3, np.arange(3))
    r = route_pairs(state, np.array([0, 1, 0, 2]), np.array([1, 0, 2, 0]))
    assert np.isinf(r.one_way_s[:2]).all() and (r.hops[:2] == -1).all()
    assert np.allclose(r.one_way_s[2:], 2 * 6e5 / C, rtol=0, atol=TOL_S)
    assert list(r.hops[2:]) == [2, 2]
    assert list(r.path_sats[2]) == [0] and list(r.path_sats[3]) == [0]

    # Add a long laser: now 0 -> sat0 -> sat1 -> 1 is the only legal route.
    g = station_graph(2, 3, np.array([[0, 1]]), np.array([9000e3]),
                      gsl_station=[0, 1, 2, 2], gsl_sat=[0, 1, 0, 1], gsl_range_m=[6e5] * 4)
    state = forwarding_state(g, 2, 3, np.arange(3))
    r = route_pairs(state, np.array([0]), np.array([1]))
    assert abs(r.one_way_s[0] - (2 * 6e5 + 9000e3) / C) <= TOL_S
    assert r.hops[0] == 3 and list(r.path_sats[0]) == [0, 1]
