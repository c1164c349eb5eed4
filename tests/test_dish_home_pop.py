"""`leonet dish` homes the dish as Starlink's GeoIP feed homes its place (Kyiv on Frankfurt, not on
Warsaw, the nearest PoP), writes the PoPs with their codes so that the scenario it saves re-runs
with ``network.home_pop: geoip``, says which PoP and why, falls back to the nearest PoP only
where the feed has no place near the dish or the ground set lacks the place's PoPs (saying so),
and says plainly why a dish that was never online was not."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import leonet
from leonet.ground.builtin import builtin_sites, nearest_pop
from leonet.mydish import GEOIP_PLACE_REACH_KM, dish_scenario, ground_near, never_online_line
from leonet.sim.ground_build import build_sites
from leonet.sim.network_model import home_pop_of_dishes

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow

KYIV = (50.45, 30.52)


def _home_code(data: dict) -> str:
    """The home PoP code the scenario's own rule (network.home_pop) gives its dish."""
    from leonet.ground.builtin import pop_codes_of

    sc = leonet.scenario_from_dict(data, source="test")
    sites = build_sites(sc)
    kind = np.asarray(sites.kind)
    dish, pop = np.flatnonzero(kind == "dish"), np.flatnonzero(kind == "pop")
    number = home_pop_of_dishes(sc, sites, dish, pop)
    return str(pop_codes_of(sites.take(pop))[number[0]])


def test_kyiv_is_homed_on_frankfurt_as_the_geoip_feed_homes_it(tmp_path):
    data, chosen = dish_scenario(*KYIV, tmp_path)
    assert chosen["home_pop"] == "frntdeu1" and not chosen["home_pop_pinned"]
    assert data["network"]["home_pop"] == "geoip"
    assert "home PoP frntdeu1 (Frankfurt), as Starlink's GeoIP feed homes Kyiv, UA" in data["description"]
    # the scenario's PoPs carry their codes, so that its geoip rule resolves (it failed on "PoP
    # sites carry no code" before), and it gives the PoP the description names
    assert _home_code(data) == "frntdeu1"
    # the nearest PoP is Warsaw, which the dish is not homed on
    pops = builtin_sites("starlink-pops-2026")
    d = np.hypot(pops.lat_deg - KYIV[0], (pops.lon_deg - KYIV[1]) * np.cos(np.radians(KYIV[0])))
    assert pops.name[np.argmin(d)] == "wrswpol1"


@pytest.mark.parametrize("lat, lon, year, code, words", [
    # the feed's nearest place (Minneapolis, 695 km) is homed on rdmdwax3, which neither set has
    (38.9, -95.2, 2026, "mplsmnx1", "on rdmdwax3 (8 of 9 subnets), but the 2026 ground set lacks rdmdwax3; "
                                    "mplsmnx1 is that place's next PoP"),
    (38.9, -95.2, 2023, None, "on rdmdwax3 and mplsmnx1, but the 2023 ground set lacks rdmdwax3 and mplsmnx1"),
    (0.0, -150.0, 2026, None, f"lists no place within {GEOIP_PLACE_REACH_KM:,.0f} km of the dish"),
    (78.2, 15.6, 2026, None, f"lists no place within {GEOIP_PLACE_REACH_KM:,.0f} km of the dish"),
    # Darwin: no GeoIP place within reach; homed at Darwin's own PoP (a hunt found it homed at Surabaya,
    # the PoP its nearest gateways feed, before the fallback counted PoPs the joined backbone reaches)
    (-12.46, 130.84, 2026, "drwnaus1", f"lists no place within {GEOIP_PLACE_REACH_KM:,.0f} km of the dish"),
])
def test_where_the_feed_cannot_home_the_dish_it_says_so_and_pins_the_pop(tmp_path, lat, lon, year, code, words):
    data, chosen = dish_scenario(lat, lon, tmp_path, ground_year=year)
    assert chosen["home_pop_pinned"] and words in chosen["home_pop_reason"]
    assert chosen["home_pop_reason"] in data["description"]
    if code is not None:
        assert chosen["home_pop"] == code
    else:
        assert "the nearest PoP its traffic can reach" in chosen["home_pop_reason"]
    assert data["ground"]["sites"][0]["home_pop"] == chosen["home_pop"]
    assert _home_code(data) == chosen["home_pop"]


@pytest.mark.parametrize("lat, lon", [KYIV, (38.9, -95.2), (78.2, 15.6), (-77.85, 166.67), (0.0, -150.0),
                                      (-90.0, 0.0), (19.07, 72.88), (-6.2, 106.85), (-12.05, -77.04)])
def test_the_home_pop_is_in_the_scenario_and_a_chosen_gateway_feeds_it(lat, lon):
    """Fed by a chosen gateway itself or over the backbone: Mumbai's and Jakarta's GeoIP PoPs
    (2026) are fed by no gateway, and their dishes were NO_PATH every step (before the dish's
    backbone joined every PoP, their homes were moved to a fed PoP: Mumbai to Muscat)."""
    from leonet.scenario.calibration import ground_segment
    from leonet.sim.network_model import backbone_pairs, fed_pops

    for year in (2023, 2026):
        entries, chosen = ground_near(lat, lon, year)
        pops = [e for e in entries if e["kind"] == "pop"]
        codes = [e["pop_code"] for e in pops]
        assert chosen["home_pop"] in codes
        seg = ground_segment(year)     # the dish's ground set and backbone, as its scenario runs them
        gws = builtin_sites(**seg.builtin[0])
        all_pops = builtin_sites(**seg.builtin[1])
        mine = gws.take(np.flatnonzero(np.isin(gws.name, [e["name"] for e in entries if e["kind"] == "gateway"])))
        here = all_pops.take(np.flatnonzero(np.isin(all_pops.name, [e["name"] for e in pops])))
        # the run's backbone (2023: the map's links; 2026: and the shortest joins)
        backbone = backbone_pairs(here, np.arange(len(here.name)), seg.backbone)
        fed = fed_pops(nearest_pop(mine, here), backbone, len(here.name))
        home = [e["name"] for e in pops if e["pop_code"] == chosen["home_pop"]][0]
        assert fed[list(here.name).index(home)], (year, chosen["home_pop_reason"])


