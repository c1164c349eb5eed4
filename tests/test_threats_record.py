"""The event kinds the 2022 record needs (issue 12): ISP outages to a level, power cuts with
backup, jamming with the operator's fix, geofencing and another network's wipe. Checked on the
resolved timeline (what is broken at t) of small scenarios, by construction."""

import textwrap

import numpy as np
import pytest
import yaml

import leonet
from leonet.errors import InputError
from leonet.threats.providers import load_providers

BASE = """
name: record
constellation: starlink-shell1
ground:
  dish_groups:
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 20, radius_km: 10, seed: 1}
    - {name: Lviv, lat_deg: 49.84, lon_deg: 24.03, count: 20, radius_km: 10, seed: 2}
    - {name: Nowhere, lat_deg: 45.0, lon_deg: 10.0, count: 5, radius_km: 10, seed: 3}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 60, step_s: 10}
terrestrial: {providers: builtin-ua-2022}
outputs: {visibility_pairs: false}
"""

T0 = np.datetime64("2022-03-01T12:00:00", "ns").astype(np.int64)
S = 1_000_000_000


def timeline(events: str, base: str = BASE):
    data = yaml.safe_load(textwrap.dedent(base) + textwrap.dedent(events))
    model = leonet.build_model(leonet.scenario_from_dict(data))
    return model, model.timeline


def group_mask(model, name):
    return np.asarray(model.sites.group) == name


def test_builtin_provider_table_is_consistent():
    table = load_providers("builtin-ua-2022")
    assert {"Triolan", "Ukrtelecom", "Kyivstar"} <= set(table.providers)
    assert np.all(table.share.sum(axis=1) <= 1 + 1e-9)
    triolan = table.providers.index("Triolan")
    # Triolan's cities on the record (REFERENCE.md): Kyiv, Kharkiv, Dnipro, Poltava, Odesa, Rivne, Zaporizhzhia.
    cities = {table.cities[c] for c in np.flatnonzero(table.share[:, triolan] > 0)}
    assert cities == {"Kyiv", "Kharkiv", "Dnipro", "Poltava", "Odesa", "Rivne", "Zaporizhzhia"}


def test_isp_outage_lowers_the_ground_level_of_its_customers_only():
    model, tl = timeline("""
    events:
      - {name: triolan, type: isp_outage, providers: [Triolan], level: 0.15, start_s: 10, end_s: 40}
    """)
    share = load_providers("builtin-ua-2022")
    kyiv_share = share.share[share.cities.index("Kyiv"), share.providers.index("Triolan")]
    before, during, after = tl.state_at(T0), tl.state_at(T0 + 20 * S), tl.state_at(T0 + 40 * S)
    kyiv, lviv = group_mask(model, "Kyiv"), group_mask(model, "Lviv")
    np.testing.assert_allclose(during.ground_level[kyiv], 1 - kyiv_share * (1 - 0.15))
    assert np.all(during.ground_level[lviv] == 1.0)  # Triolan does not operate in Lviv
    assert np.all(before.ground_level == 1.0) and np.all(after.ground_level == 1.0)
    assert not during.terrestrial_down.any()  # a level, not on/off


def test_two_providers_down_compound_and_a_full_outage_is_down():
    model, tl = timeline("""
    events:
      - {name: a, type: isp_outage, providers: [Triolan, Ukrtelecom], start_s: 0}
      - {name: b, type: terrestrial_outage, start_s: 30, target: {groups: [Lviv]}}
    """)
    t = load_providers("builtin-ua-2022")
    c = t.cities.index("Kyiv")
    both = t.share[c, t.providers.index("Triolan")] + t.share[c, t.providers.index("Ukrtelecom")]
    st = tl.state_at(T0 + 40 * S)
    np.testing.assert_allclose(st.ground_level[group_mask(model, "Kyiv")], 1 - both)
    assert st.terrestrial_down[group_mask(model, "Lviv")].all()


def test_power_cut_takes_unbacked_dishes_now_and_backed_ones_when_backup_ends():
    model, tl = timeline("""
    events:
      - {name: grid, type: power_cut, start_s: 0, backup_share: 0.5, backup_hours: 4, level: 0.35,
         target: {groups: [Kyiv], seed: 7}}
    """)
    kyiv = group_mask(model, "Kyiv")
    early, late = tl.state_at(T0 + 3600 * S), tl.state_at(T0 + 5 * 3600 * S)
    dark_early = early.dish_offline[kyiv].mean()
    assert 0.2 < dark_early < 0.8          # about half had no backup (seeded draw of 20)
    assert late.dish_offline[kyiv].all()   # batteries flat after 4 h
    assert not late.dish_offline[~kyiv].any()
    np.testing.assert_allclose(early.ground_level[kyiv], 0.35)
    # Same seed, same dishes: a pure function of the event.
    _, tl2 = timeline("""
    events:
      - {name: grid, type: power_cut, start_s: 0, backup_share: 0.5, backup_hours: 4, level: 0.35,
         target: {groups: [Kyiv], seed: 7}}
    """)
    assert np.array_equal(tl2.state_at(T0 + 3600 * S).dish_offline, early.dish_offline)


