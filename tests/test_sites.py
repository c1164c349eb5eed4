"""Ground sites: built-in sets, ECEF positions, geodesy, dish scattering, CSV validation."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.constants import WGS84_A_M, WGS84_B_M, WGS84_E2
from leonet.errors import InputError
from leonet.ground import (
    BUILTIN_SITE_SETS,
    MEAN_EARTH_RADIUS_M,
    Sites,
    dishes_around,
    great_circle_distance_m,
    hypatia_top100_cities,
    nearest_pop,
    read_sites_csv,
    resolve_backbone,
    starlink_backbone_2023,
    starlink_gateways_2023,
    starlink_pops_2023,
)

# ------------------------------------------------------------------------------ built-in sets


def test_hypatia_cities():
    cities = hypatia_top100_cities()
    assert len(cities) == 100
    assert set(cities.kind) == {"station"}
    assert np.all(cities.elevation_m == 0.0)
    assert cities.name[0] == "Tokyo"


def test_starlink_gateways_operational_and_all():
    operational = starlink_gateways_2023()
    everything = starlink_gateways_2023(statuses="all")
    # 18 Live + 39 Presumed Live + 33 Built + 6 Built | STA + 2 Built | Ka Grant gateway rows.
    assert len(operational) == 98
    assert len(everything) == 217  # every site_type == "gateway" row; tt&c and backhaul excluded
    assert set(operational.kind) == {"gateway"}
    assert set(everything.attrs["site_type"]) == {"gateway"}
    assert set(operational.attrs["status"]) == {
        "Live", "Presumed Live", "Built", "Built | STA", "Built | Ka Grant"
    }
    assert "Grant of Authority" in set(everything.attrs["status"])
    assert set(everything.group) == {"North America", "South America", "Europe", "Africa", "APAC"}


def test_starlink_gateways_region_filter_and_errors():
    europe = starlink_gateways_2023(regions="Europe")
    assert len(europe) > 0 and set(europe.group) == {"Europe"}
    both = starlink_gateways_2023(regions=["Europe", "Africa"])
    assert len(both) == len(europe) + len(starlink_gateways_2023(regions="Africa"))
    with pytest.raises(InputError, match="Atlantis"):
        starlink_gateways_2023(regions=["Atlantis"])
    with pytest.raises(InputError, match="statuses"):
        starlink_gateways_2023(statuses="live")


def test_starlink_pops():
    pops = starlink_pops_2023()
    assert len(pops) == 23
    assert set(pops.kind) == {"pop"}
    assert list(pops.name) == list(pops.attrs["code"])
    assert "LON/LHR" in set(pops.name)
    london = pops.index_of("LON/LHR")[0]
    assert pops.group[london] == "Europe" and pops.attrs["city"][london] == "London"
    assert pops.attrs["clli"][london] == "LNDNGBR1"
    counts = {r: int(np.sum(pops.group == r)) for r in set(pops.group)}
    assert counts == {"North America": 8, "South America": 4, "Europe": 3, "Africa": 1, "APAC": 7}
    assert set(starlink_pops_2023(regions="Africa").name) == {"LOS"}


def test_builtin_site_sets_registry():
    assert set(BUILTIN_SITE_SETS) == {"hypatia-top100", "starlink-gateways-2023", "starlink-pops-2023",
                                      "starlink-gateways-2026", "starlink-pops-2026"}
    for make, description in BUILTIN_SITE_SETS.values():
        assert isinstance(make(), Sites) and description


def test_starlink_backbone_resolution():
    links, unresolved = starlink_backbone_2023()
    pop_codes = set(starlink_pops_2023().name)
    assert len(links) == 39
    assert all(a in pop_codes and b in pop_codes for a, b in links)
    assert ("LGA/NYC", "LON/LHR") in links  # "NYC,LON": both aliases
    assert ("LON/LHR", "LOS") in links  # "LHR,LOS": the other alias of LON/LHR
    assert ("SIN", "LAX") in links  # "SIN,LAX?": trailing "?" stripped
    assert len({frozenset(link) for link in links}) == len(links)  # no repeats, no self-loops
    assert [(u.endpoint, u.link_index, u.link) for u in unresolved] == [
        ("Suava", 23, ("Suava", "SYD")),
        ("HNL", 38, ("HNL", "LAX?")),
    ]


def test_resolve_backbone_aliases():
    links, unresolved = resolve_backbone(
        [("lhr", " ORD "), ("CHI?", "XYZ"), ("ABC", "DEF")], ["LON/LHR", "ORD/CHI", "SEA"]
    )
    assert links == [("LON/LHR", "ORD/CHI")]
    assert [u.endpoint for u in unresolved] == ["XYZ", "ABC", "DEF"]
    assert [u.link_index for u in unresolved] == [1, 2, 2]
    with pytest.raises(InputError, match="two PoPs"):
        resolve_backbone([], ["LON/LHR", "LHR"])


def test_nearest_pop_matches_brute_force():
    gateways = starlink_gateways_2023(statuses="all")
    pops = starlink_pops_2023()
    index = nearest_pop(gateways, pops)
    d = great_circle_distance_m(
        gateways.lat_deg[:, None], gateways.lon_deg[:, None], pops.lat_deg, pops.lon_deg
    )
    np.testing.assert_array_equal(index, np.argmin(d, axis=1))
    lekki = gateways.index_of("Lekki, NG")[0]
    assert pops.name[index[lekki]] == "LOS"
    assert nearest_pop(Sites.empty(), pops).shape == (0,)
    with pytest.raises(InputError, match="no PoPs"):
        nearest_pop(gateways, Sites.empty())


# ------------------------------------------------------------------------------ positions


def _sites(lat, lon, h=0.0):
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    n = lat.size
    return Sites(
        name=[f"s{i}" for i in range(n)], kind=["station"] * n, lat_deg=lat,
        lon_deg=np.broadcast_to(lon, (n,)), elevation_m=np.broadcast_to(h, (n,)),
    )


def test_ecef_known_points():
    s = _sites([0.0, 90.0, -90.0, 0.0], [0.0, 0.0, 0.0, 90.0])
    expected = [[WGS84_A_M, 0, 0], [0, 0, WGS84_B_M], [0, 0, -WGS84_B_M], [0, WGS84_A_M, 0]]
    np.testing.assert_allclose(s.ecef_m, expected, atol=1e-6)
    assert s.ecef_m.shape == (4, 3) and s.ecef_m.dtype == np.float64
    assert s.ecef_m is s.ecef_m  # computed once


def test_ecef_against_wgs84_formula_and_skyfield():
    wgs84 = pytest.importorskip("skyfield.api").wgs84
    rng = np.random.default_rng(7)
    lat = np.concatenate([rng.uniform(-90, 90, 200), [90.0, -90.0, 0.0]])
    lon = np.concatenate([rng.uniform(-180, 180, 200), [0.0, 180.0, -180.0]])
    h = np.concatenate([rng.uniform(-500, 9000, 200), [0.0, 100.0, 8848.0]])
    s = _sites(lat, lon, h)

    phi, lam = np.deg2rad(lat), np.deg2rad(lon)
    n = WGS84_A_M / np.sqrt(1 - WGS84_E2 * np.sin(phi) ** 2)
    formula = np.stack(
        [
            (n + h) * np.cos(phi) * np.cos(lam),
            (n + h) * np.cos(phi) * np.sin(lam),
            (n * (1 - WGS84_E2) + h) * np.sin(phi),
        ],
        axis=-1,
    )
    np.testing.assert_allclose(s.ecef_m, formula, rtol=0, atol=1e-6)

    oracle = np.asarray(wgs84.latlon(lat, lon, elevation_m=h).itrs_xyz.m).T
    assert np.max(np.abs(s.ecef_m - oracle)) < 1e-3


# ------------------------------------------------------------------------------ geodesy


def test_great_circle_exact_and_published():
    quarter = great_circle_distance_m(0.0, 0.0, 90.0, 0.0)
    assert quarter == pytest.approx(np.pi / 2 * MEAN_EARTH_RADIUS_M, rel=1e-12)
    assert great_circle_distance_m(10.0, 20.0, -10.0, -160.0) == pytest.approx(np.pi * MEAN_EARTH_RADIUS_M)
    # London - New York, ~5,570 km great circle.
    d = great_circle_distance_m(51.5074, -0.1278, 40.7128, -74.0060)
    assert abs(d - 5_570e3) < 10e3
    assert great_circle_distance_m(40.0, 179.9, 40.0, -179.9) < 20e3  # across the antimeridian


def test_great_circle_broadcasts():
    d = great_circle_distance_m(np.zeros((3, 1)), np.zeros((3, 1)), np.zeros(4), np.arange(4.0))
    assert d.shape == (3, 4)
    np.testing.assert_allclose(d[0], np.deg2rad(np.arange(4.0)) * MEAN_EARTH_RADIUS_M)


# ------------------------------------------------------------------------------ dishes


def test_dishes_around_basic():
    d = dishes_around(50.45, 30.52, 4000, 30_000.0, seed=1, name_prefix="kyiv-", group="Kyiv")
    assert len(d) == 4000
    assert set(d.kind) == {"dish"} and set(d.group) == {"Kyiv"}
    assert d.name[0] == "kyiv-0000" and d.name[-1] == "kyiv-3999"
    r = great_circle_distance_m(50.45, 30.52, d.lat_deg, d.lon_deg)
    assert np.all(r <= 30_000.0 + 1e-6)
    # Area-uniform: half the dishes lie within radius / sqrt(2); binomial sd is ~0.008.
    inner = np.mean(r <= 30_000.0 / np.sqrt(2.0))
    assert abs(inner - 0.5) < 0.04
    # And the bearings cover all directions evenly (each quadrant ~1/4).
    east = d.lon_deg > 30.52
    north = d.lat_deg > 50.45
    for q in (east & north, east & ~north, ~east & north, ~east & ~north):
        assert abs(np.mean(q) - 0.25) < 0.04


def test_dishes_around_deterministic_and_edge_cases():
    a = dishes_around(-33.9, 18.4, 100, 5_000.0, seed=42)
    b = dishes_around(-33.9, 18.4, 100, 5_000.0, seed=42)
    c = dishes_around(-33.9, 18.4, 100, 5_000.0, seed=43)
    np.testing.assert_array_equal(a.lat_deg, b.lat_deg)
    np.testing.assert_array_equal(a.lon_deg, b.lon_deg)
    assert not np.allclose(a.lat_deg, c.lat_deg)
    assert len(dishes_around(0.0, 0.0, 0, 1_000.0, seed=1)) == 0
    centre = dishes_around(12.0, -170.0, 5, 0.0, seed=1)
    np.testing.assert_allclose(centre.lat_deg, 12.0)
    np.testing.assert_allclose(centre.lon_deg, -170.0)
    near_pole = dishes_around(89.9, 0.0, 500, 50_000.0, seed=3)
    assert np.all(great_circle_distance_m(89.9, 0.0, near_pole.lat_deg, near_pole.lon_deg) <= 50_000.0 + 1e-6)
    assert np.all(np.abs(near_pole.lon_deg) <= 180.0)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(count=-1), "count"),
        (dict(count=2.5), "count"),
        (dict(radius_m=-1.0), "radius_m"),
        (dict(radius_m=float("nan")), "radius_m"),
        (dict(seed=None), "seed"),
        (dict(center_lat_deg=91.0), "center_lat_deg"),
    ],
)
def test_dishes_around_rejects_bad_arguments(kwargs, field):
    args = dict(center_lat_deg=0.0, center_lon_deg=0.0, count=3, radius_m=1_000.0, seed=1) | kwargs
    with pytest.raises(InputError) as e:
        dishes_around(**args)
    assert e.value.location == field


# ------------------------------------------------------------------------------ Sites object


def test_sites_take_index_concatenate_table():
    pops = starlink_pops_2023()
    gateways = starlink_gateways_2023()
    _ = pops.ecef_m
    sub = pops.take(pops.index_of(["SIN", "LAX"]))
    assert list(sub.name) == ["SIN", "LAX"]
    np.testing.assert_array_equal(sub.ecef_m, pops.ecef_m[pops.index_of(["SIN", "LAX"])])
    with pytest.raises(InputError, match="'NOPE'"):
        pops.index_of(["SIN", "NOPE"])

    both = Sites.concatenate([gateways, pops])
    assert len(both) == len(gateways) + len(pops)
    assert both.attrs["code"][0] is None and both.attrs["code"][-1] == pops.name[-1]
    assert both.attrs["status"][-1] is None
    table = both.to_table()
    assert table.num_rows == len(both)
    assert table.column_names[:6] == ["name", "kind", "lat_deg", "lon_deg", "elevation_m", "group"]
    assert {"status", "code", "city"} <= set(table.column_names)
    with pytest.raises(InputError, match="unique"):
        Sites.concatenate([pops, pops])
    with pytest.raises(ValueError):
        pops.lat_deg[0] = 0.0  # read-only, so cached positions cannot go stale


def test_sites_constructor_validates():
    with pytest.raises(InputError, match="unknown kind"):
        Sites(name=["a"], kind=["satellite"], lat_deg=[0.0], lon_deg=[0.0], elevation_m=[0.0])
    with pytest.raises(InputError, match="lat_deg"):
        Sites(name=["a"], kind=["dish"], lat_deg=[100.0], lon_deg=[0.0], elevation_m=[0.0])
    with pytest.raises(InputError, match="expected 2"):
        Sites(name=["a", "b"], kind=["dish"], lat_deg=[0.0, 0.0], lon_deg=[0.0, 0.0], elevation_m=[0.0, 0.0])


# ------------------------------------------------------------------------------ CSV input


def _write(tmp_path, text: str | bytes, name="sites.csv"):
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_read_sites_csv_ok(tmp_path):
    p = _write(
        tmp_path,
        "name,lat_deg,lon_deg,elevation_m,kind,group,operator\n"
        "gw-a, 48.1 ,11.5,520,gateway,Bavaria,X\n"
        "\n"
        '"dish, 1",-33.9,18.4,10,dish,,Y\n',
    )
    s = read_sites_csv(p)
    assert list(s.name) == ["gw-a", "dish, 1"]
    assert list(s.kind) == ["gateway", "dish"]
    np.testing.assert_allclose(s.lat_deg, [48.1, -33.9])
    np.testing.assert_allclose(s.elevation_m, [520.0, 10.0])
    assert list(s.group) == ["Bavaria", ""]
    assert list(s.attrs["operator"]) == ["X", "Y"]


def test_read_sites_csv_defaults(tmp_path):
    p = _write(tmp_path, "\ufeffname,lat_deg,lon_deg\nA,1,2\nB,3,4\n")  # BOM from a spreadsheet
    s = read_sites_csv(p, default_kind="station")
    assert list(s.kind) == ["station", "station"]
    np.testing.assert_array_equal(s.elevation_m, [0.0, 0.0])


def _error(path, **kwargs) -> InputError:
    with pytest.raises(InputError) as e:
        read_sites_csv(path, **kwargs)
    assert e.value.source == str(path)
    assert str(path) in str(e.value)
    return e.value


def test_csv_missing_file(tmp_path):
    err = _error(tmp_path / "nope.csv")
    assert "not found" in err.message


def test_csv_empty(tmp_path):
    err = _error(_write(tmp_path, "  \n"))
    assert "empty" in err.message and "lat_deg" in err.message


def test_csv_binary(tmp_path):
    err = _error(_write(tmp_path, b"PK\x03\x04\x00\x00binary"))
    assert "binary" in err.message


def test_csv_not_utf8(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nS\xe3o Paulo,1,2,dish\n".encode("latin-1")))
    assert "UTF-8" in err.message and err.location == "line 2"


def test_csv_missing_column(tmp_path):
    err = _error(_write(tmp_path, "name,latitude,lon_deg,kind\nA,1,2,dish\n"))
    assert err.location == "line 1 (header)"
    assert "['lat_deg']" in err.message and "expected columns" in err.message
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg\nA,1,2\n"))
    assert "['kind']" in err.message


def test_csv_unnamed_or_repeated_column(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind,\nA,1,2,dish,\n"))
    assert err.location == "line 1 (header)" and "column 5" in err.message
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind,name\nA,1,2,dish,B\n"))
    assert "['name']" in err.message and "more than once" in err.message


def test_csv_header_only(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\n"))
    assert "no data rows" in err.message


def test_csv_wrong_width(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,1,2,dish\nB,1,dish\n"))
    assert err.location == "line 3" and "3 fields" in err.message


def test_csv_bad_number(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,1,2,dish\nB,1,2,dish\nC,1,east,dish\n"))
    assert err.location == "line 4, column lon_deg"
    assert "'east' is not a number" in err.message
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,nan,2,dish\n"))
    assert err.location == "line 2, column lat_deg" and "finite" in err.message


def test_csv_lat_lon_out_of_range(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,1,2,dish\nB,-90.5,2,dish\n"))
    assert err.location == "line 3, column lat_deg" and "[-90, 90]" in err.message
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,139.7,35.7,dish\n"))
    assert "swapped" in err.message
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,1,2,dish\nB,1,250,dish\n"))
    assert err.location == "line 3, column lon_deg" and "subtract 360" in err.message


def test_csv_elevation_unit_mistake(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,elevation_m,kind\nA,1,2,120000,dish\n"))
    assert err.location == "line 2, column elevation_m"
    assert err.message == "elevation_m 120000 is outside [-500, 9000] m; is it in feet or km?"


def test_csv_duplicate_names(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,1,2,dish\nB,1,2,dish\nA,3,4,dish\n"))
    assert err.location == "line 4, column name"
    assert "repeats the name on line 2" in err.message


def test_csv_unknown_kind(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,1,2,dish\nB,1,2,satellite\n"))
    assert err.location == "line 3, column kind" and "'satellite'" in err.message
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg\nA,1,2\n"), default_kind="sat")
    assert "default_kind" in err.message


def test_csv_empty_name_and_line_numbers_skip_blank_lines(tmp_path):
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\n\nA,1,2,dish\n\n ,1,2,dish\n"))
    assert err.location == "line 5, column name"


def test_csv_plain_numbers_only(tmp_path):
    # float() and numpy read "5_0" as 50 and full-width digits as ASCII ones: a typo, refused.
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,1,2,dish\nB,5_0,30,dish\n"))
    assert err.location == "line 3, column lat_deg" and "'5_0'" in err.message
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,elevation_m,kind\nA,1,2,1_0,dish\n"))
    assert err.location == "line 2, column elevation_m"
    err = _error(_write(tmp_path, "name,lat_deg,lon_deg,kind\nA,1,\uff150,dish\n"))
    assert err.location == "line 2, column lon_deg"


@pytest.mark.parametrize("cell, words", [
    ("", "dishes is empty"),                  # the run crashed in the summary on int('')
    ("2.5", "'2.5' is not a whole number"),
    ("-5", "'-5' is not a whole number"),
    ("0", "dishes 0 is outside [1, 10,000,000]"),
    ("10000000000", "dishes 10,000,000,000 is outside [1, 10,000,000]"),   # a YAML site caps at 10 million
    ("9" * 5000, "is outside [1, 10,000,000]"),
    ("abc", "'abc' is not a whole number"),
])
def test_csv_dishes_column_checked_at_the_door(tmp_path, cell, words):
    err = _error(_write(tmp_path, f"name,lat_deg,lon_deg,kind,dishes\nG,51,31,gateway,\nA,50,30,dish,{cell}\n"))
    assert err.location == "line 3, column dishes"
    assert words in err.message


@pytest.mark.parametrize("cell, words", [
    ("0", "users_per_dish 0 is outside [1, 100,000]"),
    ("abc", "'abc' is not a whole number from 1 to 100,000"),
    ("100001", "outside [1, 100,000]"),
    ("", "users_per_dish is empty"),
])
def test_csv_users_per_dish_column_checked_at_the_door(tmp_path, cell, words):
    err = _error(_write(tmp_path, f"name,lat_deg,lon_deg,kind,users_per_dish\nA,50,30,dish,{cell}\n"))
    assert err.location == "line 2, column users_per_dish"
    assert words in err.message


def test_csv_count_columns_read_as_whole_numbers(tmp_path):
    s = read_sites_csv(_write(tmp_path, "name,lat_deg,lon_deg,kind,dishes,users_per_dish\n"
                                        "A,50,30,dish, 7 ,3\nG,51,31,gateway,,\nP,50,8,pop,2,\n"))
    assert list(s.attrs["dishes"]) == [7, None, 2] and type(s.attrs["dishes"][0]) is int
    assert list(s.attrs["users_per_dish"]) == [3, None, None]
    assert s.to_table().column("dishes").to_pylist() == [7, None, 2]


def test_csv_count_bounds_match_the_yaml_fields():
    from leonet.ground.sites_csv import COUNT_COLUMNS
    from leonet.scenario.ground import DishGroupSpec, SiteSpec

    def bounds(field):
        meta = {type(m).__name__: m for m in field.metadata}
        return meta["Ge"].ge, meta["Le"].le

    assert COUNT_COLUMNS["dishes"] == bounds(SiteSpec.model_fields["dishes"])
    assert COUNT_COLUMNS["users_per_dish"] == bounds(DishGroupSpec.model_fields["users_per_dish"])


_BUILTIN_SCENARIO = """\
name: tiny
constellation:
  shells:
    - {{altitude_km: 550, inclination_deg: 53, planes: 2, sats_per_plane: 2}}
