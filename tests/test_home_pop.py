"""Home PoPs from Starlink's GeoIP feed, and the real ground data shipped with leonet (issue 11)."""

import csv
import json
from importlib.resources import files

import numpy as np
import pytest

import leonet
from leonet.errors import InputError
from leonet.ground.builtin import (builtin_sites, pop_codes_of, starlink_gateways_2023, starlink_gateways_2026,
                                   starlink_pops_2023, starlink_pops_2026)
from leonet.ground.home_pop import home_pops, match_pops, read_home_pop_table

DATA = files("leonet").joinpath("data")


def _raw_places():
    """The shipped place table read with the csv module (not leonet's parser): the oracle."""
    return list(csv.DictReader(DATA.joinpath("geoip", "home_pop_places_2024-08-06.csv").open(encoding="utf-8")))


@pytest.mark.parametrize("city, lat, lon, pop", [
    ("Kyiv", 50.4501, 30.5234, "frntdeu1"),        # source: 18 subnets frntdeu1, 6 mdrdesp1, 3 lndngbr1
    ("Warsaw", 52.2297, 21.0122, "frntdeu1"),      # 15 frntdeu1, 1 lndngbr1
    ("Sydney", -33.8688, 151.2093, "sydyaus1"),    # 31 sydyaus1, 7 acklnzl1, 3 jtnaidn1
    ("Vienna", 48.2082, 16.3738, "frntdeu1"),
    ("Buenos Aires", -34.6037, -58.3816, None),    # 4 sntochl1 vs 4 splobra1: a tie, first code wins
])
def test_published_examples(city, lat, lon, pop):
    h = home_pops([lat], [lon])
    assert h.city[0] == city
    if pop is None:
        rows = [r for r in _raw_places() if r["city"] == city]
        top = max(int(r["n_subnets"]) for r in rows)
        pop = sorted(r["pop_code"] for r in rows if int(r["n_subnets"]) == top)[0]
    assert h.pop_code[0] == pop


def test_every_place_gets_its_top_pop_from_the_source_rows():
    rows = _raw_places()
    best = {}
    for r in rows:
        key = (r["country"], r["city"])
        cand = (int(r["n_subnets"]), r["pop_code"])
        old = best.get(key)
        if old is None or cand[0] > old[0] or (cand[0] == old[0] and cand[1] < old[1]):
            best[key] = cand
    places = {(r["country"], r["city"]): (float(r["lat_deg"]), float(r["lon_deg"])) for r in rows}
    keys = sorted(places)
    lat = [places[k][0] for k in keys]
    lon = [places[k][1] for k in keys]
    h = home_pops(lat, lon, country=[k[0] for k in keys])
    assert list(h.city) == [k[1] for k in keys]
    assert list(h.pop_code) == [best[k][1] for k in keys]
    assert np.all(h.city_distance_km < 1e-6)


def test_country_decides_the_city_and_the_choice_is_a_pure_function_of_place():
    # A dish in Kyiv told it is in Poland is homed by Poland's nearest listed city.
    h = home_pops([50.45], [30.52], country="PL")
    assert h.country[0] == "PL" and h.city[0] == "Warsaw"
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(-50, 60, 200), rng.uniform(-120, 150, 200)
    a = home_pops(lat, lon)
    perm = rng.permutation(200)
    b = home_pops(lat[perm], lon[perm])
    assert list(b.pop_code) == list(a.pop_code[perm]) and list(b.city) == list(a.city[perm])


def test_unknown_country_and_unknown_pop_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="not in the place"):
        home_pops([0.0], [0.0], country="IM")
    places = tmp_path / "places.csv"
    pops = tmp_path / "pops.csv"
    pops.write_text("code,city,lat_deg,lon_deg\nfrntdeu1,Frankfurt,50.1,8.7\n")
    places.write_text("country,region,city,lat_deg,lon_deg,pop_code,n_subnets\n"
                      "UA,UA-30,Kyiv,50.45,30.52,frntdeu1,18\n"
                      "PL,PL-14,Warsaw,52.23,21.01,wrswpol1,15\n")
    with pytest.raises(InputError) as err:
        read_home_pop_table(places, pops)
    assert err.value.source == str(places) and "line 3" in err.value.location and "wrswpol1" in err.value.message
    places.write_text("country,region,city,lat_deg,lon_deg,pop_code,n_subnets\nUKR,UA-30,Kyiv,50.45,30.52,frntdeu1,18\n")
    with pytest.raises(InputError, match="alpha-2"):
        read_home_pop_table(places, pops)
    ok = tmp_path / "ok.csv"
    ok.write_text("country,region,city,lat_deg,lon_deg,pop_code,n_subnets\nUA,UA-30,Kyiv,50.45,30.52,frntdeu1,18\n")
    assert list(home_pops([49.0], [32.0], table=read_home_pop_table(ok, pops)).pop_code) == ["frntdeu1"]


