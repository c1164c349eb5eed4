"""Planning commands: regions, targets, study folders, sweeps and candidates (fixes found in
testing the planning commands on small scenarios)."""

import json
import math
import textwrap

import numpy as np
import pandas as pd
import pytest
import yaml

import leonet
from leonet.errors import InputError
from leonet.planning.capacity_limit import capacity_limit
from leonet.planning.contingency import contingency
from leonet.planning.metrics import binding_links, region_metrics
from leonet.planning.targets import parse_target
from leonet.planning.variants import Variant, run_variants

from test_planning import ONE_GATEWAY  # bent pipe over Kyiv: one gateway in reach, two far away

# The testers' scenario: Kyiv (3 sites) and Lviv (3 sites) on the 2023 European gateways, with
# capacity; Kyiv's 600 dishes a site fill their beams, Lviv's 154 fill one of theirs.
TWO_CITIES = """
name: two-cities
constellation: starlink-shell1
ground:
  dish_groups:
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 3, radius_km: 10, seed: 1, dishes_per_site: 600}
    - {name: Lviv, lat_deg: 49.84, lon_deg: 24.03, count: 3, radius_km: 10, seed: 2, dishes_per_site: 154}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 10, step_s: 10}
capacity: {enabled: true}
outputs: {visibility_pairs: false}
"""

ONE_CELL = """
name: one-cell
constellation: starlink-shell1
ground:
  dish_groups:
    - {name: Town, lat_deg: 50.45, lon_deg: 30.52, count: 1, radius_km: 0, seed: 1, dishes_per_site: 50}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 1, step_s: 1}
capacity: {enabled: true, atmosphere: false, demand: {down_mbps: 20, up_mbps: 1, activity: 1.0}}
outputs: {visibility_pairs: false}
"""


def scenario(text, tmp_path, **changes):
    data = yaml.safe_load(textwrap.dedent(text))
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split("__")
        for key in path:
            node = node.setdefault(key, {})
        node[last] = value
    return leonet.scenario_from_dict(data, base_dir=tmp_path)


# 1. The binding link is one the region's dishes use.

@pytest.mark.slow
def test_binding_links_keep_to_the_region(tmp_path):
    run = leonet.run(scenario(TWO_CITIES, tmp_path), out_dir=tmp_path / "run")
    d = run.store.read("dish_steps", columns=["site", "serving_sat"]).to_pandas()
    group = run.store.read("sites", columns=["group"]).column("group").to_numpy(zero_copy_only=False)
    serving = {g: set(d.loc[group[d["site"]] == g, "serving_sat"]) for g in ("Kyiv", "Lviv")}
    assert serving["Kyiv"] != serving["Lviv"]  # the case: each city on its own satellite's beams
    for g in ("Kyiv", "Lviv"):
        found = binding_links(run.store, [g])
        assert found, g  # each city fills a beam of its own
        for b in found:
            assert b["kind"] == "beam"
            sat = int(b["element"].split(",")[0].split()[1])
            assert sat in serving[g], (g, b)  # never the other city's beam
    # the whole region sees both cities' beams
    assert {int(b["element"].split(",")[0].split()[1]) for b in binding_links(run.store, None, top=10)} \
        == serving["Kyiv"] | serving["Lviv"]


# 2. A region without dishes is refused before anything runs.

