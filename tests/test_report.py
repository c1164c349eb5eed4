"""The HTML run report: sections, embedded plotly.js, no external references, numbers equal to the
summaries, graceful omission of dish or pair sections, and (with Chromium) an offline load in a
real browser that makes no request beyond the file itself."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leonet
from leonet.results.report import DISH_SECTIONS, MAX_POINTS, PAIR_SECTIONS, write_report
from leonet.results.store import ResultStore
from leonet.results.calendar import calendar
from leonet.results.compare import resilience_by_group
from leonet.results.report.markup import dish_time
from leonet.results.summary import network_summary, site_weights
from leonet.states import OUTAGE_STATES

# End to end: reports of real runs (the Chromium check is also marked browser).
pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
GEO_ASSETS = 'window.PlotlyGeoAssets={topojson:{"world_110m":{'  # the report's embedded base map


class _Page(HTMLParser):
    """Collects what the tests look at: ids, tags with their attributes, table cells."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict]] = []
        self.tables: dict[str, list[dict[str, tuple[str | None, str]]]] = {}
        self._table: str | None = None
        self._row: dict | None = None
        self._cell: tuple[str | None, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = {}
        elif tag == "td" and self._row is not None:
            self._cell = (a.get("data-col"), a.get("data-value"))
            self._text = []

    def handle_data(self, data):
        if self._cell is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            col, value = self._cell
            if col:
                self._row[col] = (value, "".join(self._text).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _figures(text: str) -> dict[str, dict]:
    """The plotly figures of the page, by div id."""
    out = {}
    for m in re.finditer(r"<script>\(function\(\)\{var f=(\{.*?\});Plotly\.newPlot\((\"[^\"]+\")", text, re.S):
        out[json.loads(m.group(2))] = json.loads(m.group(1))
    return out


def _length(v) -> int:
    """Length of a trace array: a list, or plotly's typed array {"dtype", "bdata"} (base64)."""
    if isinstance(v, list):
        return len(v)
    if isinstance(v, dict) and "bdata" in v:
        return len(base64.b64decode(v["bdata"])) // np.dtype(v["dtype"]).itemsize
    return 0


def _assert_no_external_references(text: str, page: _Page) -> None:
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed"), f"external-capable tag <{tag}> {attrs}"
        if tag == "script":
            assert "src" not in attrs, f"<script src={attrs['src']!r}>"
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.I)
    assert not re.search(r"<link\b[^>]*href\s*=\s*[\"']?https?:", text, re.I)
    assert not re.search(r"@import|url\(\s*[\"']?https?:", text, re.I)


@pytest.fixture(scope="module")
def dish_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "ukraine"
    leonet.run(leonet.load_scenario("ukraine-gen1", overrides={"time.duration_s": 60}), out_dir=out)
    return out


@pytest.fixture(scope="module")
def dish_report(dish_run) -> tuple[Path, str]:
    path = write_report(dish_run)
    return path, path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pair_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "hypatia"
    leonet.run(leonet.load_scenario("hypatia-starlink", overrides={"time.duration_s": 0.3}), out_dir=out)
    return out


def test_report_is_written_next_to_the_results(dish_run, dish_report):
    path, text = dish_report
    assert path == dish_run / "report.html"
    assert text.startswith("<!DOCTYPE html>")
    assert 4_000_000 < path.stat().st_size < 8_000_000, "plotly.js inline plus small figures"


def test_sections_and_header(dish_report):
    _, text = dish_report
    page = _parse(text)
    for sid in ("overview", *DISH_SECTIONS, "coverage"):
        assert sid in page.ids, sid
    assert "pairs" not in page.ids and "no-pairs" in page.ids
    assert "ukraine-gen1" in text and "Starlink Gen1 over Ukraine" in text
    assert "2022-03-01 12:00:00 to 2022-03-01 12:01:00 UTC" in text
    assert "4,408 in 5 shells" in text and "30 dishes, 18 gateways, 3 PoPs" in text
    assert f"report by {leonet.__version__}" in text
    # throughput is not modelled yet: a note, not a plot
    assert "throughput-not-modelled" in page.ids
    assert not any(k.startswith("plot-throughput") for k in _figures(text))


def test_plotly_is_embedded_and_nothing_is_external(dish_report):
    import plotly.offline

    _, text = dish_report
    page = _parse(text)
    assert plotly.offline.get_plotlyjs()[:2000] in text
    assert GEO_ASSETS in text, "the map's base layers are embedded"
    _assert_no_external_references(text, page)
    figs = _figures(text)
    assert {"plot-rtt-cdf", "plot-rtt-time", "plot-availability-map", "plot-outages"} <= set(figs)


def test_summary_table_equals_network_summary(dish_run, dish_report):
    _, text = dish_report
    rows = _parse(text).tables["group-summary"]
    store = ResultStore(dish_run)
    groups = network_summary(store).by_group()
    assert [r["group"][1] for r in rows] == list(groups["group"])
    resilience = resilience_by_group(store, store.manifest.step_s)
    d = store.read("dish_steps", columns=["t", "site"]).to_pandas()
    sites = store.read("sites", columns=["group"]).column("group").to_numpy(zero_copy_only=False)
    d["group"] = np.where(sites == "", "dish", sites)[d["site"].to_numpy()]
    d["w"] = site_weights(store)[d["site"].to_numpy()]
    d["ws"] = d["w"] * calendar(store).duration_of(d["t"].astype("int64").to_numpy())
    for row, (_, g) in zip(rows, groups.iterrows()):
        for col in ("dishes", "availability", "rtt_p5_ms", "rtt_p50_ms", "rtt_p95_ms", "path_changes"):
            assert float(row[col][0]) == pytest.approx(float(g[col]), rel=1e-12, abs=0), (g["group"], col)
        assert row["availability"][1] == f"{g['availability'] * 100:.2f}"
        assert row["rtt_p50_ms"][1] == f"{g['rtt_p50_ms']:.1f}"
        for col in ("top_gateway", "top_pop"):
            assert row[col][1] == str(g[col]), (g["group"], col)
        # dish-steps: each site's dishes at each step; dish-hours and lost time: x the time each step stands for
        mine = d[d["group"] == g["group"]]
        assert float(row["dish_steps"][0]) == pytest.approx(float(mine["w"].sum()), rel=1e-12)
        assert float(row["dish_hours"][0]) == pytest.approx(float(mine["ws"].sum()) / 3600, rel=1e-12)
        lost = resilience.loc[g["group"]]
        want = ", ".join(f"{c} {dish_time(lost[f'lost_s_{c}'])}" for c in OUTAGE_STATES
                         if lost.get(f"lost_s_{c}", 0)) or "-"
        assert row["outage_time"][1] == want, g["group"]


def test_plots_are_bounded(dish_run, dish_report):
    _, text = dish_report
    figs = _figures(text)
    time_fig = figs["plot-rtt-time"]
    names = [t.get("name", "") for t in time_fig["data"]]
    assert "15 s slot boundary" in names
    n_groups = len(network_summary(ResultStore(dish_run)).by_group())
    assert sum(1 for n in names if n.endswith(")") and "(" in n and not n.startswith("15 s")) == n_groups
    # slot boundaries sit at UTC seconds 12, 27, 42, 57: 12:00:12, :27, :42, :57 in the first minute
    slot = next(t for t in time_fig["data"] if t.get("name") == "15 s slot boundary")
    xs = sorted({x for x in slot["x"] if x is not None})
    secs = [round((x / 1000) % 60) for x in xs]
    assert secs == [12, 27, 42, 57]
    for fig in figs.values():
        for trace in fig["data"]:
            for axis in ("x", "y", "lat", "lon"):
                n = _length(trace.get(axis))
                assert n <= 3 * MAX_POINTS, (trace.get("name"), axis, n)


def test_max_dishes_in_plots_limits_dish_lines(dish_run, tmp_path):
    text = write_report(dish_run, tmp_path / "r.html", max_dishes_in_plots=7).read_text(encoding="utf-8")
    cdf = _figures(text)["plot-rtt-cdf"]
    assert sum(1 for t in cdf["data"] if t.get("legendgroup") == "dishes") == 7
    text = write_report(dish_run, tmp_path / "r0.html", max_dishes_in_plots=0).read_text(encoding="utf-8")
    assert not any(t.get("legendgroup") == "dishes" for t in _figures(text)["plot-rtt-cdf"]["data"])


def _record_chunks_again(folder, table):
    """After a test rewrote a table's chunk files on purpose: record their rows and sha256 in the
    manifest, as a run does (otherwise readers refuse them as damaged)."""
    from leonet.results.store import parquet_record

    store = ResultStore(folder)
    m = store.read_manifest()
    records = {int(p.stem[5:]): parquet_record(p.read_bytes()) for p in sorted((folder / table).glob("part-*.parquet"))}
    store.write_manifest(m.model_copy(update={"chunks": {**m.chunks, table: records}}))


def test_throughput_column_is_plotted_when_present(dish_run, tmp_path):
    run = tmp_path / "with-throughput"
    shutil.copytree(dish_run, run)
    rng = np.random.default_rng(1)
    for part in sorted((run / "dish_steps").glob("part-*.parquet")):
        table = pq.read_table(part)
        bps = rng.uniform(50e6, 250e6, table.num_rows)
        pq.write_table(table.append_column("downlink_bps", pa.array(bps)), part)
    _record_chunks_again(run, "dish_steps")
    text = write_report(run).read_text(encoding="utf-8")
    page = _parse(text)
    assert "throughput-not-modelled" not in page.ids
    fig = _figures(text)["plot-throughput-downlink"]
    assert len(fig["data"]) == len(network_summary(ResultStore(run)).by_group())
    assert "Mbit/s" in fig["layout"]["xaxis"]["title"]["text"]
    assert "plot-throughput-uplink" not in _figures(text)


def test_pairs_only_run_omits_dish_sections(pair_run):
    text = write_report(pair_run).read_text(encoding="utf-8")
    page = _parse(text)
    for sid in DISH_SECTIONS:
        assert sid not in page.ids, sid
    assert "no-dishes" in page.ids and "no-pairs" not in page.ids
    for sid in PAIR_SECTIONS:
        assert sid in page.ids
    assert "plot-pair-rtt" in _figures(text)
    assert GEO_ASSETS not in text, "no map, no base layers"
    _assert_no_external_references(text, page)
    rows = page.tables["pair-top"]
    pp = network_summary(ResultStore(pair_run)).per_pair
    assert len(rows) == 20
    medians = [float(r["rtt_p50_ms"][0]) for r in rows]
    assert medians == sorted(medians, reverse=True)
    assert medians[0] == pytest.approx(float(pp["rtt_p50_ms"].max()), rel=1e-12)


def test_not_a_results_folder(tmp_path):
    with pytest.raises(leonet.InputError, match="not a leonet results folder"):
        write_report(tmp_path)


def _browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    return sync_api


@pytest.mark.browser
@pytest.mark.parametrize("which", ["dishes", "pairs"])
def test_report_opens_offline_in_chromium(which, dish_report, pair_run):
    sync_api = _browser()
    path = dish_report[0] if which == "dishes" else write_report(pair_run)
    requests: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri(), wait_until="load")
            want = 4 if which == "dishes" else 1
            page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {want}", timeout=30_000)
            page.wait_for_timeout(500)  # let the geo plot draw its base layers
            n_plots = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
            n_traces = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                                     ".map(d => d.querySelectorAll('.trace, .scatterlayer path').length)")
            land = page.evaluate("document.querySelectorAll('.geo .layer.land path').length")
            shot = page.screenshot(full_page=False)
        finally:
            browser.close()
    external = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert not external, f"the report fetched {external}"
    assert not errors, errors
    assert n_plots >= want and all(n > 0 for n in n_traces), n_traces
    if which == "dishes":
        assert n_plots > 3
        assert land >= 1, "the map's land layer was drawn from the embedded topojson"
    assert len(shot) > 20_000, "the screenshot is not blank"


def test_rtt_lines_break_after_sample_windows():
    """After a sample window (time.windows[].sample) the RTT-over-time line breaks: the time to the
    next instant was not simulated. Without sample windows lines are left whole."""
    from leonet.results.report.rtttime import _broken

    x = np.array([0.0, 15e3, 30e3, 3600e3, 3615e3])   # ms: a window of 3 steps, then the next hour's
    y = np.array([40, 41, 42, 50, 51], dtype=np.float32)
    bx, by = _broken(x, y, np.array([45e3, 3660e3]))  # the two windows end at 45 s and 3,660 s
    assert len(bx) == 6 and np.isnan(by[3]) and bx[3] == pytest.approx((30e3 + 3600e3) / 2)
    assert np.array_equal(by[[0, 1, 2, 4, 5]], y)
    wx, wy = _broken(x, y, np.zeros(0))
    assert np.array_equal(wx, x) and not np.isnan(wy).any()
