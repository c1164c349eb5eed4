"""The report's page parts: constants, number formatting, table cells, empirical CDFs, time
axes, and plotly figures as inline ``<div>`` + ``<script>`` (nothing fetched)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ... import states as vocabulary
from ..store import ResultStore
from ..summary import dish_time_text

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

CSS = """
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

def esc(text) -> str:
    return html.escape(str(text), quote=True)


def fmt(value, digits: int = 1, scale: float = 1.0) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if not np.isfinite(v):
        return "–"
    return f"{v * scale:,.{digits}f}"


def secs(value: float) -> str:
    """Seconds without trailing zeros: 1, 0.1, 600, 86,400."""
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def outage_states(states) -> list[str]:
    """The outage states in the order ``leonet summary`` lists lost time (:data:`leonet.states.OUTAGE_STATES`),
    then any other name of ``states`` that counts as one (a state unknown to this leonet)."""
    return list(vocabulary.OUTAGE_STATES) + [s for s in states if vocabulary.is_outage(s) and s not in vocabulary.OUTAGE_STATES]


def dish_count(value: float) -> str:
    """A count of dishes or dish-steps: whole with thousands separators, two decimals when a site
    stands for a fraction of a dish."""
    v = float(value)
    return f"{v:,.0f}" if v == round(v) else f"{v:,.2f}"


def dish_time(seconds: float) -> str:
    """Dish-time lost, in the units ``leonet summary`` prints it (its resilience table), so the
    report and the summary read the same (:func:`leonet.results.summary.dish_time_text`)."""
    return dish_time_text(seconds)


def num_cell(value, digits: int = 1, scale: float = 1.0, col: str = "") -> str:
    """A right-aligned number cell; ``data-value`` keeps the exact unscaled value."""
    try:
        raw = repr(float(value))
    except (TypeError, ValueError):
        raw = ""
    attr = f' data-col="{esc(col)}"' if col else ""
    return f'<td class="num"{attr} data-value="{esc(raw)}">{fmt(value, digits, scale)}</td>'


def text_cell(value, col: str = "") -> str:
    attr = f' data-col="{esc(col)}"' if col else ""
    return f"<td{attr}>{esc('' if value is None or (isinstance(value, float) and np.isnan(value)) else value)}</td>"


def ecdf(values: np.ndarray, max_points: int = CDF_POINTS, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
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


def epoch_ms(t) -> np.ndarray:
    """Milliseconds since the Unix epoch (float64): a plotly ``type="date"`` axis reads these as UTC,
    and they travel as a compact typed array rather than as date strings."""
    return naive_utc(t).to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e6


def naive_utc(t: pd.Series | pd.DatetimeIndex):
    """Timestamps without a zone (UTC)."""
    if isinstance(t, pd.Series):
        t = pd.to_datetime(t)
        return t.dt.tz_convert(None) if t.dt.tz is not None else t
    t = pd.DatetimeIndex(t)
    return t.tz_convert(None) if t.tz is not None else t


def bucket_mean(frame: pd.DataFrame, max_points: int = MAX_POINTS) -> tuple[pd.DataFrame, int]:
    """Mean over consecutive buckets of rows so that at most ``max_points`` remain."""
    n = len(frame)
    if n <= max_points:
        return frame, 1
    size = int(np.ceil(n / max_points))
    key = np.arange(n) // size
    out = frame.groupby(key).mean()
    out.index = frame.index[::size][: len(out)]
    return out, size


def palette_colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def table_columns(store: ResultStore, table: str) -> list[str]:
    """Column names of a per-step table (from the first chunk's schema), [] if absent."""
    parts = sorted((store.root / table).glob("part-*.parquet"))
    return list(pq.read_schema(parts[0]).names) if parts else []


_TOPOJSON_CACHE: str | None = None


def world_topojson() -> str:
    global _TOPOJSON_CACHE
    if _TOPOJSON_CACHE is None:
        _TOPOJSON_CACHE = (Path(__file__).parent.parent / "templates" / "world_110m.json").read_text(encoding="utf-8")
    return _TOPOJSON_CACHE


class Plots:
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
        return (f'<div class="plot" id="{esc(div_id)}"></div>\n<script>(function(){{var f={payload};'
                f'Plotly.newPlot({json.dumps(div_id)}, f.data, f.layout, {json.dumps(PLOT_CONFIG)});}})();</script>')


def short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def section(sid: str, title: str, body: str) -> tuple[str, str, str]:
    """(id, title, ``<section>`` html) of one report section."""
    return sid, title, f'<section id="{esc(sid)}">\n<h2>{esc(title)}</h2>\n{body}\n</section>'