def test_groups_that_select_no_dishes_are_refused_before_running(tmp_path):
    base = scenario(TWO_CITIES, tmp_path)
    with pytest.raises(InputError) as err:
        contingency(base, "pops", tmp_path / "c", groups=["Europe"])  # the gateways' and PoPs' group
    assert "--groups" in str(err.value) and "not of dishes" in str(err.value) and "Kyiv, Lviv" in str(err.value)
    with pytest.raises(InputError, match="did you mean 'Kyiv'"):
        contingency(base, "gateways", tmp_path / "c", groups=["Kyv"])
    with pytest.raises(InputError, match=r"--kind: unknown kind 'gateway' \(did you mean 'gateways'\?\)"):
        contingency(base, "gateway", tmp_path / "c")
    with pytest.raises(InputError, match="--groups"):
        run_variants(base, [Variant("a")], tmp_path / "v", groups=["Odesa"])
    with pytest.raises(InputError, match="sweep.groups"):
        run_variants(base, [Variant("a")], tmp_path / "v", groups=["Odesa"], groups_where="sweep.groups")
    with pytest.raises(InputError, match="--groups"):
        capacity_limit(base, parse_target("availability>=0.9"), tmp_path / "l", groups=["Europe"])
    stations = yaml.safe_load(textwrap.dedent(TWO_CITIES))
    del stations["ground"]["dish_groups"]
    stations = leonet.scenario_from_dict(stations, base_dir=tmp_path)
    with pytest.raises(InputError, match="planning metrics are over dishes"):
        contingency(stations, "planes", tmp_path / "p")
    assert not (tmp_path / "c" / "variants").exists() and not (tmp_path / "p" / "variants").exists()
    assert not (tmp_path / "v" / "variants").exists()


# 3. Throughput targets need the capacity model.

def test_throughput_metrics_without_capacity_are_refused_before_running(tmp_path):
    from leonet.planning.placement import grid_candidates, place_gateways

    nocap = scenario(TWO_CITIES, tmp_path, capacity__enabled=False)
    with pytest.raises(InputError, match="--target: p10_down_mbps needs the capacity model"):
        capacity_limit(nocap, parse_target("p10_down_mbps>=1"), tmp_path / "l")
    with pytest.raises(InputError, match="--metric: p10_down_mbps needs the capacity model"):
        place_gateways(nocap, grid_candidates("48,20,52,24,2"), 1, tmp_path / "p", metric="p10_down_mbps")
    # availability needs no capacity model, but without one the dish count shares nothing: the search ran
    # 19 variants to say "still holds at 1,000,000 dishes"
    with pytest.raises(InputError, match=r"capacity.enabled: the number of dishes changes nothing without the capacity"):
        capacity_limit(nocap, parse_target("availability>=0.99"), tmp_path / "l")
    assert not (tmp_path / "l").exists() and not (tmp_path / "p").exists()


def test_max_dishes_beyond_what_the_scenario_holds_is_refused_before_running(tmp_path, monkeypatch):
    """--max-dishes 10,000,000,000 ran 20 variants, then stopped on an internal override's bound;
    now it is refused at once, naming --max-dishes and the largest count that fits. A study that
    fails in a later round says that its folder is left unfinished."""
    import leonet.planning.capacity_limit as cl

    base = scenario(TWO_CITIES, tmp_path)  # Kyiv: 3 sites of 600, Lviv 3 of 154: 2,262 dishes
    with pytest.raises(InputError) as err:
        capacity_limit(base, parse_target("availability>=0.5"), tmp_path / "l", max_dishes=10_000_000_000)
    text = str(err.value)
    assert "--max-dishes" in text and "dishes_per_site" in text and "1,000,000" in text
    assert "3,770,000" in text  # Kyiv's 600 a site reach 1,000,000 at 2,262 x 1,000,000 / 600
    assert not (tmp_path / "l").exists()

    calls = []

    def first_ok_then_bad(base_, todo, study_dir, **kwargs):
        import pandas as pd

        calls.append(1)
        if len(calls) > 1:
            raise InputError("a variant is refused", location="ground")
        return pd.DataFrame([{"variant": v.name, "dishes": v.labels["dishes"], "results": "", "availability": 1.0}
                             for v in todo])

    monkeypatch.setattr(cl, "run_variants", first_ok_then_bad)
    with pytest.raises(InputError, match="stopped unfinished: .* holds the 1 count"):
        capacity_limit(base, parse_target("availability>=0.5"), tmp_path / "m", max_dishes=100_000)


