"""Every figure of the results readers weighs a dish-step by the time its step stands for and by
the dishes its site stands for, as availability does: the service summary's percentiles and
throughput (windows, sample windows, a uniform run's short last step), the day-by-day table
(sample windows), and the calendar's weights themselves. Also what `leonet summary` prints
(the resilience table and the events, as `leonet run` does), damaged static tables (one clean
message naming the file) and the app's sizes (dishes and dish sites).

Small scenarios (a 288-satellite shell, a few dishes) keep each run to a second or two.
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

import leonet
from leonet import cli
from leonet.errors import InputError
from leonet.results.calendar import Calendar, calendar
from leonet.results.compare import resilience_by_group
from leonet.results.quantiles import group_quantiles, weighted_quantile, weighted_quantiles
from leonet.results.store import ResultStore
from leonet.results.summary import network_summary
from leonet.results.timeline import DAY_NS, daily_table, step_spans_ns

START = "2022-03-01T12:00:00Z"
SHELL = {"shells": [{"name": "sh", "altitude_km": 550, "inclination_deg": 53, "planes": 24, "sats_per_plane": 12}]}
EUROPE = [{"name": "starlink-gateways-2023", "regions": ["Europe"]}, {"name": "starlink-pops-2023", "regions": ["Europe"]}]
KYIV = {"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 3, "radius_km": 10, "seed": 1}


def scenario(time: dict, events: list | None = None, ground: dict | None = None, **more):
    return leonet.scenario_from_dict({
        "name": "t", "constellation": SHELL,
        "ground": ground or {"dish_groups": [KYIV], "builtin": EUROPE},
        "time": {"start": START, **time}, "events": events or [], **more})


def run(tmp_path_factory, name: str, sc, baseline: bool = False) -> ResultStore:
    out = tmp_path_factory.mktemp(name) / "out"
    leonet.run(sc, out_dir=out, baseline=baseline)
    return ResultStore(out)


def dish_rows(store: ResultStore) -> pd.DataFrame:
    """dish_steps with each row's weight worked out here: the site's dishes x its step's duration
    (steps.parquet's duration_s in a windowed run; to the next instant or the end otherwise)."""
    d = store.read("dish_steps").to_pandas()
    sites = store.read("sites").to_pandas()
    t = d["t"].astype("int64").to_numpy()
    if (store.root / "steps.parquet").exists():
        steps = store.read("steps").to_pandas()
        dur = dict(zip(steps["t"].astype("int64"), steps["duration_s"]))
    else:
        m = store.manifest
        instants = np.unique(t)
        dur = dict(zip(instants, np.diff(np.r_[instants, m.end_ns]) / 1e9))
    d["n"] = sites["dishes"].to_numpy()[d["site"].to_numpy()]  # frequency weights (dishes)
    d["w"] = d["n"] * np.array([dur[x] for x in t])
    d["group"] = sites["group"].to_numpy()[d["site"].to_numpy()]
    return d


def by_hand(d: pd.DataFrame, column: str, q: float, finite: bool = False) -> float:
    v = d[column].to_numpy(dtype=np.float64)
    keep = np.isfinite(v) if finite else ~np.isnan(v)
    return weighted_quantile(v[keep], d["w"].to_numpy()[keep], q, counts=d["n"].to_numpy()[keep])


# -- the estimator -----------------------------------------------------------------------------------

def test_equal_weights_give_the_linear_quantile():
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 40, 301):
        x = rng.normal(20, 5, n)
        for w in (1.0, 7.5):
            got = weighted_quantiles(x, np.full(n, w), [0.0, 0.05, 0.1, 0.5, 0.95, 1.0])
            np.testing.assert_allclose(got, np.quantile(x, [0.0, 0.05, 0.1, 0.5, 0.95, 1.0]), rtol=1e-12)


def test_weights_count_as_shares():
    x = np.array([10.0, 20.0, 30.0])
    # scaling every weight changes nothing; a value holding almost all the weight is the quantile
    assert weighted_quantile(x, [1, 2, 3], 0.5) == pytest.approx(weighted_quantile(x, [60, 120, 180], 0.5), rel=1e-12)
    assert weighted_quantile(x, [1e-9, 1, 1e-9], 0.05) == pytest.approx(20.0, abs=1e-6)
    assert weighted_quantile(x, [1e-9, 1, 1e-9], 0.95) == pytest.approx(20.0, abs=1e-6)
    # a heavier value pulls the median towards it
    assert weighted_quantile(x, [1, 1, 8], 0.5) > weighted_quantile(x, [1, 1, 1], 0.5) == 20.0
    assert np.isnan(weighted_quantile([], [], 0.5)) and np.isnan(weighted_quantile([np.nan], [1.0], 0.5))
    with pytest.raises(ValueError):
        weighted_quantile(x, [1, -1, 1], 0.5)


