"""network.backbone: community-2023-joined: the PoPs the 2023 map's backbone leaves apart (32 of the
2026 list's 54) joined by the shortest links that join every part. Checked against networkx's
minimum spanning tree on the complete graph (pairs inside a part weigh nothing), and on a run:
Italy's gateways feed Milan, which the 2023 map does not know; joined, a Frankfurt-homed dish
in Rome lands there."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leonet
from leonet.errors import InputError
from leonet.ground.geodesy import great_circle_distance_m
from leonet.network.backbone_join import MAX_JOINED_POPS, joining_links


def _parts(n, pairs):
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, pairs))
    return g


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 14).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.floats(-80, 80), st.floats(-180, 180)), min_size=n, max_size=n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))))
def test_joining_links_are_the_minimum_spanning_tree_over_the_parts(case):
    n, points, pairs = case
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    pairs = np.array([p for p in pairs if p[0] != p[1]], dtype=np.int64).reshape(-1, 2)
    added = joining_links(lat, lon, pairs)
    before = _parts(n, pairs)
    n_parts = nx.number_connected_components(before)
    assert len(added) == n_parts - 1
    after = _parts(n, np.concatenate([pairs, added]))
    assert nx.is_connected(after)
    part = {v: k for k, comp in enumerate(nx.connected_components(before)) for v in comp}
    assert all(part[a] != part[b] for a, b in added)   # nothing inside a part
    # the oracle: networkx's MST of the complete graph where a pair inside a part weighs nothing
    g = nx.Graph()
    for a in range(n):
        for b in range(a + 1, n):
            w = 0.0 if part[a] == part[b] else float(great_circle_distance_m(lat[a], lon[a], lat[b], lon[b]))
            g.add_edge(a, b, weight=w)
    want = sum(d["weight"] for _, _, d in nx.minimum_spanning_edges(g, data=True))
    got = float(great_circle_distance_m(lat[added[:, 0]], lon[added[:, 0]], lat[added[:, 1]], lon[added[:, 1]]).sum())
    assert got == pytest.approx(want, rel=1e-9, abs=1e-3)


def test_nothing_is_added_to_a_joined_backbone_or_one_pop():
    assert joining_links([0.0, 1.0], [0.0, 1.0], [[0, 1]]).shape == (0, 2)
    assert joining_links([0.0], [0.0], np.zeros((0, 2))).shape == (0, 2)


def test_the_work_is_bounded():
    n = MAX_JOINED_POPS + 1
    with pytest.raises(InputError, match="at most 2,000 PoPs") as err:
        joining_links(np.zeros(n), np.linspace(-179, 179, n), np.zeros((0, 2)))
    assert err.value.location == "network.backbone"


def test_the_2026_pops_become_one_backbone():
    from leonet.ground.builtin import builtin_sites
    from leonet.network.backbone_join import backbone_components
    from leonet.sim.network_model import backbone_pairs

    pops = builtin_sites("starlink-pops-2026")
    n = len(pops.name)
    mapped = backbone_pairs(pops, np.arange(n))
    joined = backbone_pairs(pops, np.arange(n), "community-2023-joined")
    assert len(set(backbone_components(mapped, n).tolist())) > 20      # the 2023 map leaves most apart
    assert set(backbone_components(joined, n).tolist()) == {0}
    names = [tuple(sorted((pops.name[a], pops.name[b]))) for a, b in joined]
    assert ("frntdeu1", "mlnnita1") in names      # Milan's nearest joined PoP, 517 km
    assert len(names) == len(set(names))
    np.testing.assert_array_equal(joined[: len(mapped)], mapped)   # the map's own links come first, unchanged


def _rome(backbone, home_pop="geoip", duration_s=15):
    pin = {"home_pop": "frntdeu1"} if home_pop != "any" else {}
    return leonet.scenario_from_dict({
        "name": "rome", "constellation": "starlink-gen1",
        "ground": {"builtin": [{"name": "starlink-gateways-2026"}, {"name": "starlink-pops-2026"}],
                   "sites": [{"name": "rome", "lat_deg": 41.9, "lon_deg": 12.5, "kind": "dish", **pin}]},
        "network": {"home_pop": home_pop, "backbone": backbone},
        "time": {"start": "2024-01-06T12:00:12Z", "duration_s": duration_s, "step_s": 15},
    })


def test_a_run_warns_of_pops_its_backbone_leaves_apart_and_joined_it_does_not():
    mapped = leonet.build_model(_rome("community-2023"))
    lone = [w for w in mapped.network.warnings if "apart from its largest part" in w]
    assert len(lone) == 1 and "mlnnita1" in lone[0] and "community-2023-joined" in lone[0]
    joined = leonet.build_model(_rome("community-2023-joined"))
    assert not any("apart from its largest part" in w for w in joined.network.warnings)
    pops = np.asarray(joined.sites.name)[joined.network.pop_sites]
    links = {tuple(sorted((pops[a], pops[b]))) for a, b in joined.network.backbone}
    assert ("frntdeu1", "mlnnita1") in links


def test_with_home_pops_any_the_lone_pops_are_no_warning():
    assert not any("apart from its largest" in w for w in leonet.build_model(_rome("community-2023", "any")).network.warnings)


@pytest.mark.slow
def test_joined_a_rome_dish_homed_in_frankfurt_lands_at_italian_gateways(tmp_path):
    """Mapped, the Italian gateways feed Milan alone and carry none of a Frankfurt-homed dish's traffic;
    joined, they do (the landing nearest the dish)."""
    landed = {}
    for backbone in ("community-2023", "community-2023-joined"):
        sc = _rome(backbone, duration_s=120)
        result = leonet.run(sc, out_dir=tmp_path / backbone)
        steps = result.store.read("dish_steps").to_pandas()
        names = result.store.read("sites").to_pandas()["name"].to_numpy()
        ok = steps["gateway"].to_numpy() >= 0
        assert ok.any()
        landed[backbone] = {str(names[g]) for g in steps["gateway"].to_numpy()[ok]}
    italian = {"Foggia, Italy", "Marsala, Italy", "Milano, Italy"}
    assert not landed["community-2023"] & italian
    assert landed["community-2023-joined"] & italian, landed


def _four_pops(dish=True, backbone="community-2023"):
    """FRA-MAD and SYD-PER are links of the 2023 map; nothing joins the two pairs."""
    sites = [{"name": "FRA", "lat_deg": 50.11, "lon_deg": 8.68, "kind": "pop"},
             {"name": "MAD", "lat_deg": 40.42, "lon_deg": -3.70, "kind": "pop"},
             {"name": "SYD", "lat_deg": -33.87, "lon_deg": 151.21, "kind": "pop"},
             {"name": "PER", "lat_deg": -31.95, "lon_deg": 115.86, "kind": "pop"},
             {"name": "gw-fra", "lat_deg": 50.3, "lon_deg": 8.5, "kind": "gateway"},
             {"name": "gw-syd", "lat_deg": -33.5, "lon_deg": 150.9, "kind": "gateway"}]
    if dish:
        sites.append({"name": "bonn", "lat_deg": 50.73, "lon_deg": 7.10, "kind": "dish"})
    return leonet.scenario_from_dict({
        "name": "four", "constellation": {"shells": [{"name": "s", "altitude_km": 550, "inclination_deg": 53,
                                                      "planes": 6, "sats_per_plane": 6}]},
        "ground": {"sites": sites}, "network": {"home_pop": "nearest", "backbone": backbone},
        "time": {"start": "2024-01-06T12:00:12Z", "duration_s": 15, "step_s": 15},
    })


def test_a_part_cut_off_from_the_rest_is_named_even_when_its_pops_have_links():
    """Review: SYD and PER are linked to each other, not to FRA's part; only PoPs with no link at all
    were named."""
    warned = [w for w in leonet.build_model(_four_pops()).network.warnings if "apart from its largest part" in w]
    assert len(warned) == 1 and "(SYD:" in warned[0], warned
    joined = leonet.build_model(_four_pops(backbone="community-2023-joined"))
    assert not any("apart" in w for w in joined.network.warnings)
    assert len(joined.network.backbone) == 3   # FRA-MAD, SYD-PER and the shortest join between the two parts


def test_no_dishes_no_home_pops_no_warning():
    assert not any("apart" in w for w in leonet.build_model(_four_pops(dish=False)).network.warnings)


def test_bad_positions_and_pairs_are_refused():
    with pytest.raises(InputError, match="finite"):
        joining_links([0.0, float("nan"), 5.0], [0.0, 1.0, 2.0], np.zeros((0, 2)))
    with pytest.raises(InputError, match="0..2"):
        joining_links([0.0, 1.0, 5.0], [0.0, 1.0, 2.0], [[0, 3]])


def test_dishes_homed_where_nothing_feeds_are_named():
    """A hunt: Mumbai's and Dhaka's dishes were NO_PATH all run (their GeoIP PoPs are fed by no gateway
    and joined by no link), while the warning named 23 other PoPs."""
    def model(backbone):
        return leonet.build_model(leonet.scenario_from_dict({
            "name": "south-asia", "constellation": "starlink-gen1",
            "ground": {"builtin": [{"name": "starlink-gateways-2026"}, {"name": "starlink-pops-2026"}],
                       "sites": [{"name": "mumbai", "lat_deg": 19.07, "lon_deg": 72.88, "kind": "dish"},
                                 {"name": "dhaka", "lat_deg": 23.81, "lon_deg": 90.41, "kind": "dish"},
                                 {"name": "rome", "lat_deg": 41.9, "lon_deg": 12.5, "kind": "dish"}]},
            "network": {"home_pop": "geoip", "backbone": backbone},
            "time": {"start": "2024-01-06T12:00:12Z", "duration_s": 15, "step_s": 15}}))
    cut = [w for w in model("community-2023").network.warnings if "no gateway feeds" in w]
    # the GeoIP feed homes both Mumbai and Dhaka on Mumbai's PoP; Rome's (Frankfurt) is fed
    assert len(cut) == 1 and cut[0].startswith("2 dish site(s)") and "(mmbiind1 (2 dish sites))" in cut[0], cut
    assert "community-2023-joined" in cut[0]
    assert not any("no gateway feeds" in w for w in model("community-2023-joined").network.warnings)
