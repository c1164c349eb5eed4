"""The report's "Service per dish group" section: availability, RTT p5/p50/p95, path changes, top
gateway and PoP, dish-steps, dish-hours and outage time by cause per group, and the dishes with
the worst service (from :func:`leonet.results.summary.network_summary`, as shares of time in a
windowed calendar; the dish-steps and outage time from :func:`.outages.state_counts`, weighted as
the summary weighs them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from ...errors import InputError
from ..store import SCENARIO_FILE
from .markup import WORST_DISHES, dish_time, esc, num_cell, outage_states, secs, text_cell
from .outages import state_counts
from .run import ReportRun

#: The service model's latency terms (scenario ``service.latency`` switches), in README's words.
LATENCY_TERMS = (("mac", "MAC scheduling"), ("processing", "processing"), ("queueing", "the dish's own queue"),
                 ("jitter", "jitter"))


def _service_spec(run: ReportRun) -> dict | None:
    """The ``service`` section of the run's resolved ``scenario.yaml`` (None when the folder has no
    scenario.yaml: then what the RTT holds beyond capacity is not known, and the text says so)."""
    path = run.store.root / SCENARIO_FILE
    if not path.is_file():
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise InputError(f"cannot be read: {str(err).splitlines()[0]}", source=str(path)) from None
    service = doc.get("service") if isinstance(doc, dict) else None
    if service is None:
        return {}
    if not isinstance(service, dict) or not isinstance(service.get("latency", {}), dict):
        raise InputError("is not a mapping", source=str(path), location="service" if not isinstance(service, dict)
                         else "service.latency")
    return service


def rtt_contents(run: ReportRun) -> str:
    """What the run's ``rtt_ms`` holds (HTML): propagation only, plus queueing with the capacity
    model (run.json ``capacity``), or the dish's own latency with the service model (scenario.yaml
    ``service.enabled`` and its ``service.latency`` terms), as README's "How it works" says."""
    path = "dish &rarr; satellites &rarr; gateway &rarr; PoP"
    service = _service_spec(run)
    if service is not None and service.get("enabled"):
        latency = service.get("latency") or {}
        terms = [words for key, words in LATENCY_TERMS if latency.get(key, True)]
        if latency.get("laser_hops", True) and float(latency.get("isl_hop_ms") or 0.0) > 0:
            terms.append(f"{secs(float(latency['isl_hop_ms']))} ms per laser hop")
        target = str(latency.get("target", "pop"))
        if target != "pop":
            terms.append(f"the PoP &rarr; {esc(target)} leg")
        listed = (", ".join(terms[:-1]) + " and " + terms[-1]) if len(terms) > 1 else (terms[0] if terms else "")
        return (f"the latency the dish measures (its 1 Hz ping round trip; the service model is on): the "
                f"propagation {path}" + (f" plus {listed}" if listed else " (every other latency term is off)"))
    if run.facts.capacity:
        unknown = (" (this folder has no scenario.yaml, so whether the service model's terms are in it is not "
                   "known)" if service is None else "")
        return f"the propagation round trip {path} plus the queueing delay of the capacity model{unknown}"
    return f"the propagation round trip {path} (propagation only: the run has no capacity model, so no queueing)"


def _lost_text(seconds: pd.Series, lost: list[str]) -> str:
    """"OFFLINE 40 dish-s, NO_PATH 10 dish-min" (dish-time lost by cause), "-" when none."""
    return ", ".join(f"{s} {dish_time(float(seconds[s]))}" for s in lost if s in seconds and seconds[s] > 0) or "-"