# 4. contingency --kind events takes each event out of the scenario as it is.

@pytest.mark.slow
def test_contingency_events_takes_each_event_out(tmp_path):
    base = scenario(ONE_GATEWAY, tmp_path, events=[
        {"name": "near-lost", "type": "gateway_loss", "start_s": 0, "target": {"sites": ["gw-near"]}},
        {"name": "far-lost", "type": "gateway_loss", "start_s": 0, "target": {"sites": ["gw-far-1"]}}])
    ranked = contingency(base, "events", tmp_path / "ev")
    table = pd.read_parquet(tmp_path / "ev" / "variants.parquet").set_index("variant")
    assert table.loc["base", "availability"] == 0.0          # as is: the gateway in reach is lost
    by = ranked.set_index("variant")
    assert by.loc["near-lost", "delta_availability"] == pytest.approx(1.0)  # taking it out restores Kyiv
    assert by.loc["far-lost", "delta_availability"] == 0.0   # the other stays: still cut off
    assert list(ranked["variant"]) == ["far-lost", "near-lost"]  # worst first
    kept = yaml.safe_load((tmp_path / "ev" / "variants" / "near-lost" / "scenario.yaml").read_text())
    assert [e["name"] for e in kept["events"]] == ["far-lost"]
    from leonet.planning.report import write_study_report

    assert "events taken out" in write_study_report(tmp_path / "ev").read_text()


# 5. The study folder keeps every round and the answer.

@pytest.mark.slow
def test_capacity_limit_study_keeps_every_round_and_the_answer(tmp_path):
    from leonet.planning.report import write_study_report

    base = scenario(ONE_CELL, tmp_path)
    res = capacity_limit(base, parse_target("p10_down_mbps>=19.999"), tmp_path / "cl", max_dishes=80)
    assert res.fails_at is not None and res.binding
    table = pd.read_parquet(tmp_path / "cl" / "variants.parquet")
    assert sorted(table["dishes"]) == [n for n, _ in res.tried] and len(res.tried) > 2
    meta = json.loads((tmp_path / "cl" / "study.json").read_text())
    assert sorted(meta["variants"]) == sorted(table["variant"])
    result = meta["result"]
    assert (result["dishes"], result["fails_at"]) == (res.dishes, res.fails_at)
    assert result["binding"] == res.binding and result["target"] == ["p10_down_mbps>=19.999"]
    text = write_study_report(tmp_path / "cl").read_text()
    assert f"At most <b>{res.dishes}</b> dishes" in text and res.binding[0]["element"] in text
    assert f"dishes-{res.fails_at}" in text and "dishes-50" in text


# 6. A sweep over a list-valued field.

def test_sweep_summary_groups_list_values(tmp_path):
    from leonet.planning.sweep import SweepSpec, summarise, sweep_variants

    spec = SweepSpec.model_validate({"metrics": ["availability"], "parameters": [
        {"field": "network.bent_pipe_only_gateways", "values": [[], ["gw-near"]]}]})
    labels = [v.labels["network.bent_pipe_only_gateways"] for v in sweep_variants(spec, scenario(ONE_GATEWAY, tmp_path))]
    assert labels == ["[]", '["gw-near"]']
    raw = pd.DataFrame({"network.bent_pipe_only_gateways": [[], ["gw-near"], ["gw-near"]], "availability": [1.0, 0.5, 0.7]})
    summary = summarise(raw, spec)
    assert summary["network.bent_pipe_only_gateways"].tolist() == ["[]", '["gw-near"]']
    assert summary["draws"].tolist() == [1, 2] and summary["mean"].tolist() == pytest.approx([1.0, 0.6])


