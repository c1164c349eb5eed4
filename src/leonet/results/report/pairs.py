"""The report's "Station pairs" section: the RTT CDF of every pair-step (exact order statistics,
chunk file by chunk file: :mod:`leonet.results.order_stats`) and of each pair's median, RTT over
time of the pairs with the highest median RTT (the chunk files of the first :data:`MAX_POINTS`
steps only), and those pairs in a table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..order_stats import ecdf_points
from .markup import (CDF_POINTS, MAX_POINTS, MAX_TIME_ONE_PLOT, MAX_TIME_PANELS, TIME_PANEL_COLUMNS, TOP_PAIRS, Plots,
                     ecdf, epoch_ms, esc, num_cell, palette_colour, short, text_cell)
from .run import ReportRun, first_steps


def pairs_section(run: ReportRun, plots: Plots) -> str:
    """The station-pair section."""
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
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="all pair-steps", line=dict(width=2.5, color=palette_colour(0))))
    x, y = ecdf(pp["rtt_p50_ms"].to_numpy(dtype=np.float64))
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="median of each pair", line=dict(width=2, dash="dash",
                                                                                            color=palette_colour(1))))
    fig.update_layout(title="Station-pair RTT CDF", xaxis_title="RTT (ms)",
                      yaxis=dict(title="share", tickformat=".0%", range=[0, 1.02]))
    top = pp.sort_values("rtt_p50_ms", ascending=False, kind="stable", na_position="first").head(TOP_PAIRS)
    rows = "".join(
        "<tr>" + text_cell(r["src"], "src") + text_cell(r["dst"], "dst") + num_cell(r["availability"], 2, 100.0, "availability")
        + num_cell(r.get("rtt_p5_ms"), 1, col="rtt_p5_ms") + num_cell(r.get("rtt_p50_ms"), 1, col="rtt_p50_ms")
        + num_cell(r.get("rtt_p95_ms"), 1, col="rtt_p95_ms") + num_cell(r.get("hops_p50"), 0, col="hops_p50")
        + num_cell(r["path_changes"], 0, col="path_changes") + "</tr>"
        for _, r in top.iterrows())
    reach = (f"{unreachable:,} of {n_pair_steps:,} pair-steps had no route." if unreachable
             else f"Every pair had a route at every one of the {n_pair_steps:,} pair-steps.")
    return ('<p class="explain">Ground-station pairs follow Hypatia\'s semantics: a station links to every '
            'satellite in view, stations never relay, and routes are recomputed at every step. The RTT is '
            f'propagation only. {len(pp):,} pairs (each direction counts). {esc(reach)}</p>'
            + plots.div(fig, "plot-pair-rtt")
            + _pair_time(run, plots, pp)
            + f'<h3>The {len(top)} pairs with the highest median RTT</h3>'
            '<table id="pair-top"><thead><tr><th>from</th><th>to</th><th>availability (%)</th><th>RTT p5 (ms)</th>'
            '<th>RTT p50 (ms)</th><th>RTT p95 (ms)</th><th>hops p50</th><th>path changes</th></tr></thead>'
            f'<tbody>{rows}</tbody></table>')


def _pair_time(run: ReportRun, plots: Plots, pp: pd.DataFrame) -> str:
    """RTT over time per pair: every pair when there are at most MAX_TIME_PANELS (one plot up to
    MAX_TIME_ONE_PLOT, small multiples beyond), else the TOP_PAIRS with the highest median RTT."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ranked = pp.sort_values("rtt_p50_ms", ascending=False, kind="stable", na_position="first")
    chosen = ranked if len(pp) <= MAX_TIME_PANELS else ranked.head(TOP_PAIRS)
    names = run.sites["name"].astype(str).to_numpy()
    index = {n: i for i, n in reversed(list(enumerate(names)))}
    pairs = [(index[str(r["src"])], index[str(r["dst"])]) for _, r in chosen.iterrows()]
    d, n_times = first_steps(run.store.parts("pair_steps"), ["t", "src", "dst", "rtt_ms"],
                             [("src", "in", sorted({a for a, _ in pairs})), ("dst", "in", sorted({b for _, b in pairs}))],
                             MAX_POINTS)
    times = np.sort(d["t"].unique())
    window = ""
    if n_times > MAX_POINTS:
        d = d[d["t"] <= times[MAX_POINTS - 1]]
        window = f" The run has {n_times:,} steps; the first {MAX_POINTS:,} are shown."
    d = d.sort_values("t", kind="stable")
    rtt = d["rtt_ms"].to_numpy(dtype=np.float64)
    d["rtt_ms"] = np.where(np.isfinite(rtt), rtt, np.nan)
    panels = len(pairs) > MAX_TIME_ONE_PLOT
    if panels:
        rows = -(-len(pairs) // TIME_PANEL_COLUMNS)
        fig = make_subplots(rows=rows, cols=TIME_PANEL_COLUMNS, shared_xaxes=True,
                            subplot_titles=[short(f"{names[a]} → {names[b]}", 40) for a, b in pairs],
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
        fig.add_trace(go.Scatter(x=epoch_ms(x["t"]), y=x["rtt_ms"].to_numpy(dtype=np.float32), mode="lines",
                                 name=label, showlegend=not panels,
                                 line=dict(width=1.4, color=palette_colour(0 if panels else i)),
                                 hovertemplate="%{x|%H:%M:%S.%L}: %{y:.2f} ms<extra>" + esc(label) + "</extra>"), **where)
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
