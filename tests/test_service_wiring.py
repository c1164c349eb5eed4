"""The service model wired into the step (issue 11): kits cap every dish, home PoPs are sticky and
reached, sold-out sites are SOLD_OUT, drop rates are fractions, and bad input stops the run at
the door with the file and field named."""

import numpy as np
import pytest

import leonet
from leonet.errors import InputError
from leonet.states import code

BERLIN = dict(lat_deg=52.52, lon_deg=13.40)


def scenario(**service):
    sites = [{"name": f"d{k}", "lat_deg": 52.52 + 0.05 * k, "lon_deg": 13.40, "dishes": 40} for k in range(3)]
    sites.append({"name": "mini", "lat_deg": 50.11, "lon_deg": 8.68, "kit": "mini"})
    return {
        "name": "svc", "constellation": {"preset": "starlink-gen1"},
        "ground": {"sites": sites, "builtin": [
            {"name": "starlink-gateways-2023", "regions": ["Europe"], "statuses": "carried-traffic", "antennas": "from-data"},
            {"name": "starlink-pops-2023", "regions": ["Europe"]}]},
        "time": {"start": "2024-01-06T19:00:12Z", "duration_s": 30, "step_s": 15},
        "network": {"home_pop": "geoip"},
        "capacity": {"enabled": True},
        "service": {"enabled": True, **service},
        "outputs": {"visibility_pairs": False},
    }


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    sc = leonet.scenario_from_dict(scenario(admission={"enabled": True, "limit_per_cell": 70}))
    r = leonet.run(sc, out_dir=tmp_path_factory.mktemp("svc"), overwrite=True)
    return r.store.read("dish_steps").to_pandas(), r.store.read("sites").to_pandas()


def test_no_dish_above_its_kit(steps):
    d, _ = steps
    for col, cap in (("downlink_bps", "kit_down_bps"), ("speedtest_down_bps", "kit_down_bps"),
                     ("uplink_bps", "kit_up_bps"), ("speedtest_up_bps", "kit_up_bps")):
        assert (d[col] <= d[cap] * (1 + 1e-9)).all(), col
    # and never above the cap at the link's MODCOD (service.kits.modcod_cap_bps)
    modcod_cap = d["kit_down_bps"] * np.minimum(d["efficiency_down_bps_per_hz"].fillna(5.9) / 5.900855, 1.0)
    for col in ("downlink_bps", "speedtest_down_bps"):
        assert (d[col] <= modcod_cap * (1 + 1e-6)).all(), col   # efficiency is stored as float32
    mini = d[d["kit_down_bps"] == 150e6]
    assert len(mini) == 2  # the site with kit: mini
    # the upload test never exceeds what the phone's send buffer allows over the round trip
    online = d["rtt_ms"].notna()
    assert (d["speedtest_up_bps"][online] <= 524_288 * 8 / (d["rtt_ms"][online] / 1e3) * (1 + 1e-9)).all()


def test_sold_out_and_admitted_counts(steps):
    d, _ = steps
    # 3 sites of 40 dishes 5.5 km apart, cells of 70: the third is sold out, never served
    assert (d["dishes_admitted"] <= 40).all()
    sold = d[d["dishes_admitted"] == 0]
    assert len(sold) and (sold["state"] == "SOLD_OUT").all() and sold["rtt_ms"].isna().all()
    assert (d.loc[d["state"] == "SOLD_OUT", "downlink_bps"] == 0).all()


def test_sold_out_dishes_still_ask_and_their_demand_is_unmet(steps):
    """A sold-out site's dishes want service: their demand is drawn as the site's dishes would
    (on/off traffic, a pure function of t) and all of it is unmet, so unmet_demand counts the
    waiting list (before, their demand was 0 and a target on unmet_demand held at any count)."""
    d, _ = steps
    sold = d[d["dishes_admitted"] == 0]
    assert (sold["demand_down_bps"] > 0).any()
    assert (sold["unmet_down_bps"] == sold["demand_down_bps"]).all()
    assert (sold["downlink_bps"] == 0).all() and (sold["dishes_on"] == 0).all()