def test_group_quantiles_are_pandas_for_equal_weights_and_per_group_otherwise():
    rng = np.random.default_rng(5)
    keys = rng.choice(["a", "b", "c"], 500)
    v = rng.normal(30, 4, 500)
    v[::17] = np.nan
    qs = {"p5": 0.05, "p50": 0.5, "p95": 0.95}
    # equal weights: pandas' figures bit for bit (the summaries' figures before weighting)
    got = group_quantiles(keys, v, np.full(500, 2.0), qs)
    g = pd.DataFrame({"k": keys, "v": v}).groupby("k", sort=False)["v"]
    for name, q in qs.items():
        np.testing.assert_array_equal(got[name].to_numpy(), g.quantile(q).reindex(got.index).to_numpy())
    np.testing.assert_array_equal(group_quantiles(keys, v, np.ones(500), {"m": 0.5}, median=True)["m"].to_numpy(),
                                  g.median().reindex(got.index).to_numpy())
    assert list(got.index) == list(pd.unique(keys))
    # uneven weights: a group's figures come from its own rows only (blocks give the same bits)
    w = rng.uniform(0.1, 3.0, 500)
    both = group_quantiles(keys, v, w, qs)
    for k in ("a", "b", "c"):
        alone = group_quantiles(keys[keys == k], v[keys == k], w[keys == k], qs)
        np.testing.assert_array_equal(alone.loc[k].to_numpy(), both.loc[k].to_numpy())
        mine = keys == k
        np.testing.assert_allclose(both.loc[k].to_numpy(), weighted_quantiles(v[mine], w[mine], list(qs.values())),
                                   rtol=1e-12)


# -- dish counts are frequency weights (bug: a site of N dishes was one sample of Kish's n*) ----------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3, allow_nan=False), st.integers(1, 40)), min_size=1, max_size=25),
       st.floats(0.01, 1e4), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6))
def test_counts_are_identical_samples(rows, t, qs):
    """Whole dish counts and equal steps: numpy's type 7 over the expanded sample, each dish one
    value (an independent oracle: np.repeat, np.quantile)."""
    v = np.array([r[0] for r in rows])
    n = np.array([r[1] for r in rows])
    want = np.quantile(np.repeat(v, n), qs)
    np.testing.assert_allclose(weighted_quantiles(v, n * t, qs, counts=n), want, rtol=1e-9, atol=1e-9)
    keys = np.array(["g"] * len(v))
    got = group_quantiles(keys, v, n * t, {f"q{i}": q for i, q in enumerate(qs)}, counts=n)
    np.testing.assert_allclose(got.loc["g"].to_numpy(), want, rtol=1e-9, atol=1e-9)


def test_counts_expand_rows_of_unequal_time():
    """Unequal steps: N dishes of a step of weight t are N rows of weight t each."""
    rng = np.random.default_rng(11)
    v, t, n = rng.normal(50, 20, 30), rng.uniform(0.1, 5.0, 30), rng.integers(1, 9, 30)
    qs = [0.0, 0.1, 0.5, 0.9, 1.0]
    np.testing.assert_allclose(weighted_quantiles(v, n * t, qs, counts=n),
                               weighted_quantiles(np.repeat(v, n), np.repeat(t, n), qs), rtol=1e-9)
    # counts of one are the estimator as it was; counts=None is unchanged
    np.testing.assert_array_equal(weighted_quantiles(v, t, qs, counts=np.ones(30)), weighted_quantiles(v, t, qs))
    keys = rng.choice(["a", "b"], 30)
    got = group_quantiles(keys, v, n * t, {"p": 0.1}, counts=n)
    for k in ("a", "b"):
        m = keys == k
        assert got.loc[k, "p"] == pytest.approx(weighted_quantile(np.repeat(v[m], n[m]), np.repeat(t[m], n[m]), 0.1),
                                                rel=1e-9)
    with pytest.raises(ValueError):
        weighted_quantiles(v, t, qs, counts=np.zeros(30))