def test_the_dish_run_says_its_home_pop_and_its_scenario_reruns(tmp_path):
    from typer.testing import CliRunner

    from leonet.cli import app
    import yaml

    from leonet.results.store import ResultStore

    runner = CliRunner()
    out = tmp_path / "kyiv"
    r = runner.invoke(app, ["dish", *map(str, KYIV), "--no-serve", "--duration", "5", "-o", str(out)])
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "home PoP frntdeu1 (Frankfurt)" in said
    # the default sky is the newest shipped set, with the model of its day
    assert "starlink-2026-08-22" in said and "from 2026-08-22T12:00:12Z" in said
    assert "calibrated model of 2026-08-22 (background: 10.0 M subscribers, Starlink's last announced total" in said
    again = tmp_path / "again"
    r = runner.invoke(app, ["run", str(out / "scenario.yaml"), "--out", str(again), "--no-report"])
    assert r.exit_code == 0, r.output
    for folder in (out, again):
        store = ResultStore(folder)
        steps = store.read("dish_steps", columns=["home_pop"]).to_pandas()
        names = store.read("sites", columns=["name"]).to_pandas()["name"]
        assert set(names[steps["home_pop"]]) == {"frntdeu1"}
        assert yaml.safe_load((folder / "scenario.yaml").read_text())["service"]["background"]["enabled"] is True
    alone = tmp_path / "alone"
    r = runner.invoke(app, ["dish", *map(str, KYIV), "--no-serve", "--duration", "2", "--no-background", "-o", str(alone)])
    assert r.exit_code == 0, r.output
    assert "no other subscribers (--no-background)" in " ".join(r.output.split())
    assert yaml.safe_load((alone / "scenario.yaml").read_text())["service"]["background"]["enabled"] is False


def _summary(availability: float, steps: int, **lost_s: float):
    states = ("CONNECTED", "NO_SATS", "NO_PATH", "OBSTRUCTED")
    row = {"name": "my-dish", "steps": steps, "availability": availability,
           **{f"lost_s_{s}": lost_s.get(s, 0.0) for s in states[1:]}}
    return SimpleNamespace(per_dish=pd.DataFrame([row]), states=states)


def test_a_dish_never_online_says_why():
    line = never_online_line("my-dish", _summary(0.0, 40, NO_PATH=30.0, NO_SATS=10.0), home_pop="chrhnzl1")
    assert line == ("my-dish: never online in 40 steps: NO_PATH 75% of the time (satellites in view, but no laser "
                    "route from them reaches a gateway leading to its home PoP chrhnzl1); NO_SATS 25% of the time "
                    "(no satellite in view above the minimum elevation)")
    assert never_online_line("my-dish", _summary(0.5, 40, NO_PATH=20.0)) is None


def test_leonet_dish_behind_a_wall_says_why_it_was_never_online(tmp_path):
    """The command itself (not only its helper): a horizon at 89 deg all round hides every
    satellite, and the dish's line gives the cause instead of RTT '-' via '-'."""
    from typer.testing import CliRunner

    from leonet.cli import app

    wall = tmp_path / "wall.csv"
    wall.write_text("azimuth_deg,elevation_deg\n" + "".join(f"{a},89\n" for a in range(0, 360, 30)))
    r = CliRunner().invoke(app, ["dish", *map(str, KYIV), "--no-serve", "--duration", "5", "--horizon", str(wall),
                                 "-o", str(tmp_path / "walled")])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "never online in 5 steps: OBSTRUCTED 100%" in text and "RTT to the PoP p50 -" not in text


def test_on_the_2023_map_the_home_pop_is_named_as_the_run_names_it(tmp_path):
    """A hunt: the header said "home PoP lgosnga1 (Lagos)" and the result line "... to LOS"."""
    _, chosen = dish_scenario(6.45, 3.39, tmp_path, ground_year=2023)
    assert "home PoP lgosnga1 (LOS, Lagos)" in chosen["home_pop_reason"]
    _, chosen = dish_scenario(50.45, 30.52, tmp_path / "k", ground_year=2026)
    assert "home PoP frntdeu1 (Frankfurt)" in chosen["home_pop_reason"]   # the 2026 names are the codes


def test_a_home_pop_in_the_set_that_nothing_feeds_is_said_so():
    """The other half of the reason's wording: Mumbai's PoP is in the 2026 list, and with no
    gateway reaching it (the unjoined backbone) the reason names it as unfed, not as missing."""
    from leonet.ground.builtin import pop_codes_of
    from leonet.mydish import home_pop_near

    pops = builtin_sites("starlink-pops-2026")
    codes = pop_codes_of(pops)
    reachable = codes != "mmbiind1"
    home = home_pop_near(19.07, 72.88, pops, codes, 2026, fed=np.flatnonzero(reachable), reachable=reachable)
    assert "on mmbiind1, but no gateway of it reaches mmbiind1" in home["reason"] and home["code"] != "mmbiind1"
