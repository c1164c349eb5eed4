"""A dish keeps its slot's route; its delay along that route must be the one the slot chose it by,
backbone included. A route that lands at a gateway of another PoP (Mozambique over lasers to a
Nigerian gateway, fibre to Lagos, backbone to Frankfurt) once lost its backbone leg on every held
step: 70 ms RTT from Maputo to Frankfurt, faster than light in fibre allows."""

import numpy as np

import leonet
from leonet.sim.instants import Chunk
from leonet.sim.stages.links import links_at
from leonet.sim.stages.routes import held_path_delay, held_path_delay_reference, internet_routes_at, pop_fibre_delays_s
from leonet.sim.stages.serving import plan_slot
from leonet.sim.stages.sky import sky_at


def _model():
    sc = leonet.scenario_from_dict({
        "name": "t", "constellation": "starlink-gen1",
        "ground": {"builtin": [{"name": "starlink-gateways-2023"}, {"name": "starlink-pops-2023"}],
                   "dish_groups": [{"name": "maputo", "lat_deg": -25.97, "lon_deg": 32.57, "count": 40,
                                    "radius_km": 600, "seed": 3}]},
        "network": {"home_pop": "geoip"},
        "time": {"start": "2024-01-06T17:43:12Z", "duration_s": 15, "step_s": 15},
    })
    return leonet.build_model(sc)


def test_a_held_route_costs_what_its_slot_chose_it_by_backbone_included():
    model = _model()
    t0 = int(model.network.clock.slot_start(model.t_ns[0]))
    chunk = Chunk(model, np.r_[model.t_ns, t0])
    plan = plan_slot(chunk, t0)
    sky = sky_at(chunk, t0)
    routes = internet_routes_at(chunk, links_at(chunk, sky))
    held = plan.paths
    net = model.network
    ok = held.ok
    crossing = ok & (net.gateway_pop[np.maximum(held.gateway, 0)] != held.pop)
    assert crossing.sum() >= 5, "the case under test: routes that land away from their exit PoP"
    chosen = routes.delay_s(held.serving)
    for fn in (held_path_delay, held_path_delay_reference):
        delay, works = fn(model, sky, held, routes.pop_to_pop_s)
        assert works[ok].all()
        np.testing.assert_allclose(delay[ok], chosen[ok], rtol=1e-12, atol=1e-12)
    # the backbone leg is real fibre: Lagos -> Frankfurt over the 2023 map's backbone is > 25 ms one way
    assert (delay[crossing] > 0.025).all()


def test_pop_fibre_delays_are_networkx_shortest_paths():
    import networkx as nx

    rng = np.random.default_rng(5)
    n = 9
    backbone = np.array([(a, b) for a in range(n) for b in range(a + 1, n) if rng.random() < 0.3])
    delay = rng.uniform(0.001, 0.03, len(backbone))
    up = np.ones(n, dtype=bool)
    up[4] = False
    got = pop_fibre_delays_s(n, backbone, delay, up)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for (a, b), d in zip(backbone, delay):
        if up[a] and up[b]:
            g.add_edge(int(a), int(b), weight=float(d))
    for a in range(n):
        lengths = nx.single_source_dijkstra_path_length(g, a) if up[a] else {}
        for b in range(n):
            want = lengths.get(b, np.inf) if up[b] else np.inf
            assert got[a, b] == want or abs(got[a, b] - want) < 1e-15