def test_few_sites_of_many_dishes_count_every_dish():
    """The hunt's case: 2 sites x 2 steps of 72 dishes each (165.9, 6.87, 71.5, 67.6 Mbps): a
    quarter of the dish-time measures 6.87, so p10 is 6.87 (the sites as four samples gave 25.1)."""
    v = [165.9, 6.87, 71.5, 67.6]
    assert weighted_quantile(v, np.full(4, 72.0), 0.1, counts=72) == pytest.approx(6.87, rel=1e-12)
    got = group_quantiles(["G"] * 4, v, np.full(4, 72.0), {"p10": 0.1}, counts=np.full(4, 72))
    assert got.loc["G", "p10"] == pytest.approx(6.87, rel=1e-12)


@pytest.fixture(scope="module")
def sold_out_sixth(tmp_path_factory):
    """One group of two sites over two equal steps: 30 dishes at 100 Mbps and RTT 20 ms, 6 dishes
    (a sixth) online at 0 Mbps and 80 ms (the dish_steps rewritten after a tiny capacity run)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sites = [{"name": "A", "lat_deg": 50.45, "lon_deg": 30.52, "group": "G", "dishes": 30},
             {"name": "B", "lat_deg": 50.40, "lon_deg": 30.60, "group": "G", "dishes": 6}]
    store = run(tmp_path_factory, "soldout", scenario({"duration_s": 10, "step_s": 5},
                                                       ground={"sites": sites, "builtin": EUROPE},
                                                       capacity={"enabled": True}))
    for part in sorted((store.root / "dish_steps").glob("part-*.parquet")):
        t = pq.read_table(part)
        a = t.column("site").to_numpy() == 0
        state = pa.array(["CONNECTED"] * t.num_rows).cast(t.schema.field("state").type)
        new = {"state": state, "rtt_ms": np.where(a, 20.0, 80.0)}
        for c in ("downlink_bps", "speedtest_down_bps"):
            new[c] = np.where(a, 100e6, 0.0)
        for c, x in new.items():
            i = t.schema.get_field_index(c)
            t = t.set_column(i, t.schema.field(c), pa.array(x).cast(t.schema.field(c).type))
        pq.write_table(t, part)
    return store


def _rewritten(store: ResultStore, monkeypatch) -> ResultStore:
    monkeypatch.setattr(ResultStore, "chunk_problem", lambda self, table, chunk: None)  # rewritten on purpose
    store = ResultStore(store.root)
    d = store.read("dish_steps").to_pandas()
    assert calendar(store).even and len(d) == 4 and set(d["state"].astype(str)) == {"CONNECTED"}
    return store


def test_a_sold_out_sixth_of_the_dishes_is_the_summarys_p10(sold_out_sixth, monkeypatch):
    """16.7 % of the dishes at 0 Mbps: p10 is 0 in the summary (two sites as two samples gave
    71.5 Mbps), and p95 RTT is the sixth's 80 ms, in the resilience table too."""
    store = _rewritten(sold_out_sixth, monkeypatch)
    g = network_summary(store).by_group().set_index("group").loc["G"]
    assert g["dishes"] == 36
    assert g["down_p10_mbps"] == 0.0 and g["down_p50_mbps"] == 100.0
    assert g["rtt_p5_ms"] == 20.0 and g["rtt_p95_ms"] == 80.0


def test_a_sold_out_sixth_of_the_dishes_is_the_resilience_tables_p95(sold_out_sixth, monkeypatch):
    """The resilience (and compare) table's RTT: the sixth's 80 ms is the p95 (not 75.4)."""
    r = resilience_by_group(_rewritten(sold_out_sixth, monkeypatch), 5.0).loc["G"]
    assert r["rtt_p50_ms"] == 20.0 and r["rtt_p95_ms"] == 80.0


def test_a_sold_out_sixth_of_the_dishes_is_the_planners_p10(sold_out_sixth, monkeypatch):
    """The planner's region metrics alike (outages would count 0 too; here the sixth is online)."""
    from leonet.planning.metrics import region_metrics

    m = region_metrics(_rewritten(sold_out_sixth, monkeypatch), ["G"])
    assert m["p10_down_mbps"] == 0.0 and m["p10_speedtest_mbps"] == 0.0 and m["p50_speedtest_mbps"] == 100.0
    assert m["rtt_p95_ms"] == 80.0


# -- the service summary (bug: percentiles ignored step durations and dishes) -------------------------

