"""Planning commands, second round of fixes: capacity-limit's search on targets that are not
monotone in the dish count (demand-driven throughput, undefined metrics), the sweep table's draws
and intervals, and the progress and stopping of contingency and placement.

The searches and rankings are checked on a stand-in for the runs (``run_variants`` replaced by a
function of the variant), so each test runs no simulation and knows the answer by construction.
"""

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import leonet
from leonet.errors import InputError
from leonet.planning import capacity_limit as cl_module
from leonet.planning import contingency as cont_module
from leonet.planning import placement as place_module
from leonet.planning import sweep as sweep_module
from leonet.planning.capacity_limit import capacity_limit
from leonet.planning.metrics import METRICS
from leonet.planning.targets import parse_target

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow

# Three sites of one dish each (resolution 3 dishes), capacity on: nothing here is simulated.
TOWN = """
name: town
constellation: starlink-shell1
ground:
  dish_groups:
    - {name: Town, lat_deg: 50.45, lon_deg: 30.52, count: 3, radius_km: 5, seed: 1, dishes_per_site: 1}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 1, step_s: 1}
capacity: {enabled: true}
outputs: {visibility_pairs: false}
"""


def town(tmp_path, dishes_per_site=1, events=None):
    data = yaml.safe_load(textwrap.dedent(TOWN))
    data["ground"]["dish_groups"][0]["dishes_per_site"] = dishes_per_site
    if events:
        data["events"] = events
    return leonet.scenario_from_dict(data, base_dir=tmp_path)


def _nan_metrics() -> dict:
    return {m: float("nan") for m in METRICS}


class FakeRuns:
    """``run_variants`` without running: each variant's metrics are ``metrics_of(variant)``; the
    study folder gets the table and study.json that the real engine writes, and progress is
    reported the same way (0 of n, then each variant)."""

    def __init__(self, metrics_of):
        self.metrics_of = metrics_of
        self.calls = []
        self.rows = []

    def __call__(self, base, variants, study_dir, *, groups=None, workers=1, dask=None, kind="study",
                 progress=None, max_variants=None, append=False, groups_where="--groups"):
        self.calls.append([v.name for v in variants])
        root = Path(study_dir)
        root.mkdir(parents=True, exist_ok=True)
        if progress:
            progress(0, len(variants))
        rows = []
        for k, v in enumerate(variants):
            rows.append({"variant": v.name, **v.labels, **_nan_metrics(), **self.metrics_of(v), "path": "independent",
                         "results": str(root / "variants" / v.name)})
            if progress:
                progress(k + 1, len(variants))
        table = pd.DataFrame(rows)
        if not append:
            self.rows = []
        self.rows = [r for r in self.rows if r["variant"] not in set(table["variant"])] + rows
        pd.DataFrame(self.rows).to_parquet(root / "variants.parquet", index=False)
        meta_path = root / "study.json"
        meta = json.loads(meta_path.read_text()) if append and meta_path.exists() else {}
        meta.update({"kind": kind, "base": base.name, "groups": groups, "variants": [r["variant"] for r in self.rows]})
        meta_path.write_text(json.dumps(meta))
        return table


def fake_capacity(monkeypatch, metrics_of_dishes):
    fake = FakeRuns(lambda v: metrics_of_dishes(v.labels["dishes"]))
    monkeypatch.setattr(cl_module, "run_variants", fake)
    monkeypatch.setattr(cl_module, "binding_links", lambda *a, **k: [])
    return fake


def demand_driven_p10(n: int) -> dict:
    """Delivered p10 as the calibrated traffic gives it: 0 Mbps while sites of few dishes are idle
    at most steps, about 3 Mbps from 24 dishes on, falling once the beam fills (above 200)."""
    p10 = 0.0 if n < 24 else 3.0 if n <= 200 else 2.0
    return {"p10_down_mbps": p10, "availability": 1.0, "unmet_demand": 0.0 if n <= 200 else 0.2}


# 1. A target that more dishes meet better is not called "fails even at one dish per site".

def test_a_failing_start_also_tries_more_dishes_and_says_not_monotone(tmp_path, monkeypatch):
    fake_capacity(monkeypatch, demand_driven_p10)
    res = capacity_limit(town(tmp_path), parse_target("p10_down_mbps>=3"), tmp_path / "cl", max_dishes=1000)
    tried = dict(res.tried)
    assert tried[3] is False and tried[24] is True   # the start fails, a larger count meets
    assert res.outcome == "not-monotone"
    text = " ".join(cl_module.describe(res.as_dict()))
    assert "not monotone" in text and "no limit is claimed" in text
    assert "3" in text and "24" in text and "fails even" not in text
    assert "p10_down_mbps: delivered traffic" in text  # why: a demand-driven metric
    result = json.loads((tmp_path / "cl" / "study.json").read_text())["result"]
    assert result["outcome"] == "not-monotone" and result["start"] == 3