def test_a_sites_demand_draw_is_its_own():
    """Drawing demand for a sold-out site leaves every other site's draw unchanged, to the bit."""
    from leonet.service.traffic import PeriodDemand

    ids, lon = np.arange(4), np.full(4, 13.4)
    caps = dict(cap_down_bps=np.full(4, 220e6), cap_up_bps=np.full(4, 25e6))
    t = np.int64(1_704_567_612) * 10**9
    before = PeriodDemand(ids, [40, 40, 0, 1], lon, 7, **caps)(t)
    after = PeriodDemand(ids, [40, 40, 40, 1], lon, 7, **caps)(t)
    keep = [0, 1, 3]
    for a, b in zip(before, after):
        assert np.array_equal(a[keep], b[keep])
    assert after[2][2] > 0 and before[2][2] == 0


def test_home_pop_is_sticky_and_reached(steps):
    d, sites = steps
    online = d["state"].isin(["CONNECTED", "CONGESTED"])
    assert online.any()
    assert (d.loc[online, "pop"] == d.loc[online, "home_pop"]).all()
    home = sites.loc[d["home_pop"].iloc[0], "name"]
    assert "Frankfurt" in home or "FRA" in home.upper() or sites.loc[d["home_pop"].iloc[0], "clli"] is not None
    assert d.groupby("site")["home_pop"].nunique().max() == 1


def test_drop_rate_is_a_fraction_and_rtt_has_its_terms(steps):
    d, _ = steps
    assert d["drop_rate"].between(0, 1).all()
    online = d["state"].isin(["CONNECTED", "CONGESTED"])
    # propagation alone is > 4 ms; MAC (>= 2.7 ms) and processing (4 ms) come on top
    assert (d.loc[online, "rtt_ms"] > 10).all()
    assert (d.loc[online, "rtt_loaded_ms"] >= d.loc[online, "rtt_ms"] - 40).all()
    # the route alone: no shorter than the zenith floor at 550 km (3.7 ms, Huston 2024), and the
    # service terms (MAC, processing, queue, jitter) come on top; nothing without service
    prop = d.loc[online, "propagation_rtt_ms"]
    assert (prop >= 3.6).all() and (d.loc[online, "rtt_ms"] - prop > 2.5).all()
    assert d.loc[~online, "propagation_rtt_ms"].isna().all()


def test_congested_is_not_an_outage():
    from leonet.states import BY_NAME

    assert not BY_NAME["CONGESTED"].outage and BY_NAME["SOLD_OUT"].outage
    assert code("SOLD_OUT") == 7


@pytest.mark.parametrize("change, where, words", [
    (lambda s: s["ground"]["sites"][0].update(kit="standrd"), "kit", "did you mean 'standard'"),
    (lambda s: s["service"].update(kit="prformance"), "service.kit", "did you mean 'performance'"),
    (lambda s: s["network"].update(isl={"shells": ["shel1"]}), "network.isl.shells[0]", "did you mean"),
    (lambda s: s["network"].update(isl={"min_catalog_number": 48879}), "network.isl.min_catalog_number", "NORAD"),
    (lambda s: s["service"].update(latency={"target": "Xyzzyville"}), "service.latency.target", "unknown latency target"),
])
def test_bad_input_names_the_field_and_writes_nothing(tmp_path, change, where, words):
    raw = scenario()
    change(raw)
    out = tmp_path / "out"
    with pytest.raises((InputError, ValueError)) as err:
        leonet.run(leonet.scenario_from_dict(raw), out_dir=out)
    text = str(err.value)
    assert words in text and where.split("[")[0].split(".")[-1] in text
    assert not out.exists()


def test_geoip_home_pop_missing_from_the_scenario_is_an_error(tmp_path):
    raw = scenario()
    raw["ground"]["builtin"][1]["regions"] = ["North America"]  # no Frankfurt
    with pytest.raises(InputError) as err:
        leonet.run(leonet.scenario_from_dict(raw), out_dir=tmp_path / "o")
    assert err.value.location == "network.home_pop" and "frntdeu1" in err.value.message
    assert not (tmp_path / "o").exists()


def test_service_needs_capacity():
    raw = scenario()
    raw["capacity"]["enabled"] = False
    with pytest.raises((InputError, ValueError), match="service.enabled needs capacity"):
        leonet.scenario_from_dict(raw)