WINDOWS = [{"start_s": 900, "duration_s": 60, "step_s": 7},
           {"start_s": 1800, "duration_s": 30, "step_s": 10, "sample": True},
           {"start_s": 3590, "duration_s": 100, "step_s": 3}]


@pytest.fixture(scope="module")
def windowed(tmp_path_factory):
    sc = scenario({"duration_s": 3600, "step_s": 600, "windows": WINDOWS},
                  [{"name": "core", "type": "core_outage", "start_s": 905, "end_s": 930}])
    return run(tmp_path_factory, "windowed", sc)


def test_windowed_percentiles_weigh_time(windowed):
    d = dish_rows(windowed)
    ns = network_summary(windowed)
    g = ns.by_group().set_index("group").loc["Kyiv"]
    for col, q in (("rtt_p5_ms", 0.05), ("rtt_p50_ms", 0.5), ("rtt_p95_ms", 0.95)):
        assert g[col] == pytest.approx(by_hand(d, "rtt_ms", q, finite=True), rel=1e-12), col
    # the steps' own median is not it (each of the window's 7 s steps would count as a 600 s one)
    assert abs(g["rtt_p50_ms"] - np.median(d["rtt_ms"][np.isfinite(d["rtt_ms"])])) > 0.5
    # availability, as before: shares of dish-time
    up = ~d["state"].astype(str).isin(["NO_PATH", "NO_SATELLITE", "OFFLINE", "JAMMED"])
    assert g["availability"] == pytest.approx((d["w"] * up).sum() / d["w"].sum(), rel=1e-12)
    for _, r in ns.per_dish.iterrows():
        mine = d[d["site"] == r["site"]]
        assert r["rtt_p50_ms"] == pytest.approx(by_hand(mine, "rtt_ms", 0.5, finite=True), rel=1e-12)


def test_service_and_resilience_tables_agree(windowed):
    service = network_summary(windowed).by_group().set_index("group")
    resilience = resilience_by_group(windowed, windowed.manifest.step_s)
    for col in ("availability", "rtt_p50_ms", "rtt_p95_ms"):
        assert service.loc["Kyiv", col] == pytest.approx(resilience.loc["Kyiv", col], rel=1e-12), col


@pytest.fixture(scope="module")
def mixed_dishes(tmp_path_factory):
    """One group of two sites far apart: one dish in Kyiv, a site standing for nine in Warsaw;
    with capacity (throughput columns) and a last step of 2 s (122 s at 5 s steps)."""
    sites = [{"name": "Kyiv-a", "lat_deg": 50.45, "lon_deg": 30.52, "group": "Kyiv", "dishes": 1},
             {"name": "Kyiv-b", "lat_deg": 52.23, "lon_deg": 21.01, "group": "Kyiv", "dishes": 9}]
    sc = scenario({"duration_s": 122, "step_s": 5}, ground={"sites": sites, "builtin": EUROPE},
                  capacity={"enabled": True})
    return run(tmp_path_factory, "mixed", sc)


def test_percentiles_and_throughput_weigh_dishes(mixed_dishes):
    d = dish_rows(mixed_dishes)
    assert not calendar(mixed_dishes).even
    g = network_summary(mixed_dishes).by_group().set_index("group").loc["Kyiv"]
    assert g["dishes"] == 10
    for col, q in (("rtt_p5_ms", 0.05), ("rtt_p50_ms", 0.5), ("rtt_p95_ms", 0.95)):
        assert g[col] == pytest.approx(by_hand(d, "rtt_ms", q, finite=True), rel=1e-12), col
    plain = d["rtt_ms"][np.isfinite(d["rtt_ms"])]
    assert abs(g["rtt_p50_ms"] - plain.median()) > 0.1  # two sites alike: not what nine dishes out of ten see
    for col, column, q in (("down_p10_mbps", "downlink_bps", 0.1), ("down_p50_mbps", "downlink_bps", 0.5),
                           ("up_p50_mbps", "uplink_bps", 0.5), ("speedtest_p50_mbps", "speedtest_down_bps", 0.5)):
        assert g[col] == pytest.approx(by_hand(d, column, q) / 1e6, rel=1e-12, abs=1e-12), col
    served = (d["w"] * d["downlink_bps"]).sum() / (d["w"] * d["demand_down_bps"]).sum()
    assert g["demand_served"] == pytest.approx(served, rel=1e-12)