def test_a_meeting_start_checks_one_dish_per_site(tmp_path, monkeypatch):
    # the scenario's 30 dishes meet p10>=3, one dish per site (3) does not: fewer are worse off
    fake_capacity(monkeypatch, demand_driven_p10)
    res = capacity_limit(town(tmp_path, dishes_per_site=10), parse_target("p10_down_mbps>=3"), tmp_path / "cl",
                         max_dishes=1000)
    tried = dict(res.tried)
    assert tried[3] is False and tried[30] is True
    assert res.outcome == "not-monotone"
    assert res.dishes == 198 and res.fails_at == 201   # the largest count found to meet, named as such
    assert "of the counts tried the largest that meets it is 198" in " ".join(cl_module.describe(res.as_dict()))


def test_a_monotone_target_still_bisects(tmp_path, monkeypatch):
    # unmet demand grows with the count: 30 fail, the limit is 9 (12 fail), larger counts fail too
    fake_capacity(monkeypatch, lambda n: {"unmet_demand": n / 100, "availability": 1.0})
    res = capacity_limit(town(tmp_path, dishes_per_site=10), parse_target("unmet_demand<=0.1"), tmp_path / "cl",
                         max_dishes=120)
    assert (res.outcome, res.dishes, res.fails_at) == ("limit", 9, 12)
    # more dishes were tried first: 60 was worse than 30 (more load), so the search looked no higher
    assert max(n for n, _ in res.tried) == 60 and res.no_better == ["unmet_demand"]
    lines = cl_module.describe(res.as_dict())
    assert lines[0].startswith("At most 9 dishes meet unmet_demand<=0.1; 12 do not")
    assert lines[1] == ("More dishes than the scenario's 30 were tried too, up to 60: none meets it (unmet_demand "
                        "got no better with more dishes, so the search looked no higher).")


def test_a_demand_driven_target_doubles_up_to_max_dishes(tmp_path, monkeypatch):
    # delivered p10 falls with the load here, but a demand-driven metric never stops the doubling
    fake_capacity(monkeypatch, lambda n: {"p10_down_mbps": 30 / n})
    res = capacity_limit(town(tmp_path, dishes_per_site=10), parse_target("p10_down_mbps>=2"), tmp_path / "cl",
                         max_dishes=240)
    assert max(n for n, _ in res.tried) == 240 and res.no_better == []
    assert (res.outcome, res.dishes, res.fails_at) == ("limit", 15, 18)
    assert "up to 240: none meets it (doubling up to --max-dishes 240)" in " ".join(cl_module.describe(res.as_dict()))


def test_the_search_never_runs_more_than_max_dishes(tmp_path, monkeypatch):
    # 7 sites: doubling 7 -> 14 -> 25 rounds to 4 a site, 28 dishes, past --max-dishes 25
    fake = fake_capacity(monkeypatch, lambda n: {"p10_down_mbps": 0.0})
    data = yaml.safe_load(textwrap.dedent(TOWN))
    data["ground"]["dish_groups"][0]["count"] = 7
    base = leonet.scenario_from_dict(data, base_dir=tmp_path)
    res = capacity_limit(base, parse_target("p10_down_mbps>=2"), tmp_path / "cl", max_dishes=25)
    assert max(n for n, _ in res.tried) == 21 and res.outcome == "fails"
    assert all(int(name.split("-")[1]) <= 25 for call in fake.calls for name in call)


def test_a_count_without_demand_is_undefined_not_a_failure(tmp_path, monkeypatch):
    # 3 dishes ask for nothing in the window (unmet_demand NaN); 6 to 15 meet, 18 and more do not
    fake_capacity(monkeypatch, lambda n: {"unmet_demand": float("nan") if n < 6 else (0.0 if n <= 15 else 0.5),
                                          "availability": 1.0})
    res = capacity_limit(town(tmp_path), parse_target("unmet_demand<=0.01,availability>=0.99"), tmp_path / "cl",
                         max_dishes=1000)
    assert (res.outcome, res.dishes, res.fails_at) == ("limit", 15, 18)
    assert res.undefined == [(3, ["unmet_demand"])]
    lines = cl_module.describe(res.as_dict())
    assert lines[0].startswith("At most 15 dishes meet")
    assert any("unmet_demand is undefined (NaN) at 3 dishes" in line and "no downlink" in line for line in lines)
    tried = json.loads((tmp_path / "cl" / "study.json").read_text())["result"]["tried"]
    assert {"dishes": 3, "met": False, "undefined": True} in tried