def test_lasers_per_catalog_number_split_real_element_sets():
    from leonet.realism.calibrated import LASERS_FROM_CATALOG, extract_orbit_file, orbit_set_for
    from datetime import date
    from leonet.sim.model import build_constellation
    from leonet.sim.network_model import laser_capable
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        f = extract_orbit_file(orbit_set_for(date(2024, 1, 6)), Path(tmp))
        raw = scenario()
        raw["constellation"] = {"orbit_files": [{"path": str(f), "format": "tle"}]}
        raw["network"]["isl"] = {"min_catalog_number": LASERS_FROM_CATALOG}
        sc = leonet.scenario_from_dict(raw)
        cons = build_constellation(sc)
        capable = laser_capable(sc, cons)
    incl = cons.elements.inclination_deg
    # the v1.0 53.0/53.1 deg satellites launched 2019-21 have no lasers; the 70 and 97.7 deg shells all do
    assert not capable[(np.abs(incl - 53.05) < 0.1) & (np.array([int(c) for c in cons.elements.catalog_id]) < 48000)].any()
    assert capable[np.abs(incl - 70.0) < 0.2].all() and 0.5 < capable.mean() < 0.95


def test_background_near_equals_the_whole_grid_computation():
    """Only the wanted satellites' grid cells are visited, with the same 1/k sharing as the
    reference function over every satellite."""
    from leonet.service import background as bg

    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(-50, 60, 400), rng.uniform(-180, 180, 400)
    grid = bg.subscriber_grid(1e6, lat, lon, rng.uniform(1e4, 1e6, 400), 1.0)
    s_lat, s_lon = rng.uniform(-53, 53, 300), rng.uniform(-180, 180, 300)
    xyz = bg._xyz_m(s_lat, s_lon) * (1 + 550e3 / bg.EARTH_RADIUS_M)
    t = np.int64(1_700_000_000 * 10**9)
    ref = bg.satellite_background_bps(grid, s_lat, s_lon, 550e3, 25.0, t, 4e6)
    wanted = np.arange(0, 300, 7)
    near, cells = bg.satellite_background_near(grid, xyz, wanted, 25.0, t, 4e6, 5.76e8)
    assert np.allclose(near[wanted], ref[wanted], rtol=1e-9, atol=1e-6)
    assert (near[np.setdiff1d(np.arange(300), wanted)] == 0).all() and (cells[wanted] >= 0).all()
    # weights by capacity conserve each grid cell's load, shifting it toward bigger satellites
    w = np.where(np.arange(300) % 2 == 0, 96e9, 20e9)
    heavy, _ = bg.satellite_background_near(grid, xyz, np.arange(300), 25.0, t, 4e6, 5.76e8, weight=w)
    assert heavy.sum() == pytest.approx(ref.sum(), rel=1e-9)
    assert heavy[::2].sum() > ref[::2].sum()


def test_geoip_weighted_cities_give_each_country_its_subnet_share():
    from leonet.ground.home_pop import read_home_pop_table
    from leonet.service.background import geoip_weighted_cities

    table = read_home_pop_table()
    lat, lon, w = geoip_weighted_cities(["DE", "UA", "US"])
    subnets = {c: table.n_subnets[table.country == c].sum() for c in ("DE", "UA", "US")}
    from leonet.ground import population

    country = np.array([c.country for c in population._cities()[0]
                        if c.country in subnets and c.population >= 15_000])
    for c, n in subnets.items():
        assert w[country == c].sum() == pytest.approx(n)