@pytest.fixture(scope="module")
def uniform(tmp_path_factory):
    return run(tmp_path_factory, "uniform", scenario({"duration_s": 60, "step_s": 5}, capacity={"enabled": True}))


def test_a_uniform_run_gives_the_figures_it_gave_before(uniform):
    """Equal steps and one dish a site: the plain pandas figures, bit for bit."""
    d = uniform.read("dish_steps").to_pandas()
    d["group"] = uniform.read("sites").to_pandas()["group"].to_numpy()[d["site"].to_numpy()]
    assert calendar(uniform).even
    got = network_summary(uniform).by_group().set_index("group")
    finite = d[np.isfinite(d["rtt_ms"])]
    want = finite.groupby("group", sort=False)["rtt_ms"].quantile([0.05, 0.5, 0.95]).unstack()
    want.columns = ["rtt_p5_ms", "rtt_p50_ms", "rtt_p95_ms"]
    g = d.groupby("group", sort=False)
    want["down_p10_mbps"] = g["downlink_bps"].quantile(0.10) / 1e6
    want["down_p50_mbps"] = g["downlink_bps"].median() / 1e6
    want["up_p50_mbps"] = g["uplink_bps"].median() / 1e6
    want["speedtest_p50_mbps"] = g["speedtest_down_bps"].median() / 1e6
    want["demand_served"] = g["downlink_bps"].sum() / g["demand_down_bps"].sum().clip(lower=1e-9)
    pd.testing.assert_frame_equal(got[want.columns], want, check_exact=True, check_names=False)


# -- the most loaded satellites and gateways (bug: means per step, so windows' 10 s steps dominated) -----

@pytest.fixture(scope="module")
def windowed_capacity(tmp_path_factory):
    """An hour at 600 s steps with a 120 s window at 10 s (12 of its 18 steps), capacity on; a core
    outage takes the dishes off from 1,200 s to the end (four coarse steps: two thirds of the time)."""
    sc = scenario({"duration_s": 3600, "step_s": 600, "windows": [{"start_s": 900, "duration_s": 120, "step_s": 10}]},
                  [{"name": "core", "type": "core_outage", "start_s": 1200}],
                  capacity={"enabled": True})
    return run(tmp_path_factory, "wincap", sc)


