"""Gateways that take no laser-borne traffic (``network.bent_pipe_only_gateways``).

Oracle: removing a gateway outright is an independent construction. A dish beyond the bent-pipe
reach of a bent-pipe-only gateway must route exactly as if that gateway were not in the scenario;
a dish within reach must route exactly as if the option were not set."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leonet
from leonet.errors import InputError
from leonet.network.landing import bent_pipe_reach_m, footprint_radius_m, landing_groups

NIGERIA = ["Lekki, NG", "Ikire, NG"]


def _gateways(drop=()):
    """The 2023 map's gateways that carried traffic, as explicit sites (``drop``: names left out)."""
    from leonet.ground.builtin import builtin_sites

    gw = builtin_sites("starlink-gateways-2023", statuses="carried-traffic")
    return [{"name": str(n), "lat_deg": float(la), "lon_deg": float(lo), "kind": "gateway"}
            for n, la, lo in zip(gw.name, gw.lat_deg, gw.lon_deg) if str(n) not in drop]


def _scenario(dishes, only=(), drop=()):
    sites = [{"name": n, "lat_deg": la, "lon_deg": lo, "home_pop": "lgosnga1"} for n, la, lo in dishes]
    return {
        "name": "bent-pipe-only", "constellation": "starlink-gen1",
        "ground": {"sites": sites + _gateways(drop), "builtin": [{"name": "starlink-pops-2023"}]},
        "network": {"home_pop": "geoip", "bent_pipe_only_gateways": list(only)},
        "time": {"start": "2024-01-06T17:43:12Z", "duration_s": 120, "step_s": 15},
        "outputs": {"visibility_pairs": False},
    }


def _steps(tmp_path, sc, name):
    result = leonet.run(leonet.scenario_from_dict(sc), out_dir=tmp_path / name, overwrite=True)
    sites = result.store.read("sites").to_pandas()
    steps = result.store.read("dish_steps").to_pandas()
    site_name = dict(enumerate(sites["name"]))
    steps = steps.assign(dish=steps["site"].map(site_name),
                         gateway_name=steps["gateway"].map(lambda g: site_name.get(g, "-")))
    return steps.sort_values(["dish", "t"]).reset_index(drop=True)


def test_reach_is_the_two_footprints():
    assert footprint_radius_m(550e3, 25.0) == pytest.approx(940e3, rel=0.01)
    assert bent_pipe_reach_m(550e3, 25.0, 25.0) == pytest.approx(2 * footprint_radius_m(550e3, 25.0))


def test_landing_groups_mask_only_far_dishes():
    # two dishes: one 100 km from the bent-pipe-only gateway 0, one 3,000 km away; gateway 1 is ordinary
    group, allowed, _, _ = landing_groups([6.4, 6.4], [2.5, 30.0], [6.45, 50.0], [3.59, 8.7], [True, False], 1.88e6)
    assert allowed[group[0]].tolist() == [True, True]
    assert allowed[group[1]].tolist() == [False, True]
    group, allowed, _, _ = landing_groups([6.4], [2.5], [6.45], [3.59], [False], 1.88e6)
    assert group.tolist() == [0] and allowed.tolist() == [[True]]


@pytest.mark.slow
def test_far_dishes_route_as_if_the_gateway_were_gone_and_near_ones_as_before(tmp_path):
    dishes = [("maputo", -25.97, 32.57), ("nairobi", -1.29, 36.82), ("cotonou", 6.37, 2.39)]
    base = _steps(tmp_path, _scenario(dishes), "base")
    only = _steps(tmp_path, _scenario(dishes, only=NIGERIA), "only")
    gone = _steps(tmp_path, _scenario(dishes, drop=NIGERIA), "gone")
    far = only["dish"].isin(["maputo", "nairobi"])
    # the case under test: without the option the far dishes land in Nigeria over lasers
    assert base.loc[base["dish"].isin(["maputo", "nairobi"]), "gateway_name"].isin(NIGERIA).mean() > 0.5
    assert not only.loc[far, "gateway_name"].isin(NIGERIA).any()
    np.testing.assert_array_equal(only.loc[far, "gateway_name"].to_numpy(), gone.loc[far, "gateway_name"].to_numpy())
    np.testing.assert_allclose(only.loc[far, "rtt_ms"].to_numpy(), gone.loc[far, "rtt_ms"].to_numpy(), rtol=1e-6)
    # routed through Europe to Lagos: longer than the direct laser path
    assert (only.loc[far, "rtt_ms"].to_numpy() > base.loc[far, "rtt_ms"].to_numpy() + 20).mean() > 0.5
    near = ~far
    np.testing.assert_array_equal(only.loc[near, "gateway_name"].to_numpy(), base.loc[near, "gateway_name"].to_numpy())
    np.testing.assert_allclose(only.loc[near, "rtt_ms"].to_numpy(), base.loc[near, "rtt_ms"].to_numpy(), rtol=1e-6)
    assert only.loc[near, "gateway_name"].isin(NIGERIA).all()


