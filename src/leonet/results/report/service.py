"""The report's "Service per dish group" section: availability, RTT p5/p50/p95, path changes, top
gateway and PoP and outage steps by cause per group, and the dishes with the worst service (from
:func:`leonet.results.summary.network_summary`, as shares of time in a windowed calendar)."""

from __future__ import annotations

from ... import states as vocabulary
from .markup import WORST_DISHES, esc, num_cell, secs, text_cell
from .run import ReportRun


def service_section(run: ReportRun) -> str:
    """Service per dish group, and the dishes with the lowest availability."""
    g = run.groups
    lost = [s for s in run.net.states if vocabulary.is_outage(s)]
    head = ("<tr><th>group</th><th>dishes</th><th>dish-steps</th><th>availability (%)</th><th>RTT p5 (ms)</th>"
            "<th>RTT p50 (ms)</th><th>RTT p95 (ms)</th><th>path changes</th><th>top gateway</th><th>top PoP</th>"
            "<th>outage steps by cause</th></tr>")
    rows = []
    for _, r in g.iterrows():
        rows.append(
            f'<tr data-group="{esc(r["group"])}">' + text_cell(r["group"], "group")
            + num_cell(r["dishes"], 0, col="dishes") + num_cell(r["steps"], 0, col="steps")
            + num_cell(r["availability"], 2, 100.0, "availability")
            + num_cell(r.get("rtt_p5_ms"), 1, col="rtt_p5_ms") + num_cell(r.get("rtt_p50_ms"), 1, col="rtt_p50_ms")
            + num_cell(r.get("rtt_p95_ms"), 1, col="rtt_p95_ms")
            + num_cell(r["path_changes"], 0, col="path_changes")
            + text_cell(r.get("top_gateway", ""), "top_gateway") + text_cell(r.get("top_pop", ""), "top_pop")
            + text_cell(r.get("outage_causes", "-"), "outage_causes") + "</tr>")
    d = run.net.per_dish.copy()
    d["group"] = run.dish_group[d["site"].to_numpy()]
    worst = d.sort_values(["availability", "rtt_p95_ms"], ascending=[True, False], kind="stable").head(WORST_DISHES)
    wrows = []
    for _, r in worst.iterrows():
        causes = ", ".join(f"{s} {int(r[s])}" for s in lost if s in r and r[s]) or "-"
        wrows.append("<tr>" + text_cell(r["name"]) + text_cell(r["group"]) + num_cell(r["availability"], 2, 100.0)
                     + num_cell(r.get("rtt_p5_ms")) + num_cell(r.get("rtt_p50_ms")) + num_cell(r.get("rtt_p95_ms"))
                     + num_cell(r["path_changes"], 0) + text_cell(r.get("top_gateway", ""))
                     + text_cell(r.get("top_pop", "")) + text_cell(causes) + "</tr>")
    step = (f"{secs(run.step_s)} s steps" if run.cal.even else
            "time (each step weighted by the time it stands for: the calendar has windows of finer steps, "
            "or a shorter last step)")
    return (
        f'<p class="explain">One row per dish group (a city or region). <b>Availability</b> is the share of '
        f'{step} in which the dish was online (CONNECTED, or CONGESTED: online with a low downlink; '
        f'every other state is an outage). '
        f'<b>RTT</b> is the propagation round trip dish &rarr; satellites &rarr; gateway &rarr; PoP over the '
        f'connected steps of all the group\'s dishes (no queueing yet), each dish-step weighted as '
        f'availability weighs it (by the dishes its site stands for, and by the time its step stands for). '
        f'<b>Path changes</b> count the steps where '
        f'a dish\'s satellite path differs from the step before ({secs(run.slot_s)} s slot handovers and mid-slot reroutes). '
        f'The top gateway and PoP are those used in most connected steps; outages are counted in dish-steps.</p>'
        f'<table id="group-summary"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
        f'<details><summary>The {len(worst)} dishes with the lowest availability (then the highest RTT p95), '
        f'of {len(d):,}</summary><table id="dish-summary"><thead><tr><th>dish</th><th>group</th>'
        f'<th>availability (%)</th><th>RTT p5 (ms)</th><th>RTT p50 (ms)</th><th>RTT p95 (ms)</th>'
        f'<th>path changes</th><th>top gateway</th><th>top PoP</th><th>outage steps by cause</th></tr></thead>'
        f'<tbody>{"".join(wrows)}</tbody></table></details>')
