"""The report's "Outages over time" section: how many dishes were in each state at each step
(a stacked area), and the outage share in dish-steps and dish-time.

Every figure weighs a dish-step as every results reader does (:mod:`leonet.results.quantiles`):
by the dishes its site stands for (:func:`leonet.results.summary.site_weights`) and, for time, by
the time its step stands for (:attr:`leonet.results.calendar.Calendar.weights`). So the outage
share here is one minus the availability of the summary, and the dish-time lost by cause is what
``leonet summary`` prints and what the day-by-day table's dish-hours add up to.

The counts are taken chunk file by chunk file (a chunk holds whole steps): what is held is one
chunk's rows, a count per step and state and a sum per site and state, never the dish_steps table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..summary import row_dishes, site_weights
from .markup import (STATE_COLOURS, STATE_MEANING, Plots, bucket_mean, dish_count, dish_time, epoch_ms, esc, fmt,
                     outage_states, table_columns)
from .run import ReportRun


@dataclass(frozen=True)
class StateTime:
    """The dishes' states over the run, dish- (and time-) weighted.

    dishes : per step (rows, ascending t) and state (columns): the dishes in that state (each
        site counts the dishes it stands for).
    site_steps : per site (rows) and state: dish-steps (the site's dishes x its steps in the state).
    site_s : per site and state: dish-seconds (the site's dishes x the time those steps stand for).
    n_dishes : the dishes of the sites with rows."""

    dishes: pd.DataFrame
    site_steps: pd.DataFrame
    site_s: pd.DataFrame
    n_dishes: float

    @property
    def state_s(self) -> dict[str, float]:
        """Dish-seconds per state, over all sites."""
        return {str(s): float(v) for s, v in self.site_s.sum(axis=0).items()}

    @property
    def dish_s(self) -> float:
        """Dish-seconds in all."""
        return float(self.site_s.to_numpy().sum())


def state_counts(run: ReportRun) -> StateTime:
    """:class:`StateTime` of the run's dish_steps, read chunk file by chunk file (cached on ``run``:
    the outage and service sections both read it). Sums taken chunk by chunk equal sums over the
    whole table within floating-point reordering (exactly, in a calendar of equal steps)."""
    cached = getattr(run, "_leonet_state_time", None)
    if cached is not None:
        return cached
    weights = site_weights(run.store)
    per_step, per_site = [], []
    seen = np.zeros(len(weights), dtype=bool)
    delivered = ["delivered"] if "delivered" in table_columns(run.store, "dish_steps") else []
    for part in run.store.parts("dish_steps"):
        d = pq.read_table(part, columns=["t", "site", "state", *delivered]).to_pandas()
        if not len(d):
            continue
        site = d["site"].to_numpy().astype(np.int64)
        seen[site] = True
        d["state"] = d["state"].astype(str)
        d["w"] = row_dishes(weights, site, d.pop("delivered") if delivered else None)  # its dishes delivered
        d["ws"] = d["w"] * run.cal.weight_of(d["t"].astype("int64").to_numpy()) * run.step_s  # dish-seconds
        per_step.append(d.groupby(["t", "state"], sort=True)["w"].sum().unstack(fill_value=0.0))
        per_site.append(d.groupby(["site", "state"], sort=True)[["w", "ws"]].sum())
    dishes = pd.concat(per_step).fillna(0.0) if per_step else pd.DataFrame()
    if not dishes.index.is_unique:  # a step in two chunk files (not written so): add its counts
        dishes = dishes.groupby(level=0).sum()
    if per_site:
        sums = pd.concat(per_site).groupby(level=[0, 1], sort=True).sum()
        site_steps = sums["w"].unstack(fill_value=0.0)
        site_s = sums["ws"].unstack(fill_value=0.0)
    else:
        site_steps = site_s = pd.DataFrame()
    out = StateTime(dishes=dishes, site_steps=site_steps, site_s=site_s, n_dishes=float(weights[seen].sum()))
    run._leonet_state_time = out
    return out


def outage_section(run: ReportRun, plots: Plots) -> str:
    """Dish states over time, and the outage share."""
    import plotly.graph_objects as go

    st = state_counts(run)
    counts = st.dishes
    # every state the run knows, so the legend explains the colours even when a state never occurs
    states = list(run.net.states) + [s for s in counts.columns if s not in run.net.states]
    counts = counts.reindex(columns=states, fill_value=0).sort_index().astype(np.float64)
    lost = outage_states(states)
    steps_of = st.site_steps.sum(axis=0)
    lost_steps = {s: float(steps_of.get(s, 0.0)) for s in lost}
    total_steps = float(steps_of.sum())
    state_s = st.state_s
    lost_s = {s: state_s.get(s, 0.0) for s in lost}
    down_s, dish_s = sum(lost_s.values()), st.dish_s
    binned, size = bucket_mean(counts)
    fig = go.Figure()
    x = epoch_ms(pd.Series(binned.index))
    for s in states:
        fig.add_trace(go.Scatter(x=x, y=binned[s].to_numpy(dtype=np.float32), mode="lines", name=s, stackgroup="states",
                                 line=dict(width=0.5, color=STATE_COLOURS.get(s, "#7f7f7f")),
                                 hovertemplate="%{x|%H:%M:%S}: %{y:.1f} dishes<extra>" + esc(s) + "</extra>"))
    fig.update_layout(title="Dish states over time", xaxis=dict(title="time (UTC)", type="date"), showlegend=True,
                      yaxis=dict(title="dishes", range=[0, max(1.0, st.n_dishes) * 1.02]))
    causes = ", ".join(f"{s} {dish_time(v)}" for s, v in lost_s.items() if v)
    if down_s and run.cal.even:  # equal steps: a share of dish-steps is a share of dish-time
        down = sum(lost_steps.values())
        by_steps = ", ".join(f"{s} {dish_count(n)} ({dish_time(lost_s[s])})" for s, n in lost_steps.items() if n)
        summary = (f"{dish_count(down)} of {dish_count(total_steps)} dish-steps "
                   f"({100.0 * down / max(total_steps, 1e-9):.2f} %) were in an outage: {by_steps}.")
    elif down_s:  # uneven steps (windows, a short last step): dish-time, each step weighted by its duration
        summary = (f"{fmt(down_s / 3600, 2)} of {fmt(dish_s / 3600, 2)} dish-hours "
                   f"({100.0 * down_s / max(dish_s, 1e-9):.2f} %) were in an outage: {causes}.")
    else:
        summary = f"No outages: all {dish_count(st.n_dishes)} dishes were connected at every step."
    binned_text = (f" The run's {len(counts):,} steps are averaged over buckets of {size} steps to keep the plot light."
                   if size > 1 else "")
    meaning = "; ".join(f"{esc(s)} ({esc(STATE_MEANING[s])})" if s in STATE_MEANING else esc(s) for s in states)
    return (f'<p class="explain">How many dishes were in each state at each step (each site counts the dishes it '
            f'stands for): {meaning}. {esc(summary)} Dish-steps count each site\'s dishes at each step; dish-time '
            f'also weighs each step by the time it stands for ({esc(run.cal.text())}), as the summary and the '
            f'day-by-day table do.{binned_text}</p>' + plots.div(fig, "plot-outages"))
