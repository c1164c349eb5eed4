"""Variants that differ only in events step together (issue 14, stage reuse): each variant's
results must equal its standalone run exactly, table by table and column by column."""

import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

import leonet
from leonet.planning.contingency import _variant, contingency, elements_of
from leonet.planning.variants import INDEPENDENT, SHARED, Variant, folder_name, run_variants, scenario_data, scenario_for
from leonet.sim.model import build_model, model_with_events
from leonet.sim.step import compute_chunk, compute_chunks

# Lasers and capacity over Kyiv and Lviv, a gateway near each, two far away (Spain, Ireland), two
# PoPs; the base has events of its own: a plane of satellites lost half-way (so the sky itself
# changes over time), a jammer and a demand surge (dish-side events the shared allocation must
# see). Steps of 10 s over 15 s slots, chunks of 4 steps: held and fresh routes, path changes
# across chunks.
SMALL = """
name: shared-steps
constellation: starlink-shell1
ground:
  sites:
    - {name: gw-kyiv, lat_deg: 50.3, lon_deg: 29.6, kind: gateway}
    - {name: gw-lviv, lat_deg: 49.9, lon_deg: 23.9, kind: gateway}
    - {name: gw-far-1, lat_deg: 40.4, lon_deg: -3.7, kind: gateway}
    - {name: gw-far-2, lat_deg: 53.3, lon_deg: -6.3, kind: gateway}
    - {name: pop-fra, lat_deg: 50.1, lon_deg: 8.7, kind: pop}
    - {name: pop-waw, lat_deg: 52.2, lon_deg: 21.0, kind: pop}
  dish_groups:
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 4, radius_km: 8, seed: 1, dishes_per_site: 30}
    - {name: Lviv, lat_deg: 49.84, lon_deg: 24.03, count: 3, radius_km: 5, seed: 2, dishes_per_site: 20}
time: {start: 2022-03-01T12:00:00Z, duration_s: 60, step_s: 10}
capacity: {enabled: true, atmosphere: false, demand: {down_mbps: 20, up_mbps: 1, activity: 0.5}}
outputs: {visibility_pairs: true, chunk_steps: 4}
events:
  - {name: storm, type: satellite_loss, start_s: 30, target: {shells: [shell1], planes: [3, 4]}}
  - {name: jam, type: jamming, start_s: 0, jammer: {lat_deg: 50.5, lon_deg: 30.6, eirp_dbw: 30}}
  - {name: surge, type: demand_surge, start_s: 20, surge_factor: 2, target: {groups: [Lviv]}}
"""


def small(tmp_path):
    return leonet.scenario_from_dict(yaml.safe_load(textwrap.dedent(SMALL)), base_dir=tmp_path)


def same_table(a, b) -> list[str]:
    """Columns of two Arrow tables that differ (NaN equal to NaN in the same place)."""
    assert a.schema == b.schema and a.num_rows == b.num_rows
    out = []
    for name in a.column_names:
        x, y = a.column(name).combine_chunks(), b.column(name).combine_chunks()
        if x.type.num_fields == 0 and hasattr(x.type, "bit_width") and str(x.type).startswith(("float", "double")):
            if not np.array_equal(x.to_numpy(zero_copy_only=False), y.to_numpy(zero_copy_only=False), equal_nan=True):
                out.append(name)
        elif not x.equals(y):
            out.append(name)
    return out


def folder_differences(a: Path, b: Path) -> list[str]:
    """Every table of two results folders compared column by column (and the same files)."""
    out = []
    tables = sorted(p.name for p in a.iterdir() if p.is_dir())
    assert tables == sorted(p.name for p in b.iterdir() if p.is_dir())
    for t in tables:
        fa, fb = sorted(p.name for p in (a / t).glob("*.parquet")), sorted(p.name for p in (b / t).glob("*.parquet"))
        assert fa == fb, t
        for f in fa:
            out += [f"{t}/{f}:{c}" for c in same_table(pq.read_table(a / t / f), pq.read_table(b / t / f))]
    return out


def test_compute_chunks_equal_compute_chunk_per_model(tmp_path):
    """N-1 over gateways and over planes (each plane variant loses other satellites, so its sky
    differs), a demand surge and no events at all, stepped together: every table equals the
    model's own computation."""
    base = small(tmp_path)
    data = scenario_data(base)
    variants = [Variant("base")] + [_variant((e,)) for e in elements_of(base, "gateways")]
    variants += [_variant((e,)) for e in elements_of(base, "planes")[:3]]
    # dish-side events that differ: same routes, another allocation
    variants += [Variant("surge-kyiv", add_events=({"name": "surge-2", "type": "demand_surge", "start_s": 0,
                                                    "surge_factor": 3, "target": {"groups": ["Kyiv"]}},)),
                 Variant("no-events", keep_events=False)]
    scs = [scenario_for(data, base.base_dir, v) for v in variants]
    first = build_model(scs[0])
    models = [first] + [model_with_events(first, sc) for sc in scs[1:]]
    stats = {}
    together = compute_chunks(models, first.t_ns[2:6], int(first.t_ns[1]), stats)
    for v, m, tables in zip(variants, models, together):
        alone = compute_chunk(build_model(m.scenario), m.t_ns[2:6], int(m.t_ns[1]))
        assert sorted(alone) == sorted(tables)
        for name in alone:
            assert same_table(alone[name], tables[name]) == [], (v.name, name)
    # the far gateways carry no dish: their variants took the base's allocation, not a copy of it
    assert stats["shared_results"] > 0