def service_section(run: ReportRun) -> str:
    """Service per dish group, and the dishes with the lowest availability."""
    g = run.groups
    lost = outage_states(run.net.states)
    st = state_counts(run)
    # per group: the dish-steps and dish-seconds (by state) of its sites, weighted as the summary weighs them
    group_of = pd.Index(run.dish_group[st.site_steps.index.to_numpy(dtype=np.int64)], name="group")
    steps_g = st.site_steps.groupby(group_of, sort=False).sum().sum(axis=1)
    seconds_g = st.site_s.groupby(group_of, sort=False).sum()
    head = ("<tr><th>group</th><th>dishes</th><th>dish-steps</th><th>dish-hours</th><th>availability (%)</th>"
            "<th>RTT p5 (ms)</th><th>RTT p50 (ms)</th><th>RTT p95 (ms)</th><th>path changes</th><th>top gateway</th>"
            "<th>top PoP</th><th>outage time by cause</th></tr>")
    rows = []
    for _, r in g.iterrows():
        name = r["group"]
        if name not in steps_g.index:
            raise InputError(f"dish group {name!r} of the summary has no dish_steps rows", source=str(run.store.root))
        rows.append(
            f'<tr data-group="{esc(name)}">' + text_cell(name, "group")
            + num_cell(r["dishes"], 0, col="dishes") + num_cell(steps_g[name], 0, col="dish_steps")
            + num_cell(seconds_g.loc[name].sum() / 3600.0, 2, col="dish_hours")
            + num_cell(r["availability"], 2, 100.0, "availability")
            + num_cell(r.get("rtt_p5_ms"), 1, col="rtt_p5_ms") + num_cell(r.get("rtt_p50_ms"), 1, col="rtt_p50_ms")
            + num_cell(r.get("rtt_p95_ms"), 1, col="rtt_p95_ms")
            + num_cell(r["path_changes"], 0, col="path_changes")
            + text_cell(r.get("top_gateway", ""), "top_gateway") + text_cell(r.get("top_pop", ""), "top_pop")
            + text_cell(_lost_text(seconds_g.loc[name], lost), "outage_time") + "</tr>")
    d = run.net.per_dish.copy()
    d["group"] = run.dish_group[d["site"].to_numpy()]
    worst = d.sort_values(["availability", "rtt_p95_ms"], ascending=[True, False], kind="stable").head(WORST_DISHES)
    wrows = []
    for _, r in worst.iterrows():
        site_s = st.site_s.loc[int(r["site"])]
        wrows.append("<tr>" + text_cell(r["name"]) + text_cell(r["group"]) + num_cell(r["availability"], 2, 100.0)
                     + num_cell(r.get("rtt_p5_ms")) + num_cell(r.get("rtt_p50_ms")) + num_cell(r.get("rtt_p95_ms"))
                     + num_cell(r["path_changes"], 0) + text_cell(r.get("top_gateway", ""))
                     + text_cell(r.get("top_pop", "")) + text_cell(_lost_text(site_s, lost)) + "</tr>")
    step = (f"{secs(run.step_s)} s steps" if run.cal.even else
            "time (each step weighted by the time it stands for: the calendar has windows of finer steps, "
            "or a shorter last step)")
    return (
        f'<p class="explain">One row per dish group (a city or region). <b>Availability</b> is the share of '
        f'{step} in which the dish was online (CONNECTED, or CONGESTED: online with a low downlink; '
        f'every other state is an outage), each site counting the dishes it stands for. '
        f'<b>RTT</b> is {rtt_contents(run)}, over the '
        f'connected steps of all the group\'s dishes, each dish-step weighted as '
        f'availability weighs it (by the dishes its site stands for, and by the time its step stands for). '
        f'<b>Path changes</b> count the steps where '
        f'a dish\'s satellite path differs from the step before ({secs(run.slot_s)} s slot handovers and mid-slot reroutes; '
        f'a step of a site with no dish delivered yet counts none). '
        f'The top gateway and PoP are those used for the most connected dish-time (weighted as RTT; a tie '
        f'names every tied one: "FRA = MAD"). <b>Dish-steps</b> count each site\'s '
        f'dishes at each step; <b>dish-hours</b> and the <b>outage time by cause</b> also weigh each step by the '
        f'time it stands for, as <code>leonet summary</code> and the day-by-day table do.</p>'
        f'<table id="group-summary"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
        f'<details><summary>The {len(worst)} dishes with the lowest availability (then the highest RTT p95), '
        f'of {len(d):,}</summary><table id="dish-summary"><thead><tr><th>dish</th><th>group</th>'
        f'<th>availability (%)</th><th>RTT p5 (ms)</th><th>RTT p50 (ms)</th><th>RTT p95 (ms)</th>'
        f'<th>path changes</th><th>top gateway</th><th>top PoP</th><th>outage time by cause (the site\'s '
        f'dishes)</th></tr></thead><tbody>{"".join(wrows)}</tbody></table></details>')