def test_jamming_countermeasure_lands_after_its_delay():
    # jamming acts through the capacity model's link budget: it needs capacity
    _, tl = timeline("""
    events:
      - name: jam
        type: jamming
        start_s: 0
        jammer: {lat_deg: 50.4, lon_deg: 30.5, eirp_dbw: 30}
        countermeasure: {after_s: 30, rejection_db: 25}
    """, base=BASE + "capacity: {enabled: true, atmosphere: false}\n")
    assert tl.state_at(T0 + 10 * S).jammers[0].eirp_dbw == 30
    assert tl.state_at(T0 + 30 * S).jammers[0].eirp_dbw == pytest.approx(5)


def test_geofence_and_alt_network_wipe():
    model, tl = timeline("""
    events:
      - {name: fence, type: geofence, start_s: 20, target: {region: {circle: {lat_deg: 49.84, lon_deg: 24.03, radius_km: 40}}}}
      - {name: acidrain, type: alt_network_wipe, start_s: 0, alt_share: 0.1, move_share: 0.5, target: {groups: [Kyiv]}}
    """)
    st = tl.state_at(T0 + 30 * S)
    assert st.geofenced[group_mask(model, "Lviv")].all() and not st.geofenced[group_mask(model, "Kyiv")].any()
    kyiv = group_mask(model, "Kyiv")
    np.testing.assert_allclose(st.ground_level[kyiv], 0.9)
    np.testing.assert_allclose(st.demand_factor[kyiv], 1.05)
    assert not tl.state_at(T0).geofenced.any()


@pytest.mark.parametrize("event, needle", [
    ("{name: x, type: isp_outage, providers: [Trolian], start_s: 0}", "did you mean 'Triolan'"),
    ("{name: x, type: isp_outage, providers: [Triolan], cities: [Kiev], start_s: 0}", "unknown city 'Kiev'"),
    ("{name: x, type: gateway_loss, providers: [Triolan], start_s: 0, target: {groups: [Kyiv]}}", "providers applies to isp_outage"),
    ("{name: x, type: jamming, start_s: 0, jammer: {lat_deg: 1, lon_deg: 1, eirp_dbw: 1}, level: 0.5}", "level applies to"),
    ("{name: x, type: alt_network_wipe, start_s: 0}", "needs alt_share"),
])
def test_bad_events_are_named(event, needle):
    with pytest.raises(InputError) as err:
        timeline(f"events:\n  - {event}\n")
    assert needle in str(err.value)
    assert "events[0]" in str(err.value)


def test_isp_outage_needs_a_providers_table():
    base = BASE.replace("terrestrial: {providers: builtin-ua-2022}\n", "")
    with pytest.raises(InputError, match="needs terrestrial.providers"):
        timeline("events:\n  - {name: x, type: isp_outage, providers: [Triolan], start_s: 0}\n", base=base)


def test_provider_file_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "p.csv"
    bad.write_text("country,city,lat_deg,lon_deg,provider,share\nUA,Kyiv,50.4,30.5,A,0.7\nUA,Kyiv,50.4,30.5,B,0.6\n")
    with pytest.raises(InputError, match="add up to 1.3"):
        load_providers(str(bad))
    bad.write_text("country,city,lat_deg,lon_deg,provider,share\nUA,Kyiv,50.4,north,A,0.7\n")
    with pytest.raises(InputError) as err:
        load_providers(str(bad))
    assert "line 2" in str(err.value) and str(bad) in str(err.value)
    # two spellings of one provider split its customers (an event names one); a repeated row was summed
    bad.write_text("country,city,lat_deg,lon_deg,provider,share\nUA,Kyiv,50.4,30.5,Triolan,0.1\n"
                   "UA,Lviv,49.8,24.0,triolan,0.2\n")
    with pytest.raises(InputError, match="also written 'Triolan'") as err:
        load_providers(str(bad))
    assert err.value.location == "line 3"
    bad.write_text("country,city,lat_deg,lon_deg,provider,share\nUA,Kyiv,50.4,30.5,A,0.1\nUA,Kyiv,50.4,30.5,A,0.2\n")
    with pytest.raises(InputError, match="already given on line 2"):
        load_providers(str(bad))