def test_equal_share_cell_capacity_by_hand():
    """One satellite straight above two grid cells: its usable capacity shared by their occupied
    beam cells, never above one beam."""
    from leonet.service import admission, background as bg

    grid = bg.subscriber_grid(1000.0, np.array([0.5, 1.5]), np.array([0.5, 0.5]), np.array([1.0, 1.0]), 1.0)
    xyz = bg._xyz_m(np.array([1.0]), np.array([0.5])) * (1 + 550e3 / bg.EARTH_RADIUS_M)
    cap = admission.equal_share_cell_capacity_bps(grid, xyz, np.array([20e9]), np.array([1e12]), 25.0)
    n = bg._grid_cell_area_m2(grid.flat_index // 360, 1.0) / admission.CELL_AREA_M2
    occupied = (n * (1 - np.exp(-500.0 / n))).sum()
    assert cap == pytest.approx(np.full(2, 20e9 / occupied))
    capped = admission.equal_share_cell_capacity_bps(grid, xyz, np.array([20e9]), np.array([1e8]), 25.0)
    assert capped == pytest.approx([1e8, 1e8])


def test_a_backhaul_dish_carries_its_users_through_one_terminal(tmp_path):
    """A dish behind a village network (users_per_dish): the users' on/off traffic adds up and
    meets one kit's cap; the same number of ordinary dishes would each have their own cap."""
    data = scenario()
    data["ground"]["sites"] = [s for s in data["ground"]["sites"] if s["name"] == "d0"]
    data["ground"]["dish_groups"] = [{"name": "village", "lat_deg": 52.40, "lon_deg": 13.10, "count": 1,
                                      "radius_km": 0, "users_per_dish": 400}]
    r = leonet.run(leonet.scenario_from_dict(data), out_dir=tmp_path / "b")
    d = r.store.read("dish_steps").to_pandas()
    sites = r.store.read("sites").to_pandas()
    village = d[sites["group"].to_numpy()[d["site"].to_numpy()] == "village"]
    assert len(village) == 2
    # 400 users at the busy hour ask far more than one standard dish carries: demand = the cap at
    # the link's MODCOD (the kit's 300 Mbps at the top one, 5.90 bit/s/Hz)
    modcod_cap = village["kit_down_bps"] * np.minimum(village["efficiency_down_bps_per_hz"] / 5.900855, 1.0)
    assert np.allclose(village["demand_down_bps"], modcod_cap, rtol=1e-6)  # the efficiency column is float32
    assert (village["efficiency_down_bps_per_hz"] < 5.9).all()   # so below the kit's nominal cap
    assert (village["downlink_bps"] <= village["kit_down_bps"] * (1 + 1e-9)).all()
    assert (village["dishes_on"] > 50).all()   # users active behind the one terminal
    assert (village["dishes_admitted"] == 1).all()


def test_the_app_reports_the_service_models_drop_rate(steps, tmp_path):
    """The dish app's pop_ping_drop_rate is the service model's drop_rate (a fraction), not 0/1."""
    from leonet.app.dish import history
    from leonet.app.run import RunData

    sc = leonet.scenario_from_dict(scenario(admission={"enabled": True, "limit_per_cell": 70}))
    out = tmp_path / "svc"
    leonet.run(sc, out_dir=out)
    run = RunData(out)
    h = history(run, "d0", None, None)
    d = leonet.ResultStore(out).read("dish_steps").to_pandas()
    site = int(run.dish_site("d0"))
    expected = d[d["site"] == site].sort_values("t")["drop_rate"].to_numpy()
    np.testing.assert_allclose(h.pop_ping_drop_rate, expected, rtol=1e-6)


def test_a_dish_that_is_not_online_moves_and_measures_nothing(tmp_path):
    """A dish in a short random outage (NO_PATH) once kept the share the allocation gave it and a
    full speed test (higher than its connected neighbours': a NaN RTT lifts the TCP window limit)."""
    sc = leonet.scenario_from_dict(scenario(latency={"outage_time_fraction": 0.3}))
    d = leonet.run(sc, out_dir=tmp_path, overwrite=True).store.read("dish_steps").to_pandas()
    offline = ~d["state"].isin(["CONNECTED", "CONGESTED"])
    assert (d["state"] == "NO_PATH").sum() >= 2 and (~offline).any()
    for col in ("downlink_bps", "uplink_bps", "speedtest_down_bps", "speedtest_up_bps"):
        assert (d.loc[offline, col] == 0).all(), col


def test_drop_rate_of_slot_aligned_steps_is_the_cycles_mean(tmp_path):
    """15 s steps from a slot start read, with one second a step, the reconfiguration burst's
    second at every step (~8 % lost, where the cycle's mean is ~1.6 %: 2.46 pings lost per 15 s
    slot of 15 pings a second, plus 0.5 % of seconds in short outages). A step's drop rate is the
    mean over the seconds it stands for, up to one cycle."""
    from leonet.service.latency import DEFAULT_LATENCY as P

    data = scenario()
    data["time"]["duration_s"] = 600
    r = leonet.run(leonet.scenario_from_dict(data), out_dir=tmp_path / "o", overwrite=True)
    d = r.store.read("dish_steps", columns=["state", "drop_rate"]).to_pandas()
    online = d["state"].isin(["CONNECTED", "CONGESTED"])
    cycle_mean = 2.46 / (P.slot_period_s * P.pings_per_s) + P.outage_time_fraction
    assert d.loc[online, "drop_rate"].mean() == pytest.approx(cycle_mean, abs=0.006)


# -- a site admitted in part is two sites ------------------------------------------------------

def split_scenario(events=(), **admission):
    """Three sites of 10 dishes in one 24 km cell, no background, cells of 14: in id order town0
    is admitted, town1 in part (4 of 10), town2 not at all."""
    return {
        "name": "split", "constellation": {"preset": "starlink-gen1"},
        "ground": {"dish_groups": [{"name": "town", **BERLIN, "count": 3, "dishes_per_site": 10, "radius_km": 3,
                                    "seed": 1}],
                   "builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"], "statuses": "carried-traffic",
                                "antennas": "from-data"},
                               {"name": "starlink-pops-2023", "regions": ["Europe"]}]},
        "time": {"start": "2024-01-06T19:00:12Z", "duration_s": 45, "step_s": 15},
        "network": {"home_pop": "geoip"},
        "capacity": {"enabled": True},
        "service": {"enabled": True, "background": {"enabled": False},
                    "admission": {"enabled": True, "limit_per_cell": 14, **admission}},
        "outputs": {"visibility_pairs": False},
        "events": list(events),
    }


