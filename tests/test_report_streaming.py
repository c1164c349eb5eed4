"""The report, the day-by-day table and the scenario-vs-baseline comparison computed chunk file by
chunk file, or a block of whole dish groups at a time (memory flat in the length of the run),
equal the same figures computed over the whole tables, on real runs: Gen1 dishes at 1 s steps (a
uniform calendar; the comparison with a gateway strike added and its baseline), and ukraine-2022
over six days with its baseline (a windowed calendar, events, capacity and the service model)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import leonet
from leonet.results.calendar import calendar
from leonet.results.compare import compare, resilience_by_group
from leonet.results.contract import read_contract
from leonet.results.report import build_report_html
from leonet.results.report.outages import state_counts
from leonet.results.report.run import ReportRun, first_steps
from leonet.results.store import ResultStore
from leonet.results.summary import site_weights
from leonet.results.timeline import ONLINE_BY, step_sums
from leonet.states import OUTAGE_STATES

RUNS = {
    "ukraine-gen1": ({"time.duration_s": 120, "outputs.chunk_steps": 25}, False),
    # six days: the preset's first window of 10 s steps falls in them (a calendar of uneven steps)
    "ukraine-2022": ({"time.duration_s": 6 * 86400, "time.step_s": 7200, "outputs.chunk_steps": 20}, True),
}
WHOLE = 10**12  # a budget no table reaches: every table is read whole


@pytest.fixture(scope="module", params=[pytest.param(r, marks=pytest.mark.slow) if r == "ukraine-2022" else r
                                        for r in sorted(RUNS)])
def run(request, tmp_path_factory):
    overrides, baseline = RUNS[request.param]
    out = tmp_path_factory.mktemp(request.param)
    leonet.run(leonet.load_scenario(request.param, overrides=overrides), out_dir=out, baseline=baseline)
    return ResultStore(out)


def _page(store: ResultStore, budget: int) -> str:
    text = build_report_html(store.root, budget_rows=budget)
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</dd>", "(generated)</dd>", text)


def test_report_in_blocks_equals_the_report_of_the_whole_table(run):
    rows = run.read("dish_steps", columns=["site"]).num_rows
    assert rows > 400 and len(run.parts("dish_steps")) > 3
    whole = _page(run, WHOLE)
    for section in ("rtt-cdf", "rtt-time", "outages", "coverage"):
        assert f'id="{section}"' in whole
    if not calendar(run).uniform:
        assert 'id="timeline"' in whole and 'id="plot-throughput-downlink"' in whole
    for budget in (1, rows // 3):  # two groups per block; a few groups per block
        assert _page(run, budget) == whole


def test_dish_figures_in_blocks_equal_the_whole_table(run):
    whole = ReportRun(run, budget_rows=WHOLE)
    blocks = ReportRun(run, budget_rows=1)
    a, b = whole.figures, blocks.figures
    assert a.rtt_cdf.keys() == b.rtt_cdf.keys() and len(a.rtt_cdf) > 1
    assert a.dish_cdf.keys() == b.dish_cdf.keys() == set(whole.picked) and len(a.dish_cdf) > 3
    for x, y in [(a.rtt_cdf, b.rtt_cdf), (a.dish_cdf, b.dish_cdf), *[(a.throughput[c], b.throughput[c]) for c in a.throughput]]:
        for key in x:
            np.testing.assert_array_equal(x[key][0], y[key][0])
            np.testing.assert_array_equal(x[key][1], y[key][1])
    if not calendar(run).uniform:  # shares of time per group and per dish (the summary's own)
        pd.testing.assert_frame_equal(whole.groups, blocks.groups, check_exact=True)
        pd.testing.assert_frame_equal(whole.net.per_dish, blocks.net.per_dish, check_exact=True)


def _delivered(run) -> list[str]:
    """["delivered"] where the run's dish_steps has the column (a deliveries event), else []."""
    import pyarrow.parquet as pq

    return ["delivered"] if "delivered" in pq.read_schema(run.parts("dish_steps")[0]).names else []