def test_an_unknown_gateway_is_a_clear_error():
    sc = _scenario([("maputo", -25.97, 32.57)], only=["Lekki NG"])
    with pytest.raises(InputError) as err:
        leonet.build_model(leonet.scenario_from_dict(sc))
    text = str(err.value)
    assert "network.bent_pipe_only_gateways" in text and "Lekki NG" in text and "Lekki, NG" in text


def test_the_realism_plan_dates_the_nigerian_gateways():
    """East Africa's Lagos-homed traffic was routed through Europe until the Nairobi PoP (Jan 2025);
    leonet dates the start from Starlink's monthly figures (calibrated.BENT_PIPE_ONLY_GATEWAYS)."""
    from datetime import date

    from leonet.realism.calibrated import bent_pipe_only_gateways_at, country_plan

    assert bent_pipe_only_gateways_at(date(2023, 9, 8)) == []
    assert bent_pipe_only_gateways_at(date(2024, 1, 6)) == NIGERIA
    assert bent_pipe_only_gateways_at(date(2025, 6, 1)) == []
    plan = country_plan("MOZ", "MZ", date(2024, 1, 6), "unused.tle", "fast")
    assert plan.scenario["network"]["bent_pipe_only_gateways"] == NIGERIA
    # and the names are the 2023 map's own
    leonet.build_model(leonet.scenario_from_dict(_scenario([("maputo", -25.97, 32.57)], only=NIGERIA)))


def _central_angle_m(lat1, lon1, lat2, lon2):
    """Great-circle distance by the dot product of unit vectors (independent of leonet's haversine)."""
    a = np.radians(np.c_[lat1, lon1])
    b = np.radians(np.c_[lat2, lon2])
    u = np.stack([np.cos(a[:, 0]) * np.cos(a[:, 1]), np.cos(a[:, 0]) * np.sin(a[:, 1]), np.sin(a[:, 0])], axis=1)
    v = np.stack([np.cos(b[:, 0]) * np.cos(b[:, 1]), np.cos(b[:, 0]) * np.sin(b[:, 1]), np.sin(b[:, 0])], axis=1)
    return 6_371_008.8 * np.arccos(np.clip(u @ v.T, -1.0, 1.0))


_lat = st.floats(-89.0, 89.0)
_lon = st.floats(-180.0, 180.0)


@settings(max_examples=60, deadline=None)
@given(dishes=st.lists(st.tuples(_lat, _lon), min_size=1, max_size=12),
       gateways=st.lists(st.tuples(_lat, _lon, st.booleans()), min_size=1, max_size=6),
       reach_km=st.floats(100.0, 5_000.0))
def test_landing_masks_match_a_brute_force_oracle(dishes, gateways, reach_km):
    d = np.array(dishes, dtype=float)
    g = np.array([(la, lo) for la, lo, _ in gateways], dtype=float)
    only = np.array([o for _, _, o in gateways], dtype=bool)
    group, allowed, _, _ = landing_groups(d[:, 0], d[:, 1], g[:, 0], g[:, 1], only, reach_km * 1e3)
    dist = _central_angle_m(d[:, 0], d[:, 1], g[:, 0], g[:, 1])
    expect = ~only[None, :] | (dist <= reach_km * 1e3)
    near_edge = np.abs(dist - reach_km * 1e3) < 1.0          # a metre of rounding either way
    got = allowed[group]
    assert ((got == expect) | near_edge).all()
    assert len(allowed) == len({tuple(r) for r in allowed.tolist()})   # one row per distinct mask


@settings(max_examples=60, deadline=None)
@given(dishes=st.lists(st.tuples(_lat, _lon, st.integers(-1, 2)), min_size=1, max_size=12),
       gateways=st.lists(st.tuples(_lat, _lon, st.booleans(), st.integers(0, 2)), min_size=1, max_size=6),
       reach_km=st.floats(100.0, 5_000.0))