#: A power cut naming the site admitted in part, at the middle step only.
CUT = {"name": "cut", "type": "power_cut", "start_s": 15, "end_s": 30, "target": {"sites": ["town1"]}}


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    sc = leonet.scenario_from_dict(split_scenario([CUT]))
    return leonet.run(sc, out_dir=tmp_path_factory.mktemp("split"), overwrite=True)


def test_a_site_admitted_in_part_is_two_sites(split_run):
    """The admitted dishes keep the site; the waiting ones are '<name> (sold out)' at the same
    place, in the same group: every site is all admitted or all SOLD_OUT, so every dish-weighted
    figure counts 14 of 30 dishes served (before, town1's 10 dishes all read CONNECTED)."""
    import pandas as pd

    sites = split_run.store.read("sites").to_pandas()
    d = split_run.store.read("dish_steps").to_pandas()
    dish = sites[sites["kind"] == "dish"].set_index("name")
    assert dish.loc[["town0", "town1", "town2", "town1 (sold out)"], "dishes"].tolist() == [10, 4, 10, 6]
    part, site = dish.loc["town1 (sold out)"], dish.loc["town1"]
    assert (part["group"], part["lat_deg"], part["lon_deg"]) == (site["group"], site["lat_deg"], site["lon_deg"])
    row = {name: i for i, name in enumerate(sites["name"])}
    w = sites["dishes"].to_numpy(dtype=float)[d["site"].to_numpy()]
    assert (d["dishes_admitted"].isin([0]) | (d["dishes_admitted"] == w)).all()   # all or none
    mine, waiting = d[d["site"] == row["town1"]], d[d["site"] == row["town1 (sold out)"]]
    assert (mine["dishes_admitted"] == 4).all() and (mine["state"] != "SOLD_OUT").all()
    assert (waiting["dishes_admitted"] == 0).all()
    assert waiting["state"].isin(["SOLD_OUT", "OFFLINE", "GEOFENCED"]).all()
    assert (waiting["downlink_bps"] == 0).all() and waiting["rtt_ms"].isna().all()
    # the dish-weighted SOLD_OUT share is the waiting dishes' exactly, outside the power cut
    cut = d["t"] == d["t"].min() + pd.Timedelta(seconds=15)
    for t, g in d[~cut].groupby("t"):
        share = w[g.index][g["state"].to_numpy() == "SOLD_OUT"].sum() / w[g.index].sum()
        assert share == (30 - g["dishes_admitted"].sum()) / 30 == 16 / 30, t
    # the power cut names town1: its sold-out part goes dark with it (OFFLINE comes before SOLD_OUT)
    at_cut = d[cut].set_index("site")["state"]
    assert at_cut[row["town1"]] == "OFFLINE" and at_cut[row["town1 (sold out)"]] == "OFFLINE"
    assert at_cut[row["town2"]] == "SOLD_OUT"
    events = {e["name"]: e for e in split_run.store.read_json("events.json")}
    assert events["cut"]["sites"] == ["town1", "town1 (sold out)"]
    assert any("town1" in w and "split in two" in w and "14 of 30 dishes admitted" in w
               for w in split_run.model.network.warnings)