def test_pops_carry_codes_that_home_pops_match():
    codes_2023 = pop_codes_of(starlink_pops_2023())
    table = read_home_pop_table()
    # every 2023 PoP's code is a PoP of the GeoIP table (the three map misspellings corrected)
    assert set(codes_2023) <= set(table.pops)
    h = home_pops([50.45, -33.87], [30.52, 151.21])
    index = match_pops(h.pop_code, codes_2023)
    assert list(codes_2023[index]) == ["frntdeu1", "sydyaus1"]
    p26 = starlink_pops_2026()
    assert "frntdeu1" in set(p26.name) and list(pop_codes_of(p26)) == list(p26.name)
    assert match_pops(["nosuch1"], codes_2023)[0] == -1


def _antenna_rows():
    return list(csv.DictReader(DATA.joinpath("starlink_ground_2023-10-10", "gateway_antennas.csv").open(encoding="utf-8")))


def test_status_rules_and_antenna_counts_2023():
    raw = list(csv.DictReader(DATA.joinpath("starlink_ground_2023-10-10", "gateways.csv").open(encoding="utf-8")))
    ant = _antenna_rows()
    built = {"Live", "Presumed Live", "Built", "Built | STA", "Built | Ka Grant"}
    na_op = sum(r["site_type"] == "gateway" and r["region"] == "North America" and r["status"] in built for r in raw)
    na_live = [a for r, a in zip(raw, ant) if r["site_type"] == "gateway" and r["region"] == "North America"
               and (r["status"] in built or a["map_colour"] == "green(live)")]
    op = starlink_gateways_2023(regions="North America")
    live = starlink_gateways_2023(regions="North America", statuses="carried-traffic", antennas="from-data")
    assert len(op) == na_op == 28
    assert len(live) == len(na_live) == 77
    assert "antennas" not in op.attrs  # the default set is unchanged
    assert int(live.attrs["antennas"].sum()) == sum(int(a["ka_antenna_count"]) for a in na_live) == 809
    assert set(live.attrs["antennas"]) <= {2, 4, 5, 8, 12, 32, 40}
    assert len(starlink_gateways_2023(statuses="all")) == 217


def test_2026_sets():
    stations = json.loads(DATA.joinpath("starlink_ground_2026", "ground_stations_2026-03-20.json").read_text("utf-8"))
    gws = [s for s in stations["stations"] if s["type"] == "gateway"]
    assert len(starlink_gateways_2026()) == sum(s["status"] == "operational" for s in gws) == 214
    assert len(starlink_gateways_2026("all")) == len(gws) == 307
    assert len(starlink_pops_2026()) == 54 and len(starlink_pops_2026("all")) == 66
    assert all(starlink_pops_2026("all").name)  # Salt Lake City's second facility has no code: left out
    with pytest.raises(InputError, match="takes no option"):
        builtin_sites("starlink-gateways-2026", regions=["Europe"])
    with pytest.raises(InputError, match="takes no option"):
        builtin_sites("starlink-pops-2023", antennas="from-data")


def _tiny(builtin, extra_sites=(), site_files=()):
    return leonet.scenario_from_dict({
        "name": "t", "constellation": {"shells": [{"altitude_km": 550, "inclination_deg": 53, "planes": 6, "sats_per_plane": 6}]},
        "ground": {"builtin": builtin, "sites": list(extra_sites), "site_files": list(site_files)},
        "time": {"start": "2024-01-06T12:00:00Z", "duration_s": 15, "step_s": 15},
    })


