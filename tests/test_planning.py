"""Planning studies on small scenarios whose answers are known by construction (issue 14)."""

import textwrap

import numpy as np
import pandas as pd
import pytest
import yaml

import leonet
from leonet.errors import InputError
from leonet.planning.capacity_limit import capacity_limit, scaled
from leonet.planning.contingency import contingency, elements_of
from leonet.planning.metrics import weighted_quantile
from leonet.planning.targets import parse_target
from leonet.planning.variants import Variant, run_variants

# Bent pipe (no lasers) over Kyiv: one gateway of this set (70 km away) is in reach of Kyiv's
# satellites, two others are far away (Spain, Ireland): losing the Polish one cuts Kyiv off.
ONE_GATEWAY = """
name: one-gateway
constellation: starlink-shell1
ground:
  sites:
    - {name: gw-near, lat_deg: 50.3, lon_deg: 29.6, kind: gateway}
    - {name: gw-far-1, lat_deg: 40.4, lon_deg: -3.7, kind: gateway}
    - {name: gw-far-2, lat_deg: 53.3, lon_deg: -6.3, kind: gateway}
    - {name: pop-1, lat_deg: 50.1, lon_deg: 8.7, kind: pop}
  dish_groups:
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 3, radius_km: 5, seed: 1}
time: {start: 2022-03-01T12:00:00Z, duration_s: 40, step_s: 20}
network: {isl: {topology: none}}
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


def scenario(text, tmp_path):
    return leonet.scenario_from_dict(yaml.safe_load(textwrap.dedent(text)), base_dir=tmp_path)


def test_weighted_quantile_is_the_readers():
    rng = np.random.default_rng(3)
    values = rng.normal(size=200)
    for q in (0.1, 0.5, 0.95):
        # the summaries' estimator (leonet.results.quantiles): equal weights give numpy's "linear"
        assert weighted_quantile(values, np.full(200, 7.0), q) == pytest.approx(np.quantile(values, q), rel=1e-12)


def test_targets_parse_and_fail_clearly():
    conds = parse_target("p10_down_mbps>=25, availability>=99%")
    assert [str(c) for c in conds] == ["p10_down_mbps>=25", "availability>=0.99"]
    assert conds[0].met({"p10_down_mbps": 30.0}) and not conds[0].met({"p10_down_mbps": float("nan")})
    for bad, needle in (("p10_down>=25", "did you mean 'p10_down_mbps'"), ("availability=>0.9", "cannot read"),
                        ("availability>=1.5", "share between 0 and 1"), ("", "at least one condition"),
                        ("rtt_p50_ms<=1e999", "not a finite number")):
        with pytest.raises(InputError, match=needle):
            parse_target(bad)


@pytest.mark.slow
def test_region_with_one_gateway_ranks_it_first(tmp_path):
    base = scenario(ONE_GATEWAY, tmp_path)
    names = [e.name for e in elements_of(base, "gateways")]
    assert names == ["gw-near", "gw-far-1", "gw-far-2"]
    ranked = contingency(base, "gateways", tmp_path / "study")
    assert ranked.loc[0, "variant"] == "gw-near"
    assert ranked.loc[0, "delta_availability"] == pytest.approx(-1.0)   # Kyiv cut off entirely
    assert (ranked.loc[1:, "delta_availability"] == 0).all()             # far gateways never served it
    assert (tmp_path / "study" / "ranking.parquet").exists()
    # Resumable: a second call reads the finished variants back and gives the same table.
    again = contingency(base, "gateways", tmp_path / "study")
    pd.testing.assert_frame_equal(again, ranked)


@pytest.mark.slow
def test_n2_pairs_the_worst(tmp_path):
    base = scenario(ONE_GATEWAY, tmp_path)
    ranked = contingency(base, "gateways", tmp_path / "n2", n2=2)
    pairs = ranked[ranked["n"] == 2]
    assert len(pairs) == 1 and "gw-near" in pairs["element"].iloc[0]
    # the study's table keeps the N-1 variants beside the pair (not only the last batch)
    table = pd.read_parquet(tmp_path / "n2" / "variants.parquet")
    assert sorted(table["n"]) == [0, 1, 1, 1, 2]


@pytest.mark.slow
def test_variants_on_two_workers_equal_serial(tmp_path):
    base = scenario(ONE_GATEWAY, tmp_path)
    variants = [Variant("as-is"), Variant("elev-40", overrides={"visibility.min_elevation_deg": 40}),
                Variant("elev-60", overrides={"visibility.min_elevation_deg": 60})]
    serial = run_variants(base, variants, tmp_path / "a")
    parallel = run_variants(base, variants, tmp_path / "b", workers=2)
    cols = [c for c in serial.columns if c != "results"]
    pd.testing.assert_frame_equal(serial[cols], parallel[cols])


def test_bad_studies_are_refused(tmp_path):
    base = scenario(ONE_GATEWAY, tmp_path)
    with pytest.raises(InputError, match="no variants"):
        run_variants(base, [], tmp_path)
    with pytest.raises(InputError, match="more than the limit"):
        run_variants(base, [Variant(f"v{k}") for k in range(5)], tmp_path, max_variants=3)
    with pytest.raises(InputError, match="variant bad"):
        run_variants(base, [Variant("bad", overrides={"time.step_s": -1})], tmp_path)
    with pytest.raises(InputError, match="unknown kind"):
        elements_of(base, "antennae")


@pytest.mark.slow
def test_single_cell_capacity_limit_is_beam_capacity_over_demand(tmp_path):
    base = scenario(ONE_CELL, tmp_path)
    # The beam's capacity at this instant, read from a run that does not fill it.
    probe = leonet.run(base, out_dir=tmp_path / "probe")
    loads = probe.store.read("load_steps").to_pandas()
    beam = loads[(loads["kind"].astype(str) == "beam") & (loads["direction"].astype(str) == "down")]
    assert len(beam) == 1 and beam["utilisation"].iloc[0] < 1
    beam_bps = float(beam["load_bps"].iloc[0] / beam["utilisation"].iloc[0])
    expected = int(beam_bps // 20e6)
    result = capacity_limit(base, parse_target("p10_down_mbps>=19.999"), tmp_path / "limit", max_dishes=5000)
    assert result.resolution == 1
    assert result.dishes == expected and result.fails_at == expected + 1
    assert result.binding and result.binding[0]["kind"] == "beam"


def test_scaling_keeps_shares(tmp_path):
    data = yaml.safe_load(textwrap.dedent(ONE_CELL))
    data["ground"]["dish_groups"].append({"name": "B", "lat_deg": 50, "lon_deg": 30, "count": 2, "dishes_per_site": 100})
    out, got = scaled(data, None, 500)
    assert got == out["ground"]["dish_groups"][0]["dishes_per_site"] + 2 * out["ground"]["dish_groups"][1]["dishes_per_site"]
    assert abs(got - 500) <= 3
    with pytest.raises(InputError, match="selects no dishes"):
        scaled(data, ["Nowhere"], 10)


@pytest.mark.slow
def test_placement_picks_the_obvious_site(tmp_path):
    text = ONE_GATEWAY.replace("    - {name: gw-near, lat_deg: 50.3, lon_deg: 29.6, kind: gateway}\n", "")
    base = scenario(text, tmp_path)
    cands = tmp_path / "c.csv"
    cands.write_text("name,lat_deg,lon_deg\nAtlantic,45.0,-30.0\nNear Kyiv,50.5,30.0\nSahara,23.0,10.0\n")
    from leonet.planning.placement import place_gateways, read_candidates

    result = place_gateways(base, read_candidates(cands), 1, tmp_path / "place")
    assert result.base_value == 0.0                   # no gateway in reach: Kyiv offline
    assert [c.name for c in result.picked] == ["Near Kyiv"]
    assert result.values[0] == pytest.approx(1.0)
    # the study keeps the base run and every candidate, and the answer
    import json

    assert len(pd.read_parquet(tmp_path / "place" / "variants.parquet")) == 4
    picked = json.loads((tmp_path / "place" / "study.json").read_text())["result"]["picked"]
    assert [p["candidate"] for p in picked] == ["Near Kyiv"] and picked[0]["value"] == pytest.approx(1.0)
    robust = place_gateways(base, read_candidates(cands), 2, tmp_path / "robust", robust=True)
    assert robust.picked[0].name == "Near Kyiv"


def test_candidate_files_and_grids_fail_clearly(tmp_path):
    from leonet.planning.placement import grid_candidates, read_candidates

    bad = tmp_path / "c.csv"
    bad.write_text("name,lat_deg,lon_deg\nA,50,30\nA,51,31\n")
    with pytest.raises(InputError, match="line 3"):
        read_candidates(bad)
    bad.write_text("name,lat,lon\n")
    with pytest.raises(InputError, match="line 1"):
        read_candidates(bad)
    assert len(grid_candidates("45,20,47,22,1")) == 9
    with pytest.raises(InputError, match="use a larger step"):
        grid_candidates("-80,-170,80,170,0.1")


@pytest.mark.slow
def test_sweep_is_a_pure_function_of_its_seed(tmp_path):
    from leonet.planning.sweep import SweepSpec, run_sweep, sweep_variants

    base = scenario(ONE_GATEWAY, tmp_path)
    spec = SweepSpec.model_validate({
        "seed": 4, "draws": 3, "metrics": ["availability"],
        "parameters": [{"field": "visibility.min_elevation_deg", "values": [25, 40]}],
        "random": [{"kind": "gateway_failures", "count": 1}],
    })
    v1, v2 = sweep_variants(spec, base), sweep_variants(spec, base)
    assert [v.labels for v in v1] == [v.labels for v in v2] and len(v1) == 6
    table, summary = run_sweep(spec, base, tmp_path / "sweep", workers=2)
    assert len(table) == 6 and set(summary["draws"]) == {3}
    # Draws that lose the one gateway in reach are offline: the mean lies between 0 and 1 unless
    # every draw hit (or missed) it, and the CI holds the mean.
    lost_near = table["random0_gateways"] == "gw-near"
    assert (table.loc[lost_near, "availability"] == 0).all()
    assert (summary["ci95_low"] <= summary["mean"]).all() and (summary["mean"] <= summary["ci95_high"]).all()


def test_bad_sweep_files_are_named(tmp_path):
    from leonet.planning.sweep import read_sweep

    f = tmp_path / "s.yaml"
    f.write_text("sweep:\n  parameters:\n    - {field: time.step_s, range: {start: 5, stop: 1, step: 1}}\n")
    with pytest.raises(InputError) as err:
        read_sweep(f)
    assert str(f) in str(err.value) and "sweep.parameters[0] (line 3)" in str(err.value)
    f.write_text("sweep:\n  metrics: [speed]\n  parameters: [{field: a.b, values: [1]}]\n")
    with pytest.raises(InputError, match="unknown metric"):
        read_sweep(f)
    f.write_text("sweep: {}\n")
    with pytest.raises(InputError, match="needs parameters or random"):
        read_sweep(f)


@pytest.mark.slow
def test_variants_on_a_dask_local_cluster_equal_serial(tmp_path):
    pytest.importorskip("dask.distributed")
    base = scenario(ONE_GATEWAY, tmp_path)
    variants = [Variant("as-is"), Variant("elev-40", overrides={"visibility.min_elevation_deg": 40})]
    serial = run_variants(base, variants, tmp_path / "a")
    on_dask = run_variants(base, variants, tmp_path / "b", workers=2, dask="local")
    cols = [c for c in serial.columns if c != "results"]
    pd.testing.assert_frame_equal(serial[cols], on_dask[cols].set_index("variant").loc[serial["variant"]].reset_index())


@pytest.mark.slow
def test_study_reports_render_offline(tmp_path):
    from leonet.planning.report import write_study_report

    base = scenario(ONE_GATEWAY, tmp_path)
    contingency(base, "gateways", tmp_path / "c")
    text = write_study_report(tmp_path / "c").read_text()
    assert "gw-near" in text and "PlotlyGeoAssets" in text and "ranking-map" in text
    assert "https://" not in text.split("<script>", 1)[0]  # nothing fetched before plotly
    with pytest.raises(InputError, match="not a study folder"):
        write_study_report(tmp_path)


@pytest.mark.slow
def test_a_variant_on_the_shared_build_equals_its_own_build(tmp_path):
    """Stage reuse: a variant that changes only events runs on the base's build (inputs, sites,
    network, capacity and service models made once) and writes exactly what its own build writes."""
    from leonet.sim.model import build_model, model_with_events

    text = ONE_CELL.replace("capacity: {enabled: true, atmosphere: false,", "capacity: {enabled: true, atmosphere: true,")
    base = scenario(text, tmp_path)
    data = yaml.safe_load(textwrap.dedent(text))
    data["events"] = [{"name": "cut", "type": "gateway_loss", "start_s": 0, "target": {"region": {"circle": {
        "lat_deg": 50.0, "lon_deg": 20.0, "radius_km": 800}}}}]
    variant = leonet.scenario_from_dict(data, base_dir=tmp_path)
    own = leonet.run(variant, out_dir=tmp_path / "own")
    shared = leonet.run(variant, out_dir=tmp_path / "shared", model=model_with_events(build_model(base), variant))
    for table in ("dish_steps", "load_steps", "site_steps", "network_steps"):
        assert own.store.read(table).equals(shared.store.read(table)), table
    with pytest.raises(ValueError, match="more than their events"):
        model_with_events(build_model(base), scenario(ONE_GATEWAY, tmp_path))