ground:
  builtin:
    - {{name: starlink-gateways-2023, regions: {regions}}}
  sites:
    - {{name: A, lat_deg: 50, lon_deg: 30}}
time: {{start: 2022-03-01T12:00:00Z, duration_s: 60, step_s: 20}}
"""


@pytest.mark.parametrize("regions, words", [
    ("[Europa]", "unknown region(s) ['Europa'] (did you mean 'Europe'?)"),
    ("[]", "regions is an empty list, which would keep no sites"),   # was valid, adding no site
])
def test_builtin_regions_errors_name_the_scenario_and_field(tmp_path, capsys, regions, words):
    from leonet.cli import main

    path = tmp_path / "regions.yaml"
    path.write_text(_BUILTIN_SCENARIO.format(regions=regions))
    assert main(["validate", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    # was "starlink_gateways_2023: regions: ...": neither the scenario nor its field
    assert "ground.builtin[0].regions(line7)" in "".join(err.split()) and words in err  # the path may wrap
    assert "Traceback" not in err


def test_builtin_sites_refuses_an_empty_region_list_and_names_the_entry():
    from leonet.ground.builtin import builtin_sites

    with pytest.raises(InputError) as e:
        builtin_sites("starlink-pops-2023", regions=[], location="ground.builtin[1]")
    assert e.value.source is None and e.value.location == "ground.builtin[1].regions"
    with pytest.raises(InputError, match="empty list"):
        starlink_gateways_2023(regions=[])
    assert len(builtin_sites("starlink-pops-2023", regions=["Europe"])) > 0