def test_most_loaded_means_weigh_time_and_print_their_digits(windowed_capacity):
    import io

    from rich.console import Console

    from leonet.cli_summary import figures, print_network

    store = windowed_capacity
    steps = store.read("steps").to_pandas()
    lo = store.read("load_steps").to_pandas()
    lo = lo[lo["direction"].astype(str) == "down"]
    lo["s"] = steps.set_index(steps["t"].astype("int64"))["duration_s"].reindex(lo["t"].astype("int64")).to_numpy()
    total = steps["duration_s"].sum()
    sat = lo[lo["kind"].astype(str) == "satellite"]
    want_sat = (sat["utilisation"].astype(np.float64) * sat["s"]).groupby(sat["a"]).sum() / total
    feed = lo[lo["kind"].astype(str) == "feeder"].groupby(["t", "a"]).agg(load=("load_bps", "sum"), s=("s", "first"))
    want_gw = (feed["load"] * feed["s"]).groupby(level="a").sum() / total / 1e9
    ns = network_summary(store)
    got = ns.most_loaded()
    sats, gws = got[got["element"] == "satellite"], got[got["element"] == "gateway"]
    assert len(sats) == min(5, len(want_sat)) > 0 and len(gws) > 0
    # the top five by the time-weighted mean (ties aside), each figure by hand
    np.testing.assert_allclose(sats["mean_utilisation"], want_sat.nlargest(len(sats)).to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(gws["mean_load_gbps"], want_gw.nlargest(len(gws)).to_numpy(), rtol=1e-9)
    console = Console(file=io.StringIO(), width=2000)
    print_network(console, ns)
    text = console.file.getvalue()
    assert 0 < sats["mean_utilisation"].max() < 0.005  # small: at whole percent it read "0% mean"
    for _, r in sats.iterrows():
        assert f"sat {r['id']} {figures(100 * r['mean_utilisation'])}% mean" in text
    assert not re.search(r"sat \d+ 0% mean", text)


# -- throughput percentiles (bug: an outage's 0 Mbps counted as a slow link's) ------------------------

def test_throughput_percentiles_are_over_the_online_time(windowed_capacity):
    import io

    from rich.console import Console

    from leonet.app.network import regions
    from leonet.app.run import RunData
    from leonet.cli_summary import print_network

    store = windowed_capacity
    d = dish_rows(store)
    online = d[~d["state"].astype(str).isin(["NO_PATH", "NO_SATS", "OFFLINE", "JAMMED", "OBSTRUCTED"])]
    assert 1 - online["w"].sum() / d["w"].sum() == pytest.approx(2 / 3, rel=1e-12)  # the core outage
    ns = network_summary(store)
    g = ns.by_group().set_index("group").loc["Kyiv"]
    for col, column, q in (("down_p10_mbps", "downlink_bps", 0.1), ("down_p50_mbps", "downlink_bps", 0.5),
                           ("up_p50_mbps", "uplink_bps", 0.5), ("speedtest_p50_mbps", "speedtest_down_bps", 0.5)):
        assert g[col] == pytest.approx(by_hand(online, column, q) / 1e6, rel=1e-12, abs=1e-12), col
    # over all the time the outage's zeros would be the median speed test and the p10 downlink
    assert by_hand(d, "speedtest_down_bps", 0.5) == by_hand(d, "downlink_bps", 0.1) == 0.0
    assert g["speedtest_p50_mbps"] > 100 and g["down_p10_mbps"] > 0
    # demand served still counts every step (an outage serves none)
    served = (d["w"] * d["downlink_bps"]).sum() / (d["w"] * d["demand_down_bps"]).sum()
    assert g["demand_served"] == pytest.approx(served, rel=1e-12)
    for _, r in ns.per_dish.iterrows():
        mine = online[online["site"] == r["site"]]
        assert r["speedtest_p50_mbps"] == pytest.approx(by_hand(mine, "speedtest_down_bps", 0.5) / 1e6, rel=1e-12)
    # the app's regions give the summary's figures
    region = regions(RunData(store.root), 0, 10).regions[0]
    assert (region.speedtest_p50_mbps, region.downlink_p10_mbps) == pytest.approx((g["speedtest_p50_mbps"],
                                                                                  g["down_p10_mbps"]), rel=1e-12)
    console = Console(file=io.StringIO(), width=2000)
    print_network(console, ns)
    assert "percentiles over the online dish-time" in console.file.getvalue()


# -- top gateway and PoP (bug: a mode of rows, the first row winning a tie) ---------------------------------

def test_top_pop_is_by_dish_time_and_shows_a_tie(tmp_path):
    """Two sites of one dish each, one homed on FRA and one on MAD, tie: both are named. A site of
    nine dishes homed on MAD outweighs one of a dish on FRA (the rows tie: FRA's came first)."""
    here = {"lat_deg": 50.45, "lon_deg": 30.52}
    sites = [{"name": "t-fra", "group": "Tie", "dishes": 1, "home_pop": "frntdeu1", **here},
             {"name": "t-mad", "group": "Tie", "dishes": 1, "home_pop": "mdrdesp1", **here},
             {"name": "h-fra", "group": "Heavy", "dishes": 1, "home_pop": "frntdeu1", **here},
             {"name": "h-mad", "group": "Heavy", "dishes": 9, "home_pop": "mdrdesp1", **here}]
    sc = scenario({"duration_s": 60, "step_s": 10}, ground={"sites": sites, "builtin": EUROPE})
    leonet.run(sc, out_dir=tmp_path / "out")
    store = ResultStore(tmp_path / "out")
    d = dish_rows(store)
    names = store.read("sites").to_pandas()["name"].to_numpy()
    assert {names[p] for p in d["pop"]} == {"FRA", "MAD"} and (d["state"].astype(str) == "CONNECTED").all()
    ns = network_summary(store)
    g = ns.by_group().set_index("group")
    assert g.loc["Tie", "top_pop"] == "FRA = MAD"
    assert g.loc["Heavy", "top_pop"] == "MAD"
    per = ns.per_dish.set_index("name")
    assert per.loc["t-fra", "top_pop"] == "FRA" and per.loc["h-mad", "top_pop"] == "MAD"


# -- satellites in view (bug: the median counted steps, not time) -------------------------------------------

def test_the_median_of_satellites_in_view_weighs_time(windowed):
    from leonet.results.summary import coverage_summary

    v = windowed.read("site_steps", columns=["t", "site", "n_visible"]).to_pandas()
    steps = windowed.read("steps").to_pandas()
    v["s"] = steps.set_index(steps["t"].astype("int64"))["duration_s"].reindex(v["t"].astype("int64")).to_numpy()
    per = coverage_summary(windowed).per_site
    moved = 0
    for site, rows in v.groupby("site"):
        want = weighted_quantile(rows["n_visible"].to_numpy(), rows["s"].to_numpy(), 0.5)
        assert per["visible_median"].iat[site] == pytest.approx(want, rel=1e-12), per["name"].iat[site]
        moved += abs(want - np.median(rows["n_visible"])) > 0.4
    assert moved  # the windows' steps outvoted the coarse ones somewhere


# -- the calendar's weights (bug: a uniform run's short last step counted whole) -----------------------

@pytest.fixture(scope="module")
def short_last_step(tmp_path_factory):
    """61 s at 30 s steps (the last step stands for 1 s); the one dish is bricked from 60 s."""
    sc = scenario({"duration_s": 61, "step_s": 30}, [{"name": "brick", "type": "dish_bricking", "start_s": 60,
                                                      "target": {"groups": ["Kyiv"]}}],
                  ground={"dish_groups": [{**KYIV, "count": 1}], "builtin": EUROPE})
    return run(tmp_path_factory, "short", sc)


def test_a_short_last_step_weighs_its_time(short_last_step):
    cal = calendar(short_last_step)
    assert cal.uniform and not cal.even
    np.testing.assert_array_equal(cal.weights, [1.0, 1.0, 1.0 / 30.0])
    np.testing.assert_array_equal(cal.weight_of(cal.times_ns[::-1]), [1.0 / 30.0, 1.0, 1.0])
    g = network_summary(short_last_step).by_group().set_index("group").loc["Kyiv"]
    assert g["availability"] == pytest.approx(60 / 61, rel=1e-12)
    assert resilience_by_group(short_last_step, 30.0).loc["Kyiv", "availability"] == pytest.approx(60 / 61, rel=1e-12)
    assert daily_table(short_last_step)["online"].iloc[0] == pytest.approx(60 / 61, rel=1e-12)


# -- the day-by-day table (bug: sample windows weighed by the gap to the next instant) ---------------

@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    """4 h at 1 h steps, each hour sampled by a minute at 15 s steps; a core outage takes the
    dishes off for the third hour's first 30 s: 2 of its 4 samples, half of that hour."""
    windows = [{"start_s": k * 3600, "duration_s": 60, "step_s": 15, "sample": True} for k in range(4)]
    sc = scenario({"duration_s": 4 * 3600, "step_s": 3600, "windows": windows},
                  [{"name": "core", "type": "core_outage", "start_s": 7200, "end_s": 7230}])
    return run(tmp_path_factory, "sampled", sc)


def test_the_daily_table_weighs_sample_windows_as_the_summary(sampled):
    day = daily_table(sampled)
    assert len(day) == 1 and day["hours"].iloc[0] == pytest.approx(4.0, rel=1e-12)
    assert day["steps"].iloc[0] == 16 and day["dish_hours"].iloc[0] == pytest.approx(12.0, rel=1e-12)
    assert day["online"].iloc[0] == pytest.approx(0.875, rel=1e-12)
    g = network_summary(sampled).by_group().set_index("group").loc["Kyiv"]
    assert g["availability"] == pytest.approx(day["online"].iloc[0], rel=1e-12)


def test_app_outages_and_uptime_sum_the_steps_durations(sampled):
    """The app's outage durations and uptime are the time the steps stand for (900 s for each of
    an hour's four 15 s samples), not the gaps between their instants (bug: the core outage's two
    samples read 30 s, and the uptime after it 3,570 s at the next hour's first sample)."""
    from leonet.app import dish
    from leonet.app.run import RunData

    data = RunData(sampled.root)
    name = next(iter(data.site_of_dish))
    o = dish.outages(data, name, None, None, 100)
    assert [(x.start_step, x.end_step, x.duration_s) for x in o.outages] == [(8, 10, 1800.0)]
    assert o.seconds_by_cause == {"NO_PINGS": 1800.0}
    assert [dish.status(data, name, k, None).uptime_s for k in (10, 11, 12, 15)] == [0.0, 900.0, 1800.0, 4500.0]
    assert data.seconds(0, data.n_steps) == pytest.approx(4 * 3600.0, rel=1e-12)


def test_a_sample_window_across_midnight_splits_by_its_shares():
    """Four samples at 23:59:00, :15, :30, :45 share the hour 23:59 - 00:59 (15 min each): the
    first stands for 23:59 - 00:14, so one minute goes to the first day and the rest to the next."""
    t0 = 10 * DAY_NS - 60 * 10**9
    times = np.array([t0 + k * 15 * 10**9 for k in range(4)] + [t0 + 3600 * 10**9], dtype=np.int64)
    cal = Calendar(times_ns=times, durations_s=np.array([900.0] * 4 + [600.0]), step_s=3600.0, uniform=False,
                   end_ns=int(times[-1]) + 600 * 10**9)
    starts, ends = step_spans_ns(cal)
    np.testing.assert_array_equal(starts, [t0 + k * 900 * 10**9 for k in range(4)] + [times[-1]])
    np.testing.assert_array_equal(ends[:-1], starts[1:])
    assert ends[-1] == cal.end_ns
    # a calendar without sample windows: every stretch runs from its instant to the next
    even = Calendar(times_ns=times[:2], durations_s=np.array([15.0, 30.0]), step_s=15.0, uniform=False,
                    end_ns=int(times[1]) + 30 * 10**9)
    np.testing.assert_array_equal(step_spans_ns(even)[0], times[:2])


# -- leonet summary (bug: no resilience table, no events line) ----------------------------------------

@pytest.fixture
def wide_consoles(monkeypatch):
    """Tables on wide lines, so that names are never cut."""
    monkeypatch.setattr(cli.console, "width", 400)
    monkeypatch.setattr(cli.err_console, "width", 400)


def resilience_text(out: str) -> str:
    return out[out.index("Resilience per dish group"):out.index("Events:")] + out[out.index("Events:"):].splitlines()[0]


@pytest.mark.parametrize("baseline", [False, True])
def test_summary_prints_what_run_printed(tmp_path, capsys, wide_consoles, baseline):
    sc = scenario({"duration_s": 60, "step_s": 10},
                  [{"name": "core", "type": "core_outage", "start_s": 20, "end_s": 30}])
    (tmp_path / "s.yaml").write_text(sc.to_yaml())
    folder = tmp_path / "out"
    args = ["run", str(tmp_path / "s.yaml"), "--out", str(folder), "--no-report", "-q"]
    assert cli.main(args + (["--baseline"] if baseline else [])) == 0
    ran = capsys.readouterr().out
    assert cli.main(["summary", str(folder)]) == 0
    summarised = capsys.readouterr().out
    assert "Events: core (core_outage)" in summarised
    assert ("scenario vs baseline" in summarised) == baseline
    assert resilience_text(summarised) == resilience_text(ran)


# -- damaged static tables (bug: a pyarrow traceback) ---------------------------------------------------

@pytest.mark.parametrize("table", ["sites", "satellites", "steps"])
def test_a_damaged_static_table_is_named(windowed, tmp_path, capsys, wide_consoles, table):
    folder = shutil.copytree(windowed.root, tmp_path / "run")
    with open(folder / f"{table}.parquet", "ab") as fh:
        fh.write(b"x\n")
    for args in (["summary", str(folder)], ["export", "csv", str(folder), str(tmp_path / "csv")],
                 ["report", str(folder)]):
        code = cli.main(args)
        out, err = capsys.readouterr()
        assert code == 2, (args, out, err)
        assert re.search(rf"damaged results: {table}\.parquet cannot be read", err), (args, err)
        assert "Traceback" not in err and "ArrowInvalid" not in err
    assert not (folder / "report.html").exists() and not (tmp_path / "csv").exists()


def test_a_missing_column_of_a_static_table_is_not_damage(windowed):
    with pytest.raises(InputError, match=r"sites\.parquet has no column 'nope'") as err:
        windowed.read("sites", columns=["name", "nope"])
    assert "damaged" not in str(err.value)


# -- the app (bug: sizes.dishes counted dish sites) ------------------------------------------------------

def test_app_sizes_count_dishes_and_dish_sites(tmp_path):
    from leonet.app.network import regions
    from leonet.app.run import RunData

    sc = scenario({"duration_s": 10, "step_s": 5},
                  ground={"dish_groups": [{**KYIV, "dishes_per_site": 50}], "builtin": EUROPE})
    leonet.run(sc, out_dir=tmp_path / "out")
    data = RunData(tmp_path / "out")
    sizes = data.info().sizes
    assert sizes.dish_sites == 3 and sizes.dishes == 150
    assert sizes.dishes == sum(r.dishes for r in regions(data, 0, 100).regions)