def test_a_target_no_count_meets_names_the_counts_tried(tmp_path, monkeypatch):
    fake_capacity(monkeypatch, lambda n: {"p10_down_mbps": min(5.0, n / 10)})
    res = capacity_limit(town(tmp_path, dishes_per_site=10), parse_target("p10_down_mbps>=25"), tmp_path / "cl",
                         max_dishes=100)
    assert res.outcome == "fails" and res.dishes == 0
    assert [n for n, _ in res.tried][0] == 3 and max(n for n, _ in res.tried) == 99
    assert cl_module.describe(res.as_dict())[0] == ("p10_down_mbps>=25 fails at every count tried, from one dish per site "
                                          "to 99 dishes: no count tried meets it.")


# 3. --max-dishes below the scenario's own count.

def test_max_dishes_below_the_scenarios_count_is_refused(tmp_path, monkeypatch):
    fake = fake_capacity(monkeypatch, lambda n: {"availability": 1.0})
    with pytest.raises(InputError, match=r"below the scenario's own count .*\(30\)") as err:
        capacity_limit(town(tmp_path, dishes_per_site=10), parse_target("availability>=0.9"), tmp_path / "cl",
                       max_dishes=10)
    assert "--max-dishes" in str(err.value)
    assert fake.calls == []                       # refused before anything ran
    res = capacity_limit(town(tmp_path, dishes_per_site=10), parse_target("availability>=0.9"), tmp_path / "cl2",
                         max_dishes=30)
    assert res.outcome == "holds" and res.dishes == 30
    assert res.tried == [(3, True), (30, True)]   # one dish per site checked even at the limit
    assert cl_module.describe(res.as_dict())[0] == ("availability>=0.9 still holds at 30 dishes, the most the search tried "
                                          "(--max-dishes 30).")


# The command: what the terminal and the report say.

def _scenario_file(tmp_path, dishes_per_site=1) -> Path:
    data = yaml.safe_load(textwrap.dedent(TOWN))
    data["ground"]["dish_groups"][0]["dishes_per_site"] = dishes_per_site
    path = tmp_path / "town.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _invoke(args):
    from typer.testing import CliRunner

    from leonet.cli import app

    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    return " ".join(r.output.split())


def test_capacity_limit_command_says_not_monotone(tmp_path, monkeypatch):
    fake_capacity(monkeypatch, demand_driven_p10)
    out = _invoke(["capacity-limit", str(_scenario_file(tmp_path)), "--target", "p10_down_mbps>=3",
                   "--max-dishes", "1000", "-o", str(tmp_path / "cl")])
    assert "fails even at one dish per site" not in out
    assert "town (all dishes): p10_down_mbps>=3 is not monotone in the number of dishes" in out
    assert "3✗" in out and "24✓" in out
    report = (tmp_path / "cl" / "report.html").read_text()
    assert "is not monotone in the number of dishes" in report


def test_capacity_limit_command_marks_undefined_counts(tmp_path, monkeypatch):
    fake_capacity(monkeypatch, lambda n: {"unmet_demand": float("nan") if n < 6 else (0.0 if n <= 15 else 0.5),
                                          "availability": 1.0})
    out = _invoke(["capacity-limit", str(_scenario_file(tmp_path)), "--target", "unmet_demand<=0.01",
                   "-o", str(tmp_path / "cl")])
    assert "town (all dishes): at most 15 dishes meet unmet_demand<=0.01; 18 do not" in out
    assert "Tried: 3?, 6✓" in out and "(? undefined)" in out
    assert "unmet_demand: 0 at 15; 0.5 at 18" in out


# 2. The sweep's table: the draws each figure averages, intervals inside the metric's range.

def _draws_table() -> pd.DataFrame:
    # 6 draws; in two of them no dish connects (no RTT, no availability to speak of)
    rtt = [40.0, 41.0, float("nan"), 42.0, float("nan"), 40.5]
    availability = [1.0, 1.0, 0.9, 1.0, 0.95, 1.0]
    unmet = [0.0, 0.0, 0.05, 0.0, 0.02, 0.0]
    return pd.DataFrame({"variant": [f"base#draw{k}" for k in range(6)], "draw": range(6),
                         "availability": availability, "rtt_p50_ms": rtt, "unmet_demand": unmet,
                         "p10_down_mbps": [0.0, 0.0, 0.0, 0.0, 0.0, 3.0]})