def test_antenna_counts_reach_the_network_model(tmp_path):
    sc = _tiny([{"name": "starlink-gateways-2023", "regions": ["Europe"], "antennas": "from-data"},
                {"name": "starlink-pops-2023", "regions": ["Europe"]}])
    model = leonet.build_model(sc)
    gw = np.flatnonzero(np.asarray(model.sites.kind) == "gateway")
    expected = model.sites.attrs["antennas"][gw].astype(np.int64)
    assert np.array_equal(model.network.gateway_antennas, np.where(expected > 0, expected, 8))
    assert 4 in set(model.network.gateway_antennas)  # Elfordstown, IE: 4 Ka antennas on the map
    plain = leonet.build_model(_tiny([{"name": "starlink-gateways-2023", "regions": ["Europe"]},
                                      {"name": "starlink-pops-2023", "regions": ["Europe"]}]))
    assert set(plain.network.gateway_antennas) == {8}
    bad = tmp_path / "gw.csv"
    bad.write_text("name,lat_deg,lon_deg,kind,antennas\ng1,50,8,gateway,lots\n")
    with pytest.raises(InputError, match="gw.csv: line 2, column antennas: antennas 'lots' is not a whole number"):
        leonet.build_model(_tiny([], site_files=[{"path": str(bad)}])).network
    # the three sources of a count in one run: the map's (from-data), a CSV's and a YAML site's
    good = tmp_path / "gw2.csv"
    good.write_text("name,lat_deg,lon_deg,kind,antennas\ng2,49,9,gateway,16\ng3,49,10,gateway,\n")
    mixed = leonet.build_model(_tiny([{"name": "starlink-gateways-2023", "regions": ["Europe"], "antennas": "from-data"},
                                      {"name": "starlink-pops-2023", "regions": ["Europe"]}],
                                     extra_sites=[{"name": "g1", "lat_deg": 50, "lon_deg": 8, "kind": "gateway",
                                                   "antennas": 32}],
                                     site_files=[{"path": str(good)}]))
    gw = np.asarray(mixed.sites.name)[np.asarray(mixed.sites.kind) == "gateway"].tolist()
    counts = dict(zip(gw, mixed.network.gateway_antennas.tolist()))
    assert (counts["g1"], counts["g2"], counts["g3"], counts["Elfordstown, IE"]) == (32, 16, 8, 4)
    assert mixed.sites.to_table().column("antennas").type == "int64"   # the results' sites table is written
    # an inline gateway site says the same as the CSV column (leonet dish writes its gateways so)
    inline = leonet.build_model(_tiny([{"name": "starlink-pops-2023", "regions": ["Europe"]}], extra_sites=[
        {"name": "g1", "lat_deg": 50, "lon_deg": 8, "kind": "gateway", "antennas": 32},
        {"name": "g2", "lat_deg": 48, "lon_deg": 11, "kind": "gateway"}]))
    assert inline.network.gateway_antennas.tolist() == [32, 8]
    with pytest.raises(InputError, match="antennas is for gateway sites; 'd1' is a dish"):
        _tiny([], extra_sites=[{"name": "d1", "lat_deg": 50, "lon_deg": 8, "antennas": 4}])


def test_home_pops_of_a_scenarios_sites():
    from leonet.ground.home_pop import home_pops_of_sites
    from leonet.ground.sites import Sites

    dishes = Sites(name=["kyiv", "warsaw", "minneapolis", "chicago"], kind=["dish"] * 4,
                   lat_deg=[50.45, 52.23, 44.98, 41.88], lon_deg=[30.52, 21.01, -93.26, -87.63],
                   elevation_m=[0, 0, 0, 0], group=[""] * 4)
    sites = Sites.concatenate([dishes, starlink_pops_2023()])
    number, code, missing = home_pops_of_sites(sites)
    pops = starlink_pops_2023()
    assert list(code[:2]) == ["frntdeu1", "frntdeu1"]
    assert pops.name[number[0]] == "FRA" and number[0] == number[1]
    assert pops.name[number[3]] == "ORD/CHI"
    # Minneapolis's subnets sit mostly on rdmdwax3 (8 of 9; a staging code), a PoP the 2023 map
    # does not have: reported, not re-homed
    assert code[2] == "rdmdwax3" and number[2] == -1 and missing == ["rdmdwax3"]


def test_every_place_splits_over_its_pops_as_its_subnets_do():
    """home_pop_shares against the source rows: each place's PoPs with their share of its subnets,
    most first, summing to 1; the first is home_pops' choice."""
    from leonet.ground.home_pop import home_pop_shares

    rows = _raw_places()
    want: dict = {}
    for r in rows:
        want.setdefault((r["country"], r["city"]), {})[r["pop_code"]] = int(r["n_subnets"])
    places = {(r["country"], r["city"]): (float(r["lat_deg"]), float(r["lon_deg"])) for r in rows}
    keys = sorted(places)
    lat = [places[k][0] for k in keys]
    lon = [places[k][1] for k in keys]
    shares = home_pop_shares(lat, lon, country=[k[0] for k in keys])
    tops = home_pops(lat, lon, country=[k[0] for k in keys]).pop_code
    for k, split, top in zip(keys, shares, tops):
        total = sum(want[k].values())
        assert dict(split) == pytest.approx({c: n / total for c, n in want[k].items()})
        assert [f for _, f in split] == sorted((f for _, f in split), reverse=True)
        assert split[0][0] == top
    kyiv = dict(shares[keys.index(("UA", "Kyiv"))])
    assert kyiv == pytest.approx({"frntdeu1": 18 / 27, "mdrdesp1": 6 / 27, "lndngbr1": 3 / 27})