@pytest.mark.slow
def test_sweep_over_a_list_valued_field_runs(tmp_path):
    from leonet.planning.sweep import SweepSpec, run_sweep

    spec = SweepSpec.model_validate({"metrics": ["availability"], "parameters": [
        {"field": "network.bent_pipe_only_gateways", "values": [[], ["gw-near"]]}]})
    table, summary = run_sweep(spec, scenario(ONE_GATEWAY, tmp_path), tmp_path / "sw")
    assert len(table) == 2 and len(summary) == 2
    assert pd.read_parquet(tmp_path / "sw" / "summary.parquet")["network.bent_pipe_only_gateways"].tolist() \
        == ["[]", '["gw-near"]']


# 7. Targets: percentages only on shares, impossible bounds refused.

def test_targets_refuse_percent_on_non_shares_and_impossible_bounds():
    assert parse_target("availability>=99%")[0].value == pytest.approx(0.99)
    assert parse_target("unmet_demand<=1%")[0].value == pytest.approx(0.01)
    for bad, needle in (("p10_down_mbps>=25%", "not a share"), ("rtt_p50_ms<=5%", "not a share"),
                        ("rtt_p50_ms<=-5", "never negative"), ("p10_down_mbps>=-1", "never negative"),
                        ("unmet_demand<0", "can never be met"), ("availability>1", "can never be met"),
                        ("rtt_p95_ms<0", "can never be met")):
        with pytest.raises(InputError, match=needle) as err:
            parse_target(bad)
        assert "--target" in str(err.value)


# 8. The planning quantile is the readers' one.

def test_planning_quantile_is_the_readers():
    from leonet.planning import metrics
    from leonet.results import quantiles

    assert metrics.weighted_quantile is quantiles.weighted_quantile
    values = np.array([10.0, 20.0, 30.0, 40.0])
    assert metrics.weighted_quantile(values, np.ones(4), 0.5) == 25.0  # interpolated, as pandas


@pytest.mark.slow
def test_planning_rtt_equals_the_summary(tmp_path):
    from leonet.results.summary import network_summary

    base = scenario(ONE_GATEWAY, tmp_path, ground__dish_groups=[
        {"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 4, "radius_km": 20, "seed": 1,
         "dishes_per_site": 5}])
    run = leonet.run(base, out_dir=tmp_path / "run")
    ours = region_metrics(run.store, ["Kyiv"])
    theirs = network_summary(run.store).by_group().set_index("group").loc[["Kyiv"]]
    rtt = run.store.read("dish_steps", columns=["rtt_ms"]).column("rtt_ms").to_numpy()
    assert len(np.unique(rtt[np.isfinite(rtt)])) > 1
    assert ours["rtt_p50_ms"] == pytest.approx(float(theirs["rtt_p50_ms"].iloc[0]), rel=1e-12)
    assert ours["rtt_p95_ms"] == pytest.approx(float(theirs["rtt_p95_ms"].iloc[0]), rel=1e-12)
    assert ours["rtt_p50_ms"] == pytest.approx(float(np.quantile(rtt[np.isfinite(rtt)], 0.5)), rel=1e-6)


# 9. draws without random draws.

def test_draws_without_random_draws_are_refused(tmp_path):
    from leonet.planning.sweep import read_sweep

    f = tmp_path / "s.yaml"
    f.write_text("sweep: {draws: 3, parameters: [{field: visibility.min_elevation_deg, values: [25]}]}\n")
    with pytest.raises(InputError, match=r"draws: 3 .* has none") as err:
        read_sweep(f)
    assert str(f) in str(err.value)
    f.write_text("sweep: {draws: 1, parameters: [{field: visibility.min_elevation_deg, values: [25, 30]}]}\n")
    assert read_sweep(f).n_variants() == 2