def test_state_counts_chunk_by_chunk_equal_the_whole_table(run):
    d = run.read("dish_steps", columns=["t", "site", "state", *_delivered(run)]).to_pandas()
    d["state"] = d["state"].astype(str)
    # each dish-step weighs the dishes its site stands for, those delivered by then (and, for time,
    # its step's duration)
    d["w"] = site_weights(run)[d["site"].to_numpy()] * (d["delivered"].to_numpy() if "delivered" in d else 1.0)
    cal = calendar(run)
    d["ws"] = d["w"] * cal.weight_of(d["t"].astype("int64").to_numpy()) * run.manifest.step_s
    want = d.groupby(["t", "state"], sort=True)["w"].sum().unstack(fill_value=0.0)
    st = state_counts(ReportRun(run))
    assert set(st.dishes.columns) == set(want.columns)  # in another order: the section orders them by the run's states
    # each step's rows lie in one chunk file: its sums are the whole table's, bit for bit
    pd.testing.assert_frame_equal(st.dishes[want.columns], want, check_names=False)
    for column, frame in (("w", st.site_steps), ("ws", st.site_s)):
        whole = d.groupby(["site", "state"], sort=True)[column].sum().unstack(fill_value=0.0)
        assert set(frame.columns) == set(whole.columns)
        # summed chunk by chunk: equal to the one sum over the table within floating-point reordering
        pd.testing.assert_frame_equal(frame[whole.columns], whole, check_names=False, rtol=1e-12, atol=0)
    assert st.dish_s == pytest.approx(float(d["ws"].sum()), rel=1e-12)
    assert st.n_dishes == pytest.approx(float(site_weights(run)[d["site"].unique()].sum()), rel=0)
    for s, v in st.state_s.items():
        assert v == pytest.approx(float(d.loc[d["state"] == s, "ws"].sum()), rel=1e-12)


def test_step_sums_chunk_by_chunk_equal_the_whole_table(run):
    d = run.read("dish_steps", columns=["t", "site", "state", "ground_level", *_delivered(run)]).to_pandas()
    cal = calendar(run)
    step = cal.index_of(d["t"].astype("int64").to_numpy())
    w = site_weights(run)[d["site"].to_numpy()] * (d["delivered"].to_numpy(dtype=np.float64) if "delivered" in d else 1.0)
    sat = ~d["state"].astype(str).isin(OUTAGE_STATES).to_numpy()
    level = d["ground_level"].to_numpy(dtype=np.float64)
    want_by = {"both": sat * level, "satellite": sat * (1 - level), "ground": ~sat * level, "none": ~sat * (1 - level)}
    total, online, by = step_sums(run)
    n = cal.n_steps
    assert len(total) == n and len(run.parts("dish_steps")) > 1
    np.testing.assert_array_equal(total, np.bincount(step, weights=w, minlength=n))
    np.testing.assert_array_equal(online, np.bincount(step, weights=w * sat, minlength=n))
    assert set(by) == set(ONLINE_BY)
    for how in ONLINE_BY:
        np.testing.assert_array_equal(by[how], np.bincount(step, weights=w * want_by[how], minlength=n))