@pytest.mark.slow
def test_n1_shared_path_equals_independent_runs(tmp_path):
    """Contingency over gateways goes the shared path; every variant's folder equals a
    standalone `leonet.run` of that variant, every table column by column."""
    base = small(tmp_path)
    ranked = contingency(base, "gateways", tmp_path / "study")
    table = pq.read_table(tmp_path / "study" / "variants.parquet").to_pandas()
    assert set(table["path"]) == {SHARED}
    assert ranked.iloc[0]["element"] in ("gw-kyiv", "gw-lviv")
    data = scenario_data(base)
    for v in table["variant"]:
        variant = Variant("base") if v == "base" else _variant(tuple(e for e in elements_of(base, "gateways") if e.name == v))
        out = tmp_path / "alone" / folder_name(v)
        leonet.run(scenario_for(data, base.base_dir, variant), out_dir=out)
        assert folder_differences(out, tmp_path / "study" / "variants" / folder_name(v)) == [], v


@pytest.mark.slow
def test_mixed_study_and_workers(tmp_path):
    """Variants that change more than events run on their own (path independent); the shared
    group split over 2 workers gives the serial table."""
    base = small(tmp_path)
    els = elements_of(base, "gateways")
    variants = [Variant("base")] + [_variant((e,)) for e in els]
    variants.append(Variant("elev-40", overrides={"visibility.min_elevation_deg": 40}))
    serial = run_variants(base, variants, tmp_path / "a")
    assert serial.set_index("variant")["path"].to_dict() == {**{v.name: SHARED for v in variants[:-1]},
                                                              "elev-40": INDEPENDENT}
    parallel = run_variants(base, variants, tmp_path / "b", workers=2)
    cols = [c for c in serial.columns if c not in ("results", "path")]
    assert serial[cols].equals(parallel[cols])
    for v in variants:
        assert folder_differences(tmp_path / "a" / "variants" / folder_name(v.name),
                                  tmp_path / "b" / "variants" / folder_name(v.name)) == []


def test_allocation_never_reads_the_ground_network_state(tmp_path):
    """The dish side of the events hides the ground network's part: a stage that read it would
    fail here rather than share a wrong allocation."""
    base = small(tmp_path)
    model = build_model(base)
    state = model.timeline.state_at(int(model.t_ns[-1])).dish_side()
    assert state.site_down is None and state.gateway_fibre_cut is None and state.backbone_cut is None
    with pytest.raises(TypeError):
        state.site_down[0]


def test_units_group_event_only_variants(tmp_path, monkeypatch):
    """Variants that differ only in events form one unit; an override starts another; lanes
    split a lone class; no unit is larger than MAX_TOGETHER."""
    from leonet.planning import variants as vmod

    base = small(tmp_path)
    data = scenario_data(base)
    vs = [Variant("base")] + [_variant((e,)) for e in elements_of(base, "gateways")]
    vs.append(Variant("elev-40", overrides={"visibility.min_elevation_deg": 40}))
    scs = [scenario_for(data, base.base_dir, v) for v in vs]
    assert vmod._units(scs, 1) == [[0, 1, 2, 3, 4], [5]]
    assert vmod._units(scs[:5], 2) == [[0, 1, 2], [3, 4]]
    monkeypatch.setattr(vmod, "MAX_TOGETHER", 2)
    assert vmod._units(scs, 1) == [[0, 1], [2, 3], [4], [5]]


@pytest.mark.slow
def test_run_group_on_two_workers_equals_serial(tmp_path):
    """run_group splits each chunk's variants over local workers: the same folders."""
    from leonet.sim.runner import run_group

    base = small(tmp_path)
    data = scenario_data(base)
    scs = [scenario_for(data, base.base_dir, v) for v in
           [Variant("base")] + [_variant((e,)) for e in elements_of(base, "gateways")]]
    serial = run_group(scs, [tmp_path / "a" / sc.name for sc in scs])
    parallel = run_group(scs, [tmp_path / "b" / sc.name for sc in scs], workers=2)
    assert [r.chunks_computed for r in serial] == [r.chunks_computed for r in parallel] == [2] * len(scs)
    for sc in scs:
        assert folder_differences(tmp_path / "a" / sc.name, tmp_path / "b" / sc.name) == []
    again = run_group(scs, [tmp_path / "a" / sc.name for sc in scs])  # resumes: nothing left to compute
    assert [r.chunks_computed for r in again] == [0] * len(scs)


@pytest.mark.slow
def test_contingency_command_says_which_path(tmp_path):
    """The command line names how the variants ran."""
    import subprocess
    import sys

    f = tmp_path / "small.yaml"
    f.write_text(textwrap.dedent(SMALL))
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "contingency", str(f), "--kind", "gateways",
                        "--out", str(tmp_path / "study")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "Variants: 5 stepped together" in text and "0 run on their own" in text
