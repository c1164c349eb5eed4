"""The report's "RTT distribution" section: the RTT CDF of each dish group, and one thin line per
picked dish (computed a block of dish groups at a time by :mod:`.dishfigures`)."""

from __future__ import annotations

from .dishfigures import NO_CURVE
from .markup import MAX_GROUP_LINES, Plots, esc
from .run import ReportRun


def rtt_cdf_section(run: ReportRun, plots: Plots) -> str:
    """RTT CDF per group (the first MAX_GROUP_LINES) and per picked dish (hidden at first)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    groups = list(run.groups["group"])[:MAX_GROUP_LINES]
    weighted = not run.cal.even  # uneven steps (windows, a short last step): shares of time
    for g in groups:
        x, y = run.figures.rtt_cdf.get(g, NO_CURVE)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=str(g), line=dict(width=2.5, color=run.group_colour[g]),
                                 hovertemplate="%{x:.1f} ms: %{y:.1%}<extra>" + esc(g) + "</extra>"))
    dishes = run.picked
    if dishes:
        names = run.sites["name"].to_numpy()
        for i, s in enumerate(dishes):
            x, y = run.figures.dish_cdf.get(s, NO_CURVE)
            g = run.dish_group[s]
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", name=f"individual dishes ({len(dishes)})", legendgroup="dishes",
                showlegend=i == 0, visible="legendonly", opacity=0.45,
                line=dict(width=1, color=run.group_colour.get(g, "#999")),
                hovertemplate="%{x:.1f} ms: %{y:.1%}<extra>" + esc(names[s]) + "</extra>"))
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
