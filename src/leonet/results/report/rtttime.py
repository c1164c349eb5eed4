"""The report's "RTT over time" section: one dish per group (the dish whose median RTT is closest to
its group's), step by step over the first :data:`MAX_POINTS` steps, with the slot boundaries.

Only the chunk files that hold those steps are kept (:func:`.run.first_steps`), so memory does not
grow with the length of the run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import states as vocabulary
from .markup import (MAX_POINTS, MAX_TIME_ONE_PLOT, MAX_TIME_PANELS, TIME_PANEL_COLUMNS, Plots, epoch_ms, esc, fmt,
                     naive_utc, palette_colour, secs)
from .run import ReportRun, first_steps


def rtt_time_section(run: ReportRun, plots: Plots) -> str:
    """RTT over time of one dish per group (one plot, or small multiples beyond MAX_TIME_ONE_PLOT)."""
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
    d, n_times = first_steps(run.store.parts("dish_steps"),
                             ["t", "site", "slot_start", "state", "rtt_ms", "rerouted_mid_slot"],
                             [("site", "in", sites)], MAX_POINTS)
    times = np.sort(d["t"].unique())
    window = ""
    if n_times > MAX_POINTS:
        d = d[d["t"] <= times[MAX_POINTS - 1]]
        shown_min = (MAX_POINTS * run.step_s / 60 if run.cal.uniform
                     else (int(pd.Timestamp(times[MAX_POINTS - 1]).value) - int(pd.Timestamp(times[0]).value)) / 60e9)
        window = (f" The run has {n_times:,} steps; the first {MAX_POINTS:,} "
                  f"({fmt(shown_min, 1)} min) are shown, at full resolution, so the slot "
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
        bounds = naive_utc(bounds[(bounds > t_first) & (bounds <= t_last)])
        if len(bounds):
            bx = np.repeat(epoch_ms(bounds), 3).astype(object)
            bx[2::3] = None
            by = np.tile(np.array([lo, hi, None], dtype=object), len(bounds))
            fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", name=f"{secs(run.slot_s)} s slot boundary", hoverinfo="skip",
                                     line=dict(color="#999", width=1, dash="dot")))
    ends_ms = _sample_ends_ms(run)
    for i, (g, s) in enumerate(chosen):
        x = d[d["site"] == s]
        where = dict(row=i // TIME_PANEL_COLUMNS + 1, col=i % TIME_PANEL_COLUMNS + 1) if panels else {}
        tx, ty = _broken(epoch_ms(x["t"]), x["rtt_ms"].to_numpy(dtype=np.float32), ends_ms)
        fig.add_trace(go.Scatter(x=tx, y=ty, mode="lines",
                                 name=f"{names[s]} ({g})", showlegend=not panels,
                                 line=dict(width=1.4 if panels else 1.8, color=palette_colour(i) if not panels else palette_colour(0)),
                                 hovertemplate="%{x|%H:%M:%S}: %{y:.2f} ms<extra>" + esc(names[s]) + "</extra>"), **where)
        rr = x[x["rerouted_mid_slot"].to_numpy(dtype=bool) & np.isfinite(x["rtt_ms"].to_numpy())]
        if len(rr):
            fig.add_trace(go.Scatter(x=epoch_ms(rr["t"]), y=rr["rtt_ms"].to_numpy(dtype=np.float32), mode="markers",
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
    shown = epoch_ms(pd.Series(np.sort(d["t"].unique())))
    gaps = (" Lines break after each sample window (time.windows[].sample): the time between samples was not "
            "simulated." if len(_cuts(shown, ends_ms)) else "")
    return ('<p class="explain">The round-trip time of one dish per group (the dish whose median RTT is closest to '
            "its group's), step by step" + (", one panel per group, on shared axes" if panels else "") +
            (f". The {secs(run.slot_s)} s slots" if panels else f". Dotted lines mark the {secs(run.slot_s)} s slots") +
            ": the serving satellite and the route "
            "are chosen at a slot's start and held through it, so the RTT drifts smoothly within a slot and "
            "jumps at its boundaries. Gaps are steps without a connection; crosses mark reroutes inside a slot "
            f"because a link of the held path broke.{gaps}{more}{window}</p>" + plots.div(fig, "plot-rtt-time", height=height))


def _sample_ends_ms(run: ReportRun) -> np.ndarray:
    """(W,) the end of each sample window (``time.windows[].sample``), ms since the epoch: the time
    after a sample window, up to the next instant, was not simulated (its samples stand for it)."""
    return np.array([w.end_ns / 1e6 for w in run.cal.windows if w.sample], dtype=np.float64)


def _cuts(x_ms: np.ndarray, ends_ms: np.ndarray) -> np.ndarray:
    """Indices k of the gaps between ``x_ms[k]`` and ``x_ms[k + 1]`` (sorted, ms) that a sample
    window's end ``ends_ms`` falls in."""
    x = np.asarray(x_ms, dtype=np.float64)
    if len(x) < 2 or not len(ends_ms):
        return np.zeros(0, dtype=np.int64)
    k = np.searchsorted(x, np.asarray(ends_ms, dtype=np.float64), side="left") - 1
    return np.unique(k[(k >= 0) & (k < len(x) - 1)])


def _broken(x_ms: np.ndarray, y: np.ndarray, ends_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` with a NaN point (plotly breaks a line there) in each gap :func:`_cuts` finds."""
    x = np.asarray(x_ms, dtype=np.float64)
    y = np.asarray(y, dtype=np.float32)
    cut = _cuts(x, ends_ms)
    if not len(cut):
        return x, y
    return np.insert(x, cut + 1, (x[cut] + x[cut + 1]) / 2), np.insert(y, cut + 1, np.float32("nan"))