def test_sweep_files_are_read_with_the_scenario_limits(tmp_path):
    """A sweep file is parsed as a scenario file is: an alias bomb, deep nesting and a key given
    twice are refused at once, as are ranges and draw bounds no run can use (.inf, .nan, a step
    too small), before any value is generated."""
    from leonet.planning.sweep import read_sweep

    f = tmp_path / "s.yaml"
    bomb = "defs:\n  - &a0 [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"  - &a{k} [{','.join([f'*a{k - 1}'] * 9)}]\n" for k in range(1, 8))
    cases = {
        bomb + "sweep:\n  parameters:\n    - {field: description, values: [*a7]}\n": "more than 5,000,000 values",
        "sweep: " + "[" * 500 + "]" * 500 + "\n": "nest",
        "sweep:\n  parameters:\n    - {field: a, values: [25]}\n  parameters:\n    - {field: a, values: [30]}\n":
            "'parameters' is given twice",
        "sweep: {parameters: [{field: a, range: {start: 0, stop: .inf, step: 1}}]}\n": "finite",
        "sweep: {parameters: [{field: a, range: {start: 0, stop: 1e10, step: 1e-300}}]}\n": "at most 10,000",
        "sweep: {random: [{kind: jammer, circle: {lat_deg: 50, lon_deg: 30, radius_km: 10}, "
        "eirp_dbw: [.nan, .nan]}]}\n": "finite",
        "sweep: {random: [{kind: jammer, circle: {lat_deg: 50, lon_deg: 30, radius_km: 10}, "
        "eirp_dbw: [-1e308, 1e308]}]}\n": "greater than or equal",
    }
    for text, words in cases.items():
        f.write_text(text)
        with pytest.raises(InputError, match=words) as err:
            read_sweep(f)
        assert str(f) in str(err.value)


# 10. Candidates: finite grids, rows as wide as the header, elevation_m used.

def test_candidates_refuse_bad_grids_rows_and_columns(tmp_path):
    from leonet.planning.placement import _with_gateways, grid_candidates, read_candidates

    for spec in ("1,2,3,4,inf", "1,2,3,nan,1", "-inf,2,3,4,1"):
        with pytest.raises(InputError, match="--grid: every number must be finite"):
            grid_candidates(spec)
    f = tmp_path / "c.csv"
    f.write_text("name,lat_deg,lon_deg\nB,51,21\nA,50,20,extra\n")
    with pytest.raises(InputError, match="line 3: expected 3 field"):
        read_candidates(f)
    f.write_text("name,lat_deg,lon_deg,height_m\nA,50,20,3\n")
    with pytest.raises(InputError, match="line 1: unknown column.*'height_m'"):
        read_candidates(f)
    f.write_text("name,lat_deg,lon_deg,elevation_m\nA,50,20,350\nB,51,21,0\n")
    cands = read_candidates(f)
    assert [c.elevation_m for c in cands] == [350.0, 0.0]
    ground = _with_gateways({"ground": {"sites": []}}, cands[:1])
    assert ground["sites"][0]["elevation_m"] == 350.0
    f.write_text("name,lat_deg,lon_deg,elevation_m\nA,50,20,high\n")
    with pytest.raises(InputError, match="line 2: elevation_m must be a number"):
        read_candidates(f)


# 11. The jammer's longitude label is where it stands.

def test_jammer_longitude_label_is_wrapped(tmp_path):
    from leonet.planning.sweep import SweepSpec, sweep_variants

    spec = SweepSpec.model_validate({"seed": 2, "draws": 12, "random": [
        {"kind": "jammer", "circle": {"lat_deg": 60.0, "lon_deg": 179.9, "radius_km": 200}}]})
    variants = sweep_variants(spec, scenario(ONE_GATEWAY, tmp_path))
    lons = [v.labels["random0_lon_deg"] for v in variants]
    assert any(lon < 0 for lon in lons)  # some draws cross the antimeridian
    for v, lon in zip(variants, lons):
        assert -180 <= lon < 180
        jammer = next(e for e in v.add_events if e["name"] == "sweep-jammer-0")["jammer"]
        assert jammer["lon_deg"] == pytest.approx(lon, abs=1e-6)
        assert math.isfinite(v.labels["random0_lat_deg"])


