"""Planning fixes: robust placement against the base's own worst case, the cell limit named as
binding, and the reports' small figures (a share clamped to [0, 1], no empty 'added in order')."""

import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import leonet
from leonet.planning import metrics as metrics_module
from leonet.planning import placement as place_module
from leonet.planning.metrics import METRICS, binding_links, region_metrics
from leonet.planning.placement import Candidate, place_gateways
from leonet.planning.report import _capacity_result, _placement_result

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow

# Bent pipe over Kyiv: gw-near is the only gateway in reach, so losing it cuts Kyiv off (a single
# point of failure); the far ones serve nothing.
ONE_GATEWAY = """
name: one-gateway
constellation: starlink-shell1
ground:
  sites:
    - {name: gw-near, lat_deg: 50.3, lon_deg: 29.6, kind: gateway}
    - {name: gw-far-1, lat_deg: 40.4, lon_deg: -3.7, kind: gateway}
    - {name: pop-1, lat_deg: 50.1, lon_deg: 8.7, kind: pop}
  dish_groups:
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 2, radius_km: 5, seed: 1}
time: {start: 2022-03-01T12:00:00Z, duration_s: 1, step_s: 1}
network: {isl: {topology: none}}
outputs: {visibility_pairs: false}
"""


def _scenario(text, tmp_path):
    return leonet.scenario_from_dict(yaml.safe_load(textwrap.dedent(text)), base_dir=tmp_path)


class FakeRuns:
    """``run_variants`` without running: each variant's metrics are ``metrics_of(variant name)``."""

    def __init__(self, metrics_of):
        self.metrics_of, self.rows = metrics_of, []

    def __call__(self, base, variants, study_dir, *, groups=None, workers=1, dask=None, kind="study",
                 progress=None, max_variants=None, append=False, groups_where="--groups"):
        root = Path(study_dir)
        root.mkdir(parents=True, exist_ok=True)
        rows = [{"variant": v.name, **v.labels, **{m: float("nan") for m in METRICS}, **self.metrics_of(v.name),
                 "path": "independent", "results": str(root / "variants" / v.name)} for v in variants]
        self.rows = (self.rows if append else []) + rows
        pd.DataFrame(self.rows).to_parquet(root / "variants.parquet", index=False)
        meta = root / "study.json"
        old = json.loads(meta.read_text()) if append and meta.exists() else {}
        old.update({"kind": kind, "base": base.name, "groups": groups, "variants": [r["variant"] for r in self.rows]})
        meta.write_text(json.dumps(old))
        return pd.DataFrame(rows)


# 2. --robust compares the candidates' worst cases with the base's own.

def test_robust_placement_compares_with_the_bases_worst_case(tmp_path, monkeypatch):
    # the hunt's Kenya: 0.7417 as is, 0 losing the one gateway in use; every candidate keeps
    # 0.7417 whatever is lost (worst case 0.7417 for all, so none is "more robust than the others")
    def value(name):
        return {"availability": 0.0 if name == "base-without-gw-only" else 0.7417}

    monkeypatch.setattr(place_module, "run_variants", FakeRuns(value))
    monkeypatch.setattr(place_module, "_gateways_in_use", lambda *a, **k: ["gw-only"])
    cands = [Candidate("A", 50.0, 30.0), Candidate("B", 51.0, 30.0)]
    res = place_gateways(_scenario(ONE_GATEWAY, tmp_path), cands, 1, tmp_path / "p", robust=True)
    assert (res.base_worst, res.base_worst_case) == (0.0, "gw-only")
    assert [c.name for c in res.picked] == ["A"] and res.worsts == [0.7417] and res.stopped is None
    result = json.loads((tmp_path / "p" / "study.json").read_text())["result"]
    assert result["base_worst"] == 0.0 and result["base_worst_case"] == "gw-only"
    assert result["picked"][0]["worst"] == 0.7417
    text = _placement_result(result)
    assert "worst N-1 case 0 (losing gw-only)" in text and "added in order:" in text


def test_robust_placement_stops_where_no_candidate_beats_the_worst_case(tmp_path, monkeypatch):
    # no gateway loss hurts the base (worst case = as is), and no candidate improves either
    monkeypatch.setattr(place_module, "run_variants", FakeRuns(lambda name: {"availability": 0.9}))
    monkeypatch.setattr(place_module, "_gateways_in_use", lambda *a, **k: ["gw-only"])
    res = place_gateways(_scenario(ONE_GATEWAY, tmp_path), [Candidate("A", 50.0, 30.0)], 1, tmp_path / "p",
                         robust=True)
    assert res.picked == [] and (res.base_worst, res.base_worst_case) == (0.9, None)
    assert "worst N-1 case" in res.stopped and "worst case 0.9" in res.stopped