def _spec():
    from leonet.planning.sweep import SweepSpec

    return SweepSpec.model_validate({"seed": 1, "draws": 6, "metrics": ["availability", "rtt_p50_ms", "unmet_demand",
                                                                         "p10_down_mbps"],
                                     "random": [{"kind": "jammer", "circle": {"lat_deg": 50, "lon_deg": 30,
                                                                              "radius_km": 10}}]})


def test_sweep_intervals_stay_in_the_metrics_range():
    from leonet.planning.sweep import summarise

    s = summarise(_draws_table(), _spec()).set_index("metric")
    assert s.loc["rtt_p50_ms", "draws"] == 4 and s.loc["availability", "draws"] == 6
    assert s.loc["availability", "ci95_high"] == 1.0 and s.loc["availability", "ci95_clipped"]
    assert s.loc["unmet_demand", "ci95_low"] == 0.0 and s.loc["p10_down_mbps", "ci95_low"] == 0.0
    assert bool(s.loc["unmet_demand", "ci95_clipped"]) and not s.loc["rtt_p50_ms", "ci95_clipped"]
    # the unclipped ends are Student's t's
    from scipy import stats

    v = _draws_table()["availability"].to_numpy()
    half = stats.t.ppf(0.975, 5) * v.std(ddof=1) / math.sqrt(6)
    assert s.loc["availability", "ci95_low"] == pytest.approx(v.mean() - half)


def _fake_sweep(monkeypatch):
    table = _draws_table()

    def metrics_of(v):
        row = table.iloc[v.labels["draw"]]
        return {m: float(row[m]) for m in ("availability", "rtt_p50_ms", "unmet_demand", "p10_down_mbps")}

    monkeypatch.setattr(sweep_module, "run_variants", FakeRuns(metrics_of))


def test_sweep_table_shows_the_draws_each_figure_averages(tmp_path, monkeypatch):
    _fake_sweep(monkeypatch)
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(yaml.safe_dump({"sweep": _spec().model_dump(mode="json")}))
    out = _invoke(["sweep", str(_scenario_file(tmp_path)), str(sweep_file), "-o", str(tmp_path / "sw")])
    assert "4 of 6" in out                          # rtt averages 4 of the 6 draws
    assert "(6 draws each)" in out and "6 variants of town" in out
    assert out.count(" of 6 ") == 1                 # and only rtt
    assert "fewer draws than the 6 that ran" in out
    assert "* interval clipped to the metric's range" in out and "1 *" in out


def test_a_sweep_of_one_variant_says_variant(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_module, "run_variants", FakeRuns(lambda v: {"availability": 1.0}))
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(yaml.safe_dump({"sweep": {"parameters": [{"field": "capacity.demand.activity",
                                                                    "values": [0.15]}],
                                                    "metrics": ["availability"]}}))
    out = _invoke(["sweep", str(_scenario_file(tmp_path)), str(sweep_file), "-o", str(tmp_path / "sw")])
    assert "1 variant of town" in out and "1 variants of" not in out


# 4. Progress over every batch, and placement stops where nothing improves.

def _events():
    return [{"name": f"jam-{k}", "type": "jamming", "start_s": 0,
             "jammer": {"lat_deg": 50.0 + k, "lon_deg": 30.0, "eirp_dbw": 20.0}} for k in range(3)]


def test_contingency_progress_counts_on_over_n1_and_n2(tmp_path, monkeypatch):
    monkeypatch.setattr(cont_module, "run_variants",
                        FakeRuns(lambda v: {"availability": 1.0 - 0.01 * len(v.name), "rtt_p50_ms": 40.0}))
    seen = []
    ranked = cont_module.contingency(town(tmp_path, events=_events()), "events", tmp_path / "c", n2=3,
                                     progress=lambda d, t: seen.append((d, t)))
    assert len(ranked) == 3 + 3                     # three events taken out, then the three pairs
    assert seen[-1] == (7, 7)                        # the base, 3 singles, 3 pairs: one count
    assert {t for _, t in seen} == {7}
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def _fake_placement(monkeypatch, value_of):
    fake = FakeRuns(lambda v: {"availability": value_of(v.labels.get("candidate"))})
    monkeypatch.setattr(place_module, "run_variants", fake)
    return fake


def _candidates():
    from leonet.planning.placement import Candidate

    return [Candidate("A", 50.0, 30.0), Candidate("B", 51.0, 30.0), Candidate("C", 52.0, 30.0)]