def test_jammers_drawn_near_a_pole_stay_on_the_globe(tmp_path):
    # A flat offset ran past the pole (latitude 90.8); along a great circle every draw stays within
    # the circle and at most 90 deg.
    from leonet.ground.geodesy import great_circle_distance_m
    from leonet.planning.sweep import SweepSpec, sweep_variants

    spec = SweepSpec.model_validate({"seed": 3, "draws": 40, "random": [
        {"kind": "jammer", "circle": {"lat_deg": 89.5, "lon_deg": 10.0, "radius_km": 200}}]})
    for v in sweep_variants(spec, scenario(ONE_GATEWAY, tmp_path)):
        lat, lon = v.labels["random0_lat_deg"], v.labels["random0_lon_deg"]
        assert -90 <= lat <= 90 and -180 <= lon < 180
        assert great_circle_distance_m(89.5, 10.0, lat, lon) <= 200e3 + 1.0


def test_a_studys_progress_counts_on_across_its_rounds():
    from leonet.planning.variants import RunningProgress

    seen = []
    running = RunningProgress(lambda d, t: seen.append((d, t)))
    for batch in (3, 2):
        for done in range(batch + 1):
            running(done, batch)
        running.batch_done(batch)
    assert seen[-1] == (5, 5) and seen[3] == (3, 3) and seen[4] == (3, 5)   # the second round starts at 3 of 5
    RunningProgress(None)(1, 2)   # no bar: nothing to call


def test_sweep_file_errors_name_line_and_suggest_the_field(tmp_path):
    """A misspelt field is named with its line and the field meant; a second section is refused
    (never ignored); the field list is given where nothing is close."""
    from leonet.planning.sweep import read_sweep

    f = tmp_path / "s.yaml"
    cases = {
        "sweep:\n  draws: 1\n  parameters:\n    - field: visibility.min_elevation_deg\n      valuse: [1, 2]\n":
            "sweep.parameters[0].valuse (line 5): unknown field (did you mean 'values'?)",
        "sweep:\n  parameters: [{field: a, values: [1]}]\nsweeps: 1\n":
            "sweeps (line 3): unknown section",
        "sweep:\n  parameters: [{field: a, values: [1]}]\n  zzzz: 1\n":
            "sweep.zzzz (line 3): unknown field (its fields: seed, draws, groups, parameters, random, metrics)",
        "sweep:\n  parameters:\n    - {field: a, range: {start: 0, stop: 1}}\n":
            "sweep.parameters[0].range.step (line 3): required field is missing",
    }
    for text, words in cases.items():
        f.write_text(text)
        with pytest.raises(InputError) as err:
            read_sweep(f)
        assert str(f) in str(err.value) and words in str(err.value), str(err.value)


def test_a_parameter_value_the_scenario_refuses_names_the_sweep_file(tmp_path):
    """Not "(from --set)": the user set nothing on the command line."""
    from leonet.planning.sweep import read_sweep, sweep_variants
    from leonet.planning.variants import scenario_data, scenario_for

    f = tmp_path / "s.yaml"
    f.write_text("sweep:\n  parameters:\n    - {field: capacity.demand.activty, values: [0.1]}\n"
                 "    - {field: visibility.min_elevation_deg, values: [2000]}\n")
    spec = read_sweep(f)
    base = leonet.load_scenario("ukraine-2022", overrides={"time.duration_s": 60})
    (variant,) = sweep_variants(spec, base)
    with pytest.raises(InputError) as err:
        scenario_for(scenario_data(base), base.base_dir, variant)
    msg = str(err.value)
    assert f"visibility.min_elevation_deg (from sweep.parameters[1] in {f})" in msg
    assert f"capacity.demand.activty (from sweep.parameters[0] in {f})" in msg and "did you mean 'activity'" in msg
    assert "--set" not in msg