def test_robust_placement_picks_a_site_that_removes_a_single_point_of_failure(tmp_path):
    base = _scenario(ONE_GATEWAY, tmp_path)
    cands = [Candidate("Near Kyiv A", 50.5, 30.0), Candidate("Near Kyiv B", 50.4, 30.6)]
    res = place_gateways(base, cands, 1, tmp_path / "robust", robust=True)
    assert res.base_value == pytest.approx(1.0)
    assert res.base_worst == 0.0 and res.base_worst_case == "gw-near"     # losing it cuts Kyiv off
    # both candidates keep Kyiv served when gw-near is lost: same value, same worst case, and
    # before the fix the placement stopped ('none is more robust than the others')
    assert len(res.picked) == 1 and res.worsts == [pytest.approx(1.0)]


# 3. The cell limit is named as binding where the region has SOLD_OUT dish-time.

def _admission_run(tmp_path):
    sites = [{"name": f"d{k}", "lat_deg": 52.52 + 0.05 * k, "lon_deg": 13.40, "dishes": 40, "group": "Berlin"}
             for k in range(3)]
    sites.append({"name": "far", "lat_deg": 50.11, "lon_deg": 8.68, "group": "Frankfurt"})
    data = {
        "name": "cells", "constellation": {"preset": "starlink-gen1"},
        "ground": {"sites": sites, "builtin": [
            {"name": "starlink-gateways-2023", "regions": ["Europe"], "statuses": "carried-traffic", "antennas": "from-data"},
            {"name": "starlink-pops-2023", "regions": ["Europe"]}]},
        "time": {"start": "2024-01-06T19:00:12Z", "duration_s": 15, "step_s": 15},
        "capacity": {"enabled": True},
        "service": {"enabled": True, "admission": {"enabled": True, "limit_per_cell": 70}},
        "outputs": {"visibility_pairs": False},
    }
    return leonet.run(leonet.scenario_from_dict(data), out_dir=tmp_path / "run", overwrite=True)


def test_the_cell_limit_is_binding_where_dishes_are_sold_out(tmp_path):
    run = _admission_run(tmp_path)
    found = binding_links(run.store, ["Berlin"])
    assert found and found[0]["kind"] == "cell limit"
    m = re.fullmatch(r"cell limit: (\d+) of 120 dishes admitted, the rest SOLD_OUT \(service\.admission\)",
                     found[0]["text"])
    assert m and 0 < int(m.group(1)) < 120 and found[0]["saturated_steps"] == 1
    # a region with nothing sold out names no cell limit
    assert not [b for b in binding_links(run.store, ["Frankfurt"]) if b["kind"] == "cell limit"]
    # and the sold-out dishes' demand is unmet
    assert region_metrics(run.store, ["Berlin"])["unmet_demand"] > 0.1
    # the report says it
    result = {"target": ["availability>=0.99"], "outcome": "limit", "dishes": 2, "fails_at": 4, "resolution": 2,
              "tried": [{"dishes": 2, "met": True}, {"dishes": 4, "met": False}], "binding": found}
    assert "binding: cell limit: " in _capacity_result(result) and "SOLD_OUT" in _capacity_result(result)


# 4. Small figures.

def test_unmet_demand_is_a_share_without_float_noise(monkeypatch):
    # every bit served: 1 - served/asked came out -2.2e-16 with these weights
    w = np.array([44.0, 40.0])
    demand = np.array([6996202.048913049, 1655436.9018258473])
    cols = {"site": np.arange(2), "state": np.array(["CONNECTED"] * 2, dtype=object), "rtt_ms": np.full(2, 30.0),
            "w": w, "n": w, "group": np.array(["", ""], dtype=object), "down_bps": demand.copy(),
            "demand_bps": demand, "speedtest_bps": demand.copy()}
    assert 1.0 - (w * (demand / 1e6) * 1e6).sum() / (w * demand).sum() < 0    # the noise the metric had
    monkeypatch.setattr(metrics_module, "_dish_rows", lambda store, groups: (cols, True))
    assert region_metrics(metrics_module.ResultStore("/nonexistent"))["unmet_demand"] == 0.0


def test_the_placement_report_lists_nothing_when_none_was_added():
    text = _placement_result({"metric": "availability", "base_value": 1.0, "picked": [],
                              "stopped": "no candidate improves availability"})
    assert "added in order" not in text and "<ol>" not in text and "none added" in text
