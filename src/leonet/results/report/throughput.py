"""The report's "Throughput" section: the CDF of each throughput column per dish group over its
online time where the run had the capacity model (computed a block of dish groups at a time by
:mod:`.dishfigures`), and a note where it did not."""

from __future__ import annotations

from .dishfigures import NO_CURVE
from .markup import MAX_GROUP_LINES, Plots
from .run import ReportRun


def throughput_section(run: ReportRun, plots: Plots) -> str:
    """Throughput CDFs per group (one plot per throughput column), or why there are none."""
    import plotly.graph_objects as go

    cols = run.figures.throughput_columns
    if not cols:
        return ('<p class="note" id="throughput-not-modelled">Throughput was not modelled in this run: the '
                'scenario did not enable the capacity model (<code>capacity.enabled: true</code>), so there is no '
                'speed to show here.</p>')
    weighted = not run.cal.even  # uneven steps (windows, a short last step): shares of time
    # say what the curves count (dishfigures): site-steps, each weighted by its step's time on an
    # uneven calendar, never by the dishes a site stands for (unlike the service table)
    what = ("online time of its dish sites (each dish site's step weighted by the time it stands for)" if weighted
            else "online steps of its dish sites")
    out = [f'<p class="explain">Per group, the share of the {what} at which the throughput is at most x '
           '(Mbit/s; an online step without traffic counts as 0). Outage steps are left out, as in '
           '<code>leonet summary</code>\'s throughput percentiles: availability counts them, not the speed. '
           'Each dish site counts once, however many dishes it stands for (the service table weighs those).</p>']
    for c, label in cols:
        fig = go.Figure()
        for g in list(run.groups["group"])[:MAX_GROUP_LINES]:
            x, y = run.figures.throughput[c].get(g, NO_CURVE)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=str(g), line=dict(width=2, color=run.group_colour[g])))
        fig.update_layout(title=f"{label[0].upper() + label[1:]} throughput CDF per group", xaxis_title=f"{label} throughput (Mbit/s)",
                          yaxis=dict(title="share of online time" if weighted else "share of online steps", tickformat=".0%",
                                     range=[0, 1.02]))
        out.append(plots.div(fig, "plot-throughput-" + label.replace(" ", "-")))
    return "".join(out)