def test_home_in_reach_masks_match_a_brute_force_oracle(dishes, gateways, reach_km):
    """network.landing: home-in-reach, dish by dish and gateway by gateway: a dish with a gateway of
    its home PoP (any, for -1) in reach lands only there; else anywhere but the bent-pipe-only
    gateways beyond its reach."""
    d = np.array([(la, lo) for la, lo, _ in dishes], dtype=float)
    home = np.array([h for _, _, h in dishes])
    g = np.array([(la, lo) for la, lo, _, _ in gateways], dtype=float)
    only = np.array([o for _, _, o, _ in gateways], dtype=bool)
    gw_home = np.array([p for _, _, _, p in gateways])
    group, allowed, fallback, homed = landing_groups(d[:, 0], d[:, 1], g[:, 0], g[:, 1], only, reach_km * 1e3,
                                                     dish_home=home, gateway_home=gw_home)
    dist = _central_angle_m(d[:, 0], d[:, 1], g[:, 0], g[:, 1])
    if (np.abs(dist - reach_km * 1e3) < 1.0).any():   # a metre of rounding either way: not this draw
        return
    got = allowed[group]
    for i in range(len(d)):
        in_reach = dist[i] <= reach_km * 1e3
        ours = [j for j in range(len(g)) if in_reach[j] and (home[i] < 0 or gw_home[j] == home[i])]
        anywhere = [bool(in_reach[j] or not only[j]) for j in range(len(g))]
        want = [j in ours for j in range(len(g))] if ours else anywhere
        assert got[i].tolist() == want and fallback[group[i]].tolist() == anywhere
        assert bool(homed[group[i]]) == bool(ours)
    # one row per distinct (mask, fallback, homed): dishes of a group share all three
    assert len(allowed) == len({(tuple(a), tuple(f), bool(h))
                                for a, f, h in zip(allowed.tolist(), fallback.tolist(), homed.tolist())})


def test_home_in_reach_lands_kyiv_at_its_home_pops_gateways_near_it():
    """Kyiv (home Frankfurt) with Kaunas (feeds Frankfurt, 666 km) and Milan (feeds Frankfurt, 1,700 km,
    beyond a 1,300 km reach) and Muallim (feeds Istanbul, 1,000 km): only Kaunas; Nairobi, with
    none in reach, anywhere."""
    lat, lon = [50.45, -1.29], [30.52, 36.82]
    g_lat, g_lon = [54.90, 45.46, 39.96], [23.89, 9.19, 32.85]
    group, allowed, _, _ = landing_groups(lat, lon, g_lat, g_lon, [False] * 3, 1.3e6,
                                    dish_home=np.array([0, 0]), gateway_home=np.array([0, 0, 1]))
    assert allowed[group].tolist() == [[True, False, False], [True, True, True]]


@pytest.mark.slow
def test_home_in_reach_never_strands_a_dish_whose_landing_gateways_are_lost(tmp_path):
    """A Kyiv dish (home Frankfurt) lands at the Frankfurt-fed gateways in its reach; with all of
    them struck (gateway_loss) it lands elsewhere, over lasers, instead of going NO_PATH; and
    before the strike it uses only them."""
    from leonet.ground.builtin import builtin_sites, nearest_pop
    from leonet.network.landing import bent_pipe_reach_m

    gws = builtin_sites("starlink-gateways-2023", statuses="carried-traffic")
    pops = builtin_sites("starlink-pops-2023")
    home = nearest_pop(gws, pops)
    fra = int(np.flatnonzero(pops.name == "FRA")[0])
    d = _central_angle_m(np.array([50.45]), np.array([30.52]), gws.lat_deg, gws.lon_deg)[0]
    mine = [str(n) for n, k, dist in zip(gws.name, home, d) if k == fra and dist <= bent_pipe_reach_m(550e3, 25, 25)]
    assert mine
    sc = {
        "name": "landing", "constellation": "starlink-gen1",
        "ground": {"sites": [{"name": "kyiv", "lat_deg": 50.45, "lon_deg": 30.52}] + _gateways(),
                   "builtin": [{"name": "starlink-pops-2023"}]},
        "network": {"home_pop": "geoip", "landing": "home-in-reach"},
        "time": {"start": "2024-01-06T17:43:12Z", "duration_s": 120, "step_s": 15},
        "events": [{"name": "strike", "type": "gateway_loss", "start_s": 60, "end_s": 120, "target": {"sites": mine}}],
        "outputs": {"visibility_pairs": False},
    }
    steps = _steps(tmp_path, sc, "struck")
    before, after = steps[steps["t"] < steps["t"].min() + pd.Timedelta(seconds=60)], \
        steps[steps["t"] >= steps["t"].min() + pd.Timedelta(seconds=60)]
    assert before["gateway_name"].isin(mine).all() and (before["state"] == "CONNECTED").all()
    assert (after["state"] == "CONNECTED").all() and not after["gateway_name"].isin(mine).any()


