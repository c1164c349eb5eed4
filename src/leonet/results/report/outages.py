"""The report's "Outages over time" section: how many dishes were in each state at each step
(a stacked area), and the outage share in dish-steps (dish-hours in a windowed calendar).

The counts are taken chunk file by chunk file (a chunk holds whole steps): what is held is one
chunk's rows and a count per step and state, never the dish_steps table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ... import states as vocabulary
from .markup import STATE_COLOURS, STATE_MEANING, Plots, bucket_mean, epoch_ms, esc, fmt
from .run import ReportRun


def state_counts(run: ReportRun) -> tuple[pd.DataFrame, dict[str, float], float]:
    """(dish-steps per step (rows, ascending t) and state (columns), as the run wrote them; in a
    windowed calendar the dish-seconds per state and in all (each dish-step weighted by the time
    its step stands for; summed chunk by chunk, so equal to a sum over the whole table within
    floating-point reordering), else ({}, 0.0))."""
    frames = []
    weighted = not run.cal.even  # uneven steps (windows, a short last step): shares of time
    state_s: dict[str, float] = {}
    dish_s = 0.0
    for part in run.store.parts("dish_steps"):
        d = pq.read_table(part, columns=["t", "state"]).to_pandas()
        if not len(d):
            continue
        d["state"] = d["state"].astype(str)
        frames.append(d.groupby(["t", "state"], sort=True).size().unstack(fill_value=0))
        if weighted:
            ks = run.cal.weight_of(d["t"].astype("int64").to_numpy()) * run.step_s
            dish_s += float(ks.sum())
            for s in d["state"].unique():
                state_s[s] = state_s.get(s, 0.0) + float(ks[(d["state"] == s).to_numpy()].sum())
    counts = pd.concat(frames).fillna(0) if frames else pd.DataFrame()
    if not counts.index.is_unique:  # a step in two chunk files (not written so): add its counts
        counts = counts.groupby(level=0).sum()
    return counts, state_s, dish_s


def outage_section(run: ReportRun, plots: Plots) -> str:
    """Dish states over time, and the outage share."""
    import plotly.graph_objects as go

    counts, state_s, dish_s = state_counts(run)
    # every state the run knows, so the legend explains the colours even when a state never occurs
    states = list(run.net.states) + [s for s in counts.columns if s not in run.net.states]
    counts = counts.reindex(columns=states, fill_value=0).sort_index().astype(np.float64)
    n_dish = len(run.net.per_dish)
    lost = {s: int(counts[s].sum()) for s in states if vocabulary.is_outage(s)}
    total = int(counts.to_numpy().sum())
    binned, size = bucket_mean(counts)
    fig = go.Figure()
    x = epoch_ms(pd.Series(binned.index))
    for s in states:
        fig.add_trace(go.Scatter(x=x, y=binned[s].to_numpy(dtype=np.float32), mode="lines", name=s, stackgroup="states",
                                 line=dict(width=0.5, color=STATE_COLOURS.get(s, "#7f7f7f")),
                                 hovertemplate="%{x|%H:%M:%S}: %{y:.1f} dishes<extra>" + esc(s) + "</extra>"))
    fig.update_layout(title="Dish states over time", xaxis=dict(title="time (UTC)", type="date"), showlegend=True,
                      yaxis=dict(title="dishes", range=[0, max(1, n_dish) * 1.02]))
    down = sum(lost.values())
    if down and not run.cal.even:  # uneven steps: dish-time, each step weighted by its duration
        lost_s = {s: state_s.get(s, 0.0) for s in lost}
        causes = ", ".join(f"{s} {fmt(v / 3600, 2)} dish-h" for s, v in lost_s.items() if v)
        summary = (f"{down:,} of {total:,} dish-steps were in an outage; weighted by the time each step stands for, "
                   f"{fmt(sum(lost_s.values()) / 3600, 2)} of {fmt(dish_s / 3600, 2)} dish-hours "
                   f"({100.0 * sum(lost_s.values()) / max(dish_s, 1e-9):.2f} %): {causes}.")
    elif down:
        causes = ", ".join(f"{s} {n:,}" for s, n in lost.items() if n)
        summary = f"{down:,} of {total:,} dish-steps ({100.0 * down / max(1, total):.2f} %) were in an outage: {causes}."
    else:
        summary = f"No outages: all {n_dish:,} dishes were connected at every step."
    binned_text = (f" The run's {len(counts):,} steps are averaged over buckets of {size} steps to keep the plot light."
                   if size > 1 else "")
    meaning = "; ".join(f"{esc(s)} ({esc(STATE_MEANING[s])})" if s in STATE_MEANING else esc(s) for s in states)
    return (f'<p class="explain">How many dishes were in each state at each step: {meaning}. '
            f'{esc(summary)}{binned_text}</p>' + plots.div(fig, "plot-outages"))