def test_deliveries_give_the_share_of_the_dishes_delivered():
    model, tl = timeline("""
    events:
      - name: deliveries
        type: deliveries
        start_s: 0
        schedule: [[2022-03-01T12:00:00Z, 0.1], [2022-03-01T12:00:40Z, 0.5]]
        target: {groups: [Kyiv]}
    """)
    kyiv = group_mask(model, "Kyiv")
    np.testing.assert_allclose(tl.state_at(T0).delivered[kyiv], 0.1)
    np.testing.assert_allclose(tl.state_at(T0 + 20 * S).delivered[kyiv], 0.3)
    np.testing.assert_allclose(tl.state_at(T0 + 60 * S).delivered[kyiv], 0.5)
    assert np.all(tl.state_at(T0 + 20 * S).delivered[~kyiv] == 1.0)
    assert np.all(tl.state_at(T0).demand_factor == 1.0)    # a dish's own demand is not scaled
    with pytest.raises(InputError, match="dates must increase"):
        timeline("""
    events:
      - {name: d, type: deliveries, start_s: 0, schedule: [[2022-03-02T00:00:00Z, 0.5], [2022-03-01T00:00:00Z, 1.0]]}
    """)


def test_the_new_event_kinds_reach_the_dishes_in_a_run():
    """End to end on the step: geofenced dishes are GEOFENCED, unpowered ones OFFLINE, and an ISP
    outage lowers the dishes' ground_level (a share, not on/off)."""
    from leonet.sim.step import compute_chunk

    model, _ = timeline("""
    events:
      - {name: fence, type: geofence, start_s: 20, target: {groups: [Lviv]}}
      - {name: grid, type: power_cut, start_s: 0, end_s: 30, target: {groups: [Nowhere]}}
      - {name: triolan, type: isp_outage, providers: [Triolan], level: 0.15, start_s: 0}
    """)
    d = compute_chunk(model, model.t_ns)["dish_steps"].to_pandas()
    group = np.asarray(model.sites.group)[d["site"].to_numpy()]
    t_s = (d["t"] - d["t"].min()).dt.total_seconds().to_numpy()
    state = d["state"].astype(str).to_numpy()
    assert (state[(group == "Lviv") & (t_s >= 20)] == "GEOFENCED").all()
    assert not (state[(group == "Lviv") & (t_s < 20)] == "GEOFENCED").any()
    assert (state[(group == "Nowhere") & (t_s < 30)] == "OFFLINE").all()
    share = load_providers("builtin-ua-2022")
    kyiv_level = 1 - share.share[share.cities.index("Kyiv"), share.providers.index("Triolan")] * 0.85
    np.testing.assert_allclose(d["ground_level"].to_numpy()[group == "Kyiv"], kyiv_level, rtol=1e-6)
    assert (d["ground_online"].to_numpy()[group == "Kyiv"]).all()  # the majority still has ground internet


@pytest.mark.slow
def test_delivered_dishes_each_carry_a_whole_dishs_traffic(tmp_path):
    """With the service model, a site with 30 % of its dishes delivered has ~30 % of its dishes on
    (a binomial thinning per site and on/off period), each with a dish's own demand: the demand
    per dish on is that of the same run without deliveries (before Dec 2026 every dish stayed on
    with 30 % of its demand: a part-dish's figures)."""
    base = dict(yaml.safe_load(textwrap.dedent(BASE)))
    base["ground"]["dish_groups"] = [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 8,
                                      "dishes_per_site": 400, "radius_km": 10, "seed": 1}]
    base.update(capacity={"enabled": True}, service={"enabled": True},
                time={"start": "2022-03-01T18:00:00Z", "duration_s": 3_600, "step_s": 60})

    def run(events, name):
        r = leonet.run(leonet.scenario_from_dict({**base, "events": events}), out_dir=tmp_path / name)
        d = r.store.read("dish_steps").to_pandas()
        return d[d["state"].isin(["CONNECTED", "CONGESTED"])]

    full = run([], "full")
    part = run([{"name": "d", "type": "deliveries", "start_s": 0,
                 "schedule": [["2022-03-01T00:00:00Z", 0.3], ["2022-03-02T00:00:00Z", 0.3]]}], "part")
    on_share = part["dishes_on"].sum() / full["dishes_on"].sum()
    assert on_share == pytest.approx(0.3, abs=0.03), on_share
    per_dish = lambda d: (d["demand_down_bps"] * d["dishes_on"]).sum() / d["dishes_on"].sum()  # noqa: E731
    assert per_dish(part) == pytest.approx(per_dish(full), rel=0.05)