@pytest.mark.slow
def test_bent_pipe_first_descends_at_the_first_satellite_that_can(tmp_path):
    """network.landing_route: bent-pipe-first. Dishes in Ukraine and Poland (home Frankfurt,
    home-in-reach): the shortest route may carry traffic over lasers past a satellite whose feeder
    link reaches a Frankfurt-fed gateway; bent-pipe-first sends it down there. On the same serving
    satellite its route is never shorter (a restriction of the shortest one), it uses no more laser
    hops, and somewhere it differs."""
    towns = [("kyiv", 50.45, 30.52), ("lviv", 49.84, 24.03), ("odesa", 46.49, 30.74), ("kharkiv", 49.98, 36.25),
             ("warsaw", 52.23, 21.01), ("krakow", 50.06, 19.94), ("gdansk", 54.35, 18.65), ("dnipro", 48.47, 35.04)]
    sc = {
        "name": "descent", "constellation": "starlink-gen1",
        "ground": {"sites": [{"name": n, "lat_deg": la, "lon_deg": lo, "home_pop": "frntdeu1"} for n, la, lo in towns]
                   + _gateways(), "builtin": [{"name": "starlink-pops-2023"}]},
        "network": {"home_pop": "geoip", "landing": "home-in-reach"},
        "time": {"start": "2024-01-06T17:43:12Z", "duration_s": 300, "step_s": 15},
        "outputs": {"visibility_pairs": False},
    }
    shortest = _steps(tmp_path, sc, "shortest")
    sc["network"]["landing_route"] = "bent-pipe-first"
    first = _steps(tmp_path, sc, "first")
    assert (shortest["state"] == "CONNECTED").all() and (first["state"] == "CONNECTED").all()
    same = (first["serving_sat"] == shortest["serving_sat"]).to_numpy()
    assert same.mean() > 0.9
    rtt_first, rtt_shortest = first["rtt_ms"].to_numpy()[same], shortest["rtt_ms"].to_numpy()[same]
    assert np.all(rtt_first >= rtt_shortest - 1e-3)
    assert np.all(first["isl_hops"].to_numpy()[same] <= shortest["isl_hops"].to_numpy()[same])
    assert np.any(rtt_first > rtt_shortest + 0.1)


@pytest.mark.parametrize("backbone", ["none", "community-2023"])
def test_bent_pipe_first_never_descends_into_a_pop_cut_off_from_home(backbone):
    """With ``landing: anywhere`` every gateway is a way down; a gateway whose PoP the backbone does
    not join to the dish's home PoP is a dead end, not a way down. Every satellite the shortest
    route takes to a home PoP (or to any PoP) reaches it with bent-pipe-first too, and that route
    is never shorter. (It once lost 418 of 4,408 satellites' routes to Frankfurt with
    ``backbone: none``.)"""
    import dataclasses

    from leonet.sim.instants import Chunk
    from leonet.sim.stages.links import links_at
    from leonet.sim.stages.routes import internet_routes
    from leonet.sim.stages.sky import sky_at

    sc = leonet.scenario_from_dict({
        "name": "dead-ends", "constellation": "starlink-gen1",
        "ground": {"builtin": [{"name": "starlink-gateways-2023"}, {"name": "starlink-pops-2023"}],
                   "dish_groups": [{"name": "maputo", "lat_deg": -25.97, "lon_deg": 32.57, "count": 10,
                                    "radius_km": 600, "seed": 3}]},
        "network": {"home_pop": "geoip", "backbone": backbone},
        "time": {"start": "2024-01-06T17:43:12Z", "duration_s": 15, "step_s": 15}})
    model = leonet.build_model(sc)
    assert model.network.landing_homed is None   # landing: anywhere (bent-pipe-first for every dish)
    chunk = Chunk(model, np.r_[model.t_ns])
    links = links_at(chunk, sky_at(chunk, int(model.t_ns[0])))
    shortest = internet_routes(model, links)
    first = internet_routes(dataclasses.replace(
        model, network=dataclasses.replace(model.network, landing_route="bent-pipe-first")), links)
    n = len(model.constellation)
    assert len(shortest.homes) >= 2   # Frankfurt and Lagos homes (the GeoIP split)
    differs = False
    for k in range(len(shortest.homes)):
        a, b = shortest.routes[k].delay_s[:n], first.routes[k].delay_s[:n]
        assert np.array_equal(np.isfinite(a), np.isfinite(b)), shortest.homes[k]
        ok = np.isfinite(a)
        assert np.all(b[ok] >= a[ok] - 1e-12)
        differs |= bool(np.any(b[ok] > a[ok] + 1e-6))
    assert differs