def test_availability_is_the_admitted_share_of_the_admitted_parts(split_run):
    """The summary's availability of the group = admitted dishes / all of them x the admitted
    sites' own dish-weighted availability (before, a site admitted in part counted all its dishes
    as served: 10 of 30 dishes read SOLD_OUT, not 16)."""
    from leonet.results.summary import network_summary
    from leonet.states import OUTAGE_STATES

    sites = split_run.store.read("sites").to_pandas()
    d = split_run.store.read("dish_steps").to_pandas()
    w = sites["dishes"].to_numpy(dtype=float)[d["site"].to_numpy()]
    admitted = d["dishes_admitted"].to_numpy() > 0
    up = ~d["state"].isin(OUTAGE_STATES).to_numpy()
    own = (w * up)[admitted].sum() / w[admitted].sum()
    assert 0 < own < 1   # the power cut took the admitted town1 down at one step
    groups = network_summary(split_run.store).by_group().set_index("group")
    assert groups.loc["town", "availability"] == pytest.approx(14 / 30 * own, rel=1e-12)
    assert groups.loc["town", "dishes"] == 30


def test_seeded_admission_admits_the_same_dishes_after_the_split():
    """The split does not draw the admission again: the seeded order's draw is over the sites as
    written (their ids), so each site keeps exactly the dishes admission gave it."""
    from leonet.service.admission import admitted_counts, dish_cells

    sc = leonet.scenario_from_dict(split_scenario(order="seeded"))
    model = leonet.build_model(sc)
    written = model.split.written
    rows = np.flatnonzero(written.kind == "dish")
    n = np.full(len(rows), 10)
    cells = dish_cells(written.lat_deg[rows], written.lon_deg[rows], sc.capacity.cell_size_km * 1e3)
    want = admitted_counts(cells, n, 14, 0, dish_ids=np.arange(len(rows)), seed=sc.service.seed)
    earliest = admitted_counts(cells, n, 14, 0, dish_ids=np.arange(len(rows)))
    assert not np.array_equal(want, earliest) and ((want > 0) & (want < n)).sum() == 1   # the seed matters here
    net = model.network
    names = model.sites.name[net.dish_sites].tolist()
    split = int(np.flatnonzero((want > 0) & (want < n))[0])
    assert names == [*written.name[rows], f"{written.name[rows[split]]} (sold out)"]
    np.testing.assert_array_equal(model.dish_count[net.dish_sites],
                                  [*np.where(want > 0, want, n), n[split] - want[split]])
    np.testing.assert_array_equal(model.service.n_admitted, [*want, 0])
    assert (model.service.n_admitted[model.service.n_admitted > 0] ==
            model.dish_count[net.dish_sites][model.service.n_admitted > 0]).all()


def test_events_of_a_variant_reach_the_sold_out_part():
    """A variant built from a split base (model_with_events, as run_group does) resolves its
    events against the sites as written too, and a part shares its site's."""
    from leonet.sim.model import model_with_events

    base = leonet.build_model(leonet.scenario_from_dict(split_scenario()))
    variant = model_with_events(base, leonet.scenario_from_dict(split_scenario([CUT])))
    part = base.sites.index_of(["town1 (sold out)"])[0]
    state = variant.timeline.state_at(int(base.t_ns[1]))
    assert len(state.dish_offline) == len(base.sites) and state.dish_offline[part]
    assert state.dish_offline.sum() == 2   # town1 and its part
    assert not variant.timeline.state_at(int(base.t_ns[0])).dish_offline.any()


def test_recovery_leaves_out_a_sold_out_part_the_event_names(tmp_path):
    """The power cut names town1, so its sold-out part shares it (OFFLINE), but the cut did not
    take that part's service: it was SOLD_OUT in the baseline. Recovery after the cut is town1's
    admitted dishes' (back at once), not 'not recovered' (the part is never online)."""
    from leonet.results.compare import compare

    sc = leonet.scenario_from_dict(split_scenario([CUT]))
    a = leonet.run(sc, out_dir=tmp_path / "o", baseline=True)
    ends = {r.spec.name: (r.end_ns, r.spec.type) for r in a.model.timeline.events}
    df = compare(a.store, a.baseline.store, ends)
    assert df.loc["town", "recover_s_cut"] == 0.0