def test_a_place_naming_a_pop_twice_is_an_error(tmp_path):
    places = tmp_path / "places.csv"
    pops = tmp_path / "pops.csv"
    pops.write_text("code,city,lat_deg,lon_deg\nfrntdeu1,Frankfurt,50.1,8.7\n")
    places.write_text("country,region,city,lat_deg,lon_deg,pop_code,n_subnets\n"
                      "UA,UA-30,Kyiv,50.45,30.52,frntdeu1,3\nUA,UA-30,Kyiv,50.45,30.52,frntdeu1,4\n")
    with pytest.raises(InputError) as err:
        read_home_pop_table(places, pops)
    assert "places.csv" in str(err.value) and "line 3" in str(err.value) and "twice" in str(err.value)


def _pinned_scenario(home_pop_rule="geoip", pin="mdrdesp1", kind="dish"):
    return {
        "name": "pin", "constellation": "starlink-gen1",
        "ground": {"sites": [{"name": "kyiv-a", "lat_deg": 50.45, "lon_deg": 30.52},
                             {"name": "kyiv-b", "lat_deg": 50.45, "lon_deg": 30.52, "kind": kind, "home_pop": pin}],
                   "builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]},
                               {"name": "starlink-pops-2023", "regions": ["Europe"]}]},
        "network": {"home_pop": home_pop_rule},
        "time": {"start": "2024-01-06T12:00:00Z", "duration_s": 30, "step_s": 15},
    }


def test_a_pinned_home_pop_is_where_the_dish_leaves(tmp_path):
    """Two dishes at one place: the GeoIP rule homes the first on Frankfurt, the second is pinned
    to Madrid; each leaves at its own PoP on every connected step."""
    result = leonet.run(leonet.scenario_from_dict(_pinned_scenario()), out_dir=tmp_path, overwrite=True)
    sites = result.store.read("sites").to_pandas()
    steps = result.store.read("dish_steps").to_pandas()
    name = dict(enumerate(sites["name"]))
    steps = steps[steps["pop"] >= 0]
    assert len(steps) >= 2
    left = {(name[s], name[p]) for s, p in zip(steps["site"], steps["pop"])}
    assert left == {("kyiv-a", "FRA"), ("kyiv-b", "MAD")}


def test_bad_pins_are_clear_errors():
    with pytest.raises(InputError) as err:   # a code the scenario's PoPs lack
        leonet.build_model(leonet.scenario_from_dict(_pinned_scenario(pin="snjecax1")))
    assert "kyiv-b" in str(err.value) and "snjecax1" in str(err.value)
    with pytest.raises(InputError) as err:   # pinned, but every dish leaves at the nearest PoP
        leonet.build_model(leonet.scenario_from_dict(_pinned_scenario(home_pop_rule="any")))
    assert "network.home_pop" in str(err.value)
    with pytest.raises(InputError) as err:   # only dishes have home PoPs
        leonet.scenario_from_dict(_pinned_scenario(kind="station"))
    assert "home_pop" in str(err.value)
    with pytest.raises(InputError):          # not a PoP code
        leonet.scenario_from_dict(_pinned_scenario(pin="Frankfurt!"))


def test_the_2023_backbone_joins_2026_pops_by_code(tmp_path):
    """The 2023 map's backbone names its PoPs ("FRA"); the 2026 set names them by code ("frntdeu1").
    The backbone joins the 2026 PoPs that carry a 2023 PoP's code (once it joined none: silently no
    fibre between PoPs), and a scenario whose PoPs it cannot join is warned."""
    from leonet.ground.builtin import starlink_backbone_2023

    links, _ = starlink_backbone_2023()
    p23 = starlink_pops_2023()
    code = dict(zip(p23.name.tolist(), pop_codes_of(p23).tolist()))
    m23 = leonet.build_model(_tiny([{"name": "starlink-pops-2023"}]))
    m26 = leonet.build_model(_tiny([{"name": "starlink-pops-2026"}]))
    names23 = m23.sites.name[m23.network.pop_sites]
    names26 = m26.sites.name[m26.network.pop_sites]
    got23 = {frozenset(names23[list(e)]) for e in m23.network.backbone}
    got26 = {frozenset(names26[list(e)]) for e in m26.network.backbone}
    assert len(got23) >= 30 and len(got26) >= 25
    # the 2026 links are the 2023 links between PoPs both sets have, by code
    in26 = set(names26.tolist())
    want26 = {frozenset((code[a], code[b])) for a, b in links if code[a] in in26 and code[b] in in26}
    assert got26 == want26 and frozenset(("frntdeu1", "lndngbr1")) in got26
    assert not any("backbone" in w for w in m26.network.warnings)
    own = tmp_path / "pops.csv"
    own.write_text("name,lat_deg,lon_deg,kind\np1,50,8,pop\np2,48,2,pop\n")
    m = leonet.build_model(_tiny([], site_files=[{"path": str(own)}]))
    assert not len(m.network.backbone)
    assert any("none of its links joins" in w for w in m.network.warnings)