def test_placement_stops_when_no_candidate_improves(tmp_path, monkeypatch):
    _fake_placement(monkeypatch, lambda c: 1.0)      # every dish online already: all tie, no gain
    seen = []
    res = place_module.place_gateways(town(tmp_path), _candidates(), 2, tmp_path / "p",
                                      progress=lambda d, t: seen.append((d, t)))
    assert res.picked == [] and res.values == []
    assert res.stopped.startswith("no candidate improves availability (1 as is; the best of the 3 candidates gives 1")
    assert seen[-1] == (4, 4)                       # the base run counts: 1 + 3 candidates
    result = json.loads((tmp_path / "p" / "study.json").read_text())["result"]
    assert result["picked"] == [] and "no candidate improves" in result["stopped"]
    rounds = pd.read_parquet(tmp_path / "p" / "rounds.parquet")
    assert len(rounds) == 3 and not rounds["picked"].any()


def test_placement_picks_while_a_candidate_improves(tmp_path, monkeypatch):
    # B lifts availability from 0.9 to 0.95; after it, nothing adds more
    _fake_placement(monkeypatch, lambda c: 0.9 if c is None else 0.95 if c == "B" else 0.9)
    res = place_module.place_gateways(town(tmp_path), _candidates(), 2, tmp_path / "p")
    assert [c.name for c in res.picked] == ["B"] and res.values == [0.95]
    assert res.stopped is not None and "after round 1" in res.stopped


def test_place_gateways_command_counts_the_base_and_says_it_stopped(tmp_path, monkeypatch):
    _fake_placement(monkeypatch, lambda c: 1.0)
    cands = tmp_path / "c.csv"
    cands.write_text("name,lat_deg,lon_deg\nA,50,30\nB,51,30\nC,52,30\n")
    out = _invoke(["place-gateways", str(_scenario_file(tmp_path)), "--candidates", str(cands), "--add", "1",
                   "-o", str(tmp_path / "p")])
    assert "4/4 variants" in out and "0 stepped together" in out and "4 run on their own" in out
    assert "Stopped: no candidate improves availability" in out and "none of the 1 asked for added" in out
    assert "1. " not in out
    assert "Stopped: no candidate improves" in (tmp_path / "p" / "report.html").read_text()


def test_an_earlier_studys_answer_is_read_with_a_warning():
    # written by the search before this fix: a NaN counted as a failure, only the start tried
    earlier = {"target": ["unmet_demand<=0.01", "availability>=0.99"], "dishes": 0, "fails_at": 3, "resolution": 3,
               "metrics_met": {}, "metrics_failed": {"availability": 1.0, "unmet_demand": None}, "binding": [],
               "tried": [{"dishes": 3, "met": False}]}
    lines = cl_module.describe(earlier)
    assert "fails" not in lines[0] and "cannot be judged" in lines[0]
    assert any("earlier leonet" in line and "run it again" in line for line in lines)


def test_speed_test_metrics_are_the_dish_time_quantiles_of_the_speed_test(tmp_path):
    """A planner's "speed" is the speed test (the rate a dish could get), not the traffic it
    carried: p10/p50_speedtest_mbps are its dish- and time-weighted quantiles, outages as 0."""
    import numpy as np

    import leonet
    from leonet.planning.metrics import region_metrics
    from leonet.states import OUTAGE_STATES
    from test_service_wiring import scenario as service_scenario

    run = leonet.run(leonet.scenario_from_dict(service_scenario()), out_dir=tmp_path / "o")
    d = run.store.read("dish_steps", columns=["site", "state", "speedtest_down_bps"]).to_pandas()
    dishes = run.store.read("sites", columns=["dishes"]).to_pandas()["dishes"].fillna(1).to_numpy()
    speed = np.where(d["state"].astype(str).isin(OUTAGE_STATES), 0.0, d["speedtest_down_bps"]) / 1e6
    w = dishes[d["site"].to_numpy()]
    order = np.argsort(speed)
    cum = np.cumsum(w[order]) / w.sum()
    got = region_metrics(run.store)
    assert got["p50_speedtest_mbps"] > 50        # the delivered p50 is near 0 for idle dishes
    for q, name in ((0.1, "p10_speedtest_mbps"), (0.5, "p50_speedtest_mbps")):
        lo, hi = speed[order][np.searchsorted(cum, q) - 1], speed[order][min(np.searchsorted(cum, q), len(cum) - 1)]
        assert min(lo, hi) - 1e-9 <= got[name] <= max(lo, hi) + 1e-9