@pytest.mark.slow
def test_dish_time_counts_the_dishes_delivered(tmp_path):
    """A dish not yet delivered has no dish-time: dish_steps carries each row's delivered share,
    and the summary's lost dish-time, the day table's dish-hours and the planning metrics weigh
    each row by its site's dishes x that share (before Dec 2026 every dish counted from the
    first step). A share of 0 (before the schedule's first point) is a row of no weight."""
    from leonet.planning.metrics import region_metrics
    from leonet.results.summary import network_summary
    from leonet.results.timeline import daily_table

    base = dict(yaml.safe_load(textwrap.dedent(BASE)))
    base["ground"]["dish_groups"] = [
        {"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 4, "dishes_per_site": 50, "radius_km": 10, "seed": 1},
        {"name": "Lviv", "lat_deg": 49.84, "lon_deg": 24.03, "count": 2, "dishes_per_site": 30, "radius_km": 10, "seed": 2}]
    base["events"] = [
        {"name": "d", "type": "deliveries", "start_s": 0, "target": {"groups": ["Kyiv", "Lviv"]},
         "schedule": [["2022-03-01T12:00:20Z", 0.2], ["2022-03-01T12:01:00Z", 0.6]]},
        {"name": "bricked", "type": "dish_bricking", "start_s": 0, "target": {"groups": ["Lviv"]}}]
    r = leonet.run(leonet.scenario_from_dict(base), out_dir=tmp_path / "run")
    d = r.store.read("dish_steps").to_pandas()
    t_s = (d["t"] - d["t"].min()).dt.total_seconds().to_numpy()
    want = np.interp(t_s, [-1e9, 19.999, 20, 60], [0, 0, 0.2, 0.6])
    np.testing.assert_allclose(d["delivered"].to_numpy(), want, atol=1e-6)
    group = r.store.read("sites").to_pandas()["group"].to_numpy()[d["site"].to_numpy()]
    dishes = np.where(group == "Kyiv", 50, 30)
    lviv = d["state"].astype(str).to_numpy() == "OFFLINE"
    offline_s = float((dishes * want * 10.0)[lviv].sum())            # 10 s steps
    g = network_summary(r.store).by_group().set_index("group")
    assert g.loc["Lviv", "lost_s_OFFLINE"] == pytest.approx(offline_s, rel=1e-6)
    assert g.loc["Lviv", "dishes"] == 60 and g.loc["Kyiv", "dishes"] == 200   # the sites' dishes, all
    from leonet.results.compare import resilience_by_group

    res = resilience_by_group(r.store, 10.0)    # what compare and /api/v1/compare give per group
    assert res.loc["Kyiv", "dishes"] == 200 and res.loc["Lviv", "dishes"] == 60   # not the first rows' 0
    assert res.loc["Lviv", "lost_s_OFFLINE"] == pytest.approx(offline_s, rel=1e-6)
    day = daily_table(r.store)
    assert day["dish_hours"].sum() == pytest.approx(float((dishes * want * 10.0).sum()) / 3600, rel=1e-6)
    m = region_metrics(r.store)
    assert 0 <= m["availability"] <= 1
    # the app's picture of a moment counts the dishes there then
    from leonet.app.network import snapshot
    from leonet.app.run import RunData

    for step, share in ((0, 0.0), (2, 0.2), (4, 0.4)):              # 10 s steps
        shot = snapshot(RunData(r.store.root), step, None, 10, 10, 100).dishes
        assert sum(shot.dishes_by_state.values()) == round(260 * share), step


def test_a_baseline_keeps_the_deliveries_and_drops_the_threats():
    """The baseline measures what the events did: it keeps the fleet as it grows (deliveries) and
    drops the rest; a scenario whose only event is a delivery schedule has nothing to compare."""
    from leonet.sim.runner import baseline_scenario

    deliveries = {"name": "d", "type": "deliveries", "start_s": 0,
                  "schedule": [["2022-03-01T12:00:00Z", 0.5], ["2022-03-01T12:01:00Z", 1.0]]}
    strike = {"name": "grid", "type": "power_cut", "start_s": 0, "end_s": 30, "target": {"groups": ["Kyiv"]}}
    data = dict(yaml.safe_load(textwrap.dedent(BASE)))
    base = baseline_scenario(leonet.scenario_from_dict({**data, "events": [deliveries, strike]}))
    assert [e.type for e in base.events] == ["deliveries"] and base.name == "record-baseline"
    with pytest.raises(InputError, match="keeps deliveries"):
        baseline_scenario(leonet.scenario_from_dict({**data, "events": [deliveries]}))
