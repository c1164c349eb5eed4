"""The report's "Day by day" section (windowed runs and runs longer than two days): by what means
users were online each UTC day, the events acting, and the daily table the plot is drawn from
(:func:`leonet.results.timeline.daily_table`, chunk file by chunk file)."""

from __future__ import annotations

import pandas as pd

from ..timeline import daily_table, event_spans
from .markup import Plots, esc, num_cell, text_cell
from .run import ReportRun

#: Colours of the timeline's "online by" shares.
ONLINE_BY_COLOURS = {"both": "#2ca02c", "satellite": "#1f77b4", "ground": "#ff7f0e", "none": "#d62728"}
ONLINE_BY_WORDS = {"both": "satellite and ground", "satellite": "satellite only", "ground": "ground only",
                   "none": "offline"}


def timeline_section(run: ReportRun, plots: Plots) -> str:
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
                                 hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} %<extra>" + esc(ONLINE_BY_WORDS[h]) + "</extra>"))
    else:
        fig.add_trace(go.Bar(x=x, y=(100.0 * day["online"]).round(3).tolist(), name="online by satellite",
                             marker_color=ONLINE_BY_COLOURS["satellite"], width=width_ms))
    spans = event_spans(run.store)
    for i, e in enumerate(spans):
        a = pd.Timestamp(e["start_ns"], unit="ns").strftime("%Y-%m-%d %H:%M:%S")
        b = pd.Timestamp(max(e["end_ns"], e["start_ns"] + 3_600 * 10**9), unit="ns").strftime("%Y-%m-%d %H:%M:%S")
        fig.add_vrect(x0=a, x1=b, fillcolor="#000", opacity=0.08, line_width=0, layer="above")
        fig.add_annotation(x=a, y=100.0 - 6.0 * (i % 8), text=esc(e["name"]), showarrow=False, xanchor="left",
                           font=dict(size=10), bgcolor="rgba(255,255,255,0.7)")
    fig.update_layout(barmode="stack", title="Who was online, by which means, day by day",
                      xaxis=dict(title="day (UTC)", type="date"),
                      yaxis=dict(title="share of dish-time (%)", range=[0, 100.5]), legend=dict(title="online by"))
    head = ("<tr><th>day (UTC)</th><th>hours</th><th>steps</th><th>dish-hours</th><th>online (%)</th>"
            + "".join(f"<th>{esc(ONLINE_BY_WORDS[h])} (%)</th>" for h in hows) + "<th>events acting</th></tr>")
    rows = "".join(
        "<tr>" + text_cell(r["day"], "day") + num_cell(r["hours"], 2, col="hours") + num_cell(r["steps"], 0, col="steps")
        + num_cell(r["dish_hours"], 1, col="dish_hours") + num_cell(r["online"], 2, 100.0, "online")
        + "".join(num_cell(r[f"online_{h}"], 2, 100.0, f"online_{h}") for h in hows)
        + text_cell(r["events"] or "-", "events") + "</tr>" for _, r in day.iterrows())
    events = events_table(spans, "timeline-events")
    return ('<p class="explain">By what means the users of the dishes were online each UTC day: with both satellite '
            'and ground internet, by satellite only, by ground only, or not at all. Each share is of the '
            'day\'s dish-time: dishes weighted by how many each site stands for, and steps by the time each stands '
            f'for ({esc(run.cal.text())}; a step crossing midnight gives each day its part). Shaded bands mark '
            'the events. The table below holds the numbers the plot is drawn from (also written by '
            '<code>leonet export csv</code> as <code>daily.csv</code>).</p>'
            + plots.div(fig, "plot-timeline")
            + f'<table id="timeline-days"><thead>{head}</thead><tbody>{rows}</tbody></table>' + events)


def events_table(spans: list[dict], table_id: str) -> str:
    """The run's events (:func:`leonet.results.timeline.event_spans`) as a table: name, type, start
    and end (UTC, the end clipped to the run's), description."""
    if not spans:
        return '<p class="note">The scenario has no events.</p>'
    rows = "".join(
        "<tr>" + text_cell(e["name"]) + text_cell(e["type"])
        + text_cell(pd.Timestamp(e["start_ns"], unit="ns").strftime("%Y-%m-%d %H:%M:%S"))
        + text_cell(pd.Timestamp(e["end_ns"], unit="ns").strftime("%Y-%m-%d %H:%M:%S"))
        + text_cell(e.get("description", "")) + "</tr>" for e in spans)
    return (f'<table id="{esc(table_id)}"><thead><tr><th>event</th><th>type</th><th>start (UTC)</th>'
            f'<th>end (UTC)</th><th>description</th></tr></thead><tbody>{rows}</tbody></table>')


def events_section(run: ReportRun) -> str:
    """The run's events, for a run without the day-by-day section (short and uniform), which
    otherwise would name none of them."""
    return ('<p class="explain">What the scenario did to the system, and when (the dish sections below '
            'count what it cost: outages by cause, RTT, throughput).</p>' + events_table(event_spans(run.store), "events-table"))