def test_first_steps_keeps_the_chunks_of_the_first_steps(run):
    parts = run.parts("dish_steps")
    kind = run.read("sites", columns=["kind"]).column("kind").to_numpy(zero_copy_only=False)
    dishes = np.flatnonzero(kind == "dish")
    sites = [int(dishes[0]), int(dishes[len(dishes) // 2]), int(dishes[-1])]
    columns = ["t", "site", "rtt_ms"]
    whole = run.read("dish_steps", columns=columns, filters=[("site", "in", sites)]).to_pandas()
    times = np.sort(whole["t"].unique())
    first = pq.read_table(parts[0], columns=columns, filters=[("site", "in", sites)]).to_pandas()
    in_first = first["t"].nunique()
    assert 1 < in_first < len(times)
    for k in (1, in_first + 1, len(times) - 1, len(times) + 5):  # in the first chunk, across a boundary, all
        got, n = first_steps(parts, columns, [("site", "in", sites)], k)
        assert n == len(times)
        cut = times[min(k, len(times)) - 1]
        want = whole[whole["t"] <= cut].reset_index(drop=True)
        pd.testing.assert_frame_equal(got[got["t"] <= cut].reset_index(drop=True), want, check_exact=True)
        if k == 1:  # only the chunk files it needs
            pd.testing.assert_frame_equal(got, first, check_exact=True)


def test_rtt_over_time_shows_the_first_steps_only(run, monkeypatch):
    import leonet.results.report.rtttime as rtttime

    n = run.manifest.n_steps if calendar(run).uniform else calendar(run).n_steps
    monkeypatch.setattr(rtttime, "MAX_POINTS", 12)
    text = _page(run, WHOLE)
    assert f"The run has {n:,} steps; the first 12 " in text


#: For a run without events (ukraine-gen1) test_compare_in_blocks_equals_the_whole_tables runs the
#: same scenario again with this event and its baseline (~3 s): every European gateway lost from
#: 20 s to 80 s, so that the dishes lose their path and recover within the run.
GATEWAY_STRIKE = {"name": "strike", "type": "gateway_loss", "start_s": 20, "end_s": 80,
                  "target": {"region": {"circle": {"lat_deg": 50, "lon_deg": 15, "radius_km": 3000}}}}


def test_compare_in_blocks_equals_the_whole_tables(run, tmp_path):
    if not (run.root / "baseline").is_dir():
        data = leonet.load_scenario(run.root / "scenario.yaml").model_dump(mode="json")
        assert not data["events"]
        data["events"] = [GATEWAY_STRIKE]
        leonet.run(leonet.scenario_from_dict(data), out_dir=tmp_path / "struck", baseline=True)
        run = ResultStore(tmp_path / "struck")
    scen, base = run, ResultStore(run.root / "baseline")
    ends = {e.name: (e.end_ns, e.type) for e in read_contract(scen).events if e.end_ns is not None}
    rows = scen.read("dish_steps", columns=["site"]).num_rows
    whole = compare(scen, base, ends, budget_rows=WHOLE)
    assert len(whole) > 4 and any(c.startswith("recover_s_") for c in whole.columns)
    step_s = scen.manifest.step_s
    for budget in (1, rows // 3):
        pd.testing.assert_frame_equal(compare(scen, base, ends, budget_rows=budget), whole, check_exact=True)
        pd.testing.assert_frame_equal(resilience_by_group(scen, step_s, budget_rows=budget),
                                      resilience_by_group(scen, step_s, budget_rows=WHOLE), check_exact=True)


def test_app_pair_list_in_blocks_equals_the_whole_table(tmp_path):
    from leonet.app.pairs import _pair_stats
    from leonet.app.run import RunData

    out = tmp_path / "pairs"
    leonet.run(leonet.load_scenario("hypatia-starlink", overrides={"time.duration_s": 0.3, "outputs.chunk_steps": 1}),
               out_dir=out)
    run = RunData(out)
    rows = run.store.read("pair_steps", columns=["src"]).num_rows
    whole = _pair_stats(run, budget_rows=WHOLE)
    assert len(whole["src"]) > 1000 and whole["share"] is None and len(run.store.parts("pair_steps")) == 3
    for budget in (rows // 7, rows // 2):  # blocks of pairs, each read a chunk file at a time
        got = _pair_stats(run, budget_rows=budget)
        assert got.keys() == whole.keys() and got["share"] is None
        for k in ("src", "dst", "steps", "routed", "p50", "p95"):
            np.testing.assert_array_equal(got[k], whole[k])


def test_dish_runs_chunk_by_chunk_equal_the_runs_of_the_whole_table(run):
    from leonet.results.dish_runs import dish_runs, runs_of

    cal = calendar(run)
    n_sites = run.read("sites", columns=["name"]).num_rows
    n_sats = run.read("satellites", columns=["name"]).num_rows
    got = dish_runs(run, cal, n_sites, n_sats)
    d = run.read("dish_steps", columns=["t", "site", "state", "serving_sat"]).to_pandas()
    step = cal.index_of(d["t"].astype("int64").to_numpy())
    site = d["site"].to_numpy().astype(np.int64)
    state = d["state"].astype(str).to_numpy()
    serving = d["serving_sat"].fillna(-1).to_numpy().astype(np.int64)
    order = np.lexsort((step, site))  # the whole table by site, then step
    step, site, state, serving = step[order], site[order], state[order], serving[order]
    a, b = runs_of([site, state], step)
    assert len(run.parts("dish_steps")) > 3 and len(a) > n_sites // 2
    np.testing.assert_array_equal(got.states.site, site[a])
    np.testing.assert_array_equal(got.states.first, step[a])
    np.testing.assert_array_equal(got.states.last, step[b - 1])
    np.testing.assert_array_equal(got.state_names[got.states.key], state[a])
    ok = (serving >= 0) & (serving < n_sats)
    a, b = runs_of([site[ok], serving[ok]], step[ok])
    assert len(a) > len(got.states.site)  # handovers: more serving runs than state runs
    for mine, want in ((got.links.site, site[ok][a]), (got.links.key, serving[ok][a]),
                       (got.links.first, step[ok][a]), (got.links.last, step[ok][b - 1])):
        np.testing.assert_array_equal(mine, want)
    np.testing.assert_array_equal(got.serving_counts, np.bincount(serving[ok], minlength=n_sats))
