"""What the ``leonet`` commands print about a run: the one-line header, satellites in view per
site, service per dish group, throughput, station pairs, resilience against events, and where the
results are.

The commands (:mod:`leonet.cli`) import this module inside their bodies, so that ``leonet --help``
loads none of it; numpy and pandas are imported inside the functions that need them. Every
function prints to the ``console`` it is given (the command's own).
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _results_hint(store) -> list[str]:
    """Where the results are and how to read them: dish_steps for a run with dishes, pair_steps
    (read one pair with a filter: the whole table of a large pair study does not fit in memory)
    for a run with station pairs."""
    from rich.markup import escape

    root = store.root
    sites = store.read("sites", columns=["name", "kind"]).to_pandas()
    tables = store.tables()
    lines = [f"Results: [bold]{escape(str(root))}[/] (Parquet)"]
    dishes = sites.index[sites["kind"] == "dish"]
    if len(dishes) and "dish_steps" in tables:
        d = int(dishes[0])
        lines.append(escape(f"  dishes: pandas.read_parquet('{root}/dish_steps', filters=[('site', '==', {d})])  "
                            f"(site: a row of sites.parquet, here {sites['name'].iat[d]}; leave filters out to read "
                            "every dish)"))
    if "pair_steps" in tables:
        stations = sites.index[sites["kind"] == "station"]
        a, b = (int(stations[0]), int(stations[1])) if len(stations) > 1 else (0, 1)
        lines.append(escape(f"  station pairs: pyarrow.parquet.read_table('{root}/pair_steps', columns=['t', 'rtt_ms', "
                            f"'hops'], filters=[('src', '=', {a}), ('dst', '=', {b})])  (src, dst: rows of "
                            f"sites.parquet, here {sites['name'].iat[a]} -> {sites['name'].iat[b]}; a filtered read "
                            "keeps memory small)"))
    return lines


def print_results_hint(console: Console, store) -> None:
    """Where the results of ``store`` are and how to read them (:func:`_results_hint`)."""
    for line in _results_hint(store):
        console.print(line, soft_wrap=True)


def stored_baseline(console: Console, store):
    """The baseline stored with a run (RESULTS/baseline, from ``leonet run --baseline``), checked
    (a damaged chunk raises, naming it); None when there is none, or (said on ``console``) when
    its steps or its sites are not the run's or it did not finish."""
    import numpy as np

    from .results.baseline import sites_mismatch
    from .results.calendar import calendar
    from .results.store import BASELINE_DIR, MANIFEST, ResultStore

    if not (store.root / BASELINE_DIR / MANIFEST).is_file():
        return None
    base = ResultStore(store.root / BASELINE_DIR)
    base.read_manifest()
    base.verify()
    if not base.manifest.completed:
        # its chunks hold only part of the steps: compared as if whole, it read other RTTs and
        # availabilities than the finished baseline would
        console.print(f"[yellow]warning:[/] {base.root} is an incomplete run (stopped before its end): the "
                      "resilience table leaves the baseline out (run `leonet run --baseline` again to finish it)")
        return None
    if not np.array_equal(calendar(base).times_ns, calendar(store).times_ns):
        console.print(f"[yellow]warning:[/] {base.root} holds other steps than the run: the resilience table "
                      "leaves the baseline out (run `leonet run --baseline` again to compute it anew)")
        return None
    other_sites = sites_mismatch(store, base)
    if other_sites:
        # dishes are paired by their row in each run's sites: other sites would pair dishes that never met
        from rich.markup import escape

        console.print(f"[yellow]warning:[/] {escape(str(base.root))} {escape(other_sites)}: the resilience table leaves the baseline "
                      "out (run `leonet run --baseline` again to compute it anew)", highlight=False)
        return None
    return base


def print_resilience(console: Console, result, base_result=None) -> None:
    """:func:`print_stored_resilience` of a finished run (``result``, and ``base_result`` the run
    without events: :class:`leonet.sim.runner.RunResult`)."""
    print_stored_resilience(console, result.store, base_result.store if base_result is not None else None)


def print_stored_resilience(console: Console, store, base_store=None) -> None:
    """Per dish group: availability, lost time by cause, recovery after each event; with
    ``base_store`` (the results of the run without events), the changes against it. Then the
    events, as the run resolved them (``events.json``). From the results folder alone, so that
    ``leonet summary`` prints what ``leonet run`` printed."""
    from .results.calendar import calendar
    from .results.compare import LOST_STATES, compare, resilience_by_group
    from .results.summary import dish_time_text
    from .results.contract import read_contract

    events = read_contract(store).events
    step_s = store.manifest.step_s
    if base_store is not None:
        cal = calendar(store)
        last_ns = int(cal.times_ns[-1]) if cal.n_steps else store.manifest.start_ns
        # recovery is measured after the events that end within the run
        ends = {e.name: (e.end_ns, e.type) for e in events if e.end_ns is not None and e.end_ns <= last_ns}
        df = compare(store, base_store, ends)
    else:
        df = resilience_by_group(store, step_s)
    t = Table(title="Resilience per dish group" + (" (scenario vs baseline without events)" if base_store is not None else ""))
    t.add_column("group")
    t.add_column("availability", justify="right")
    if base_store is not None:
        t.add_column("baseline", justify="right")
        t.add_column("change (pp)", justify="right")
        t.add_column("RTT p50 ms (baseline)", justify="right")
        t.add_column("p50 change (ms)", justify="right")
        t.add_column("same dish+step mean change (ms)", justify="right")
    if base_store is not None and "down_mean_mbps" in df:
        t.add_column("mean down (Mbps)", justify="right")
        t.add_column("unmet demand", justify="right")
    t.add_column("lost time by cause")
    t.add_column("online by sat / ground / both / none", justify="right")
    rec_cols = [c for c in df.columns if c.startswith("recover_s_")]
    if rec_cols:
        t.add_column("recovery after event end (s)")
    for group, r in df.iterrows():
        lost = ", ".join(f"{c} {dish_time_text(r[f'lost_s_{c}'])}" for c in LOST_STATES if r.get(f"lost_s_{c}", 0) > 0) or "-"
        online = "-"
        if "online_satellite" in r:
            shares = [pct(r[f"online_{h}"]) for h in ("satellite", "ground", "both", "none")]
            # a group with no dish-time has no shares: "-", not "- / - / - / -"
            online = " / ".join(shares) if any(x != "-" for x in shares) else "-"
        row = [str(group), percent(r["availability"])]
        if base_store is not None:
            # "-" where a figure is undefined (NaN): a group with no dish-time has no availability,
            # one never online no RTT
            row += [percent(r["availability_baseline"]), signed(100 * r["availability_change"]),
                    f"{ms(r['rtt_p50_ms'])} ({ms(r['rtt_p50_ms_baseline'])})", signed(r["rtt_p50_change_ms"]),
                    signed(r["rtt_matched_mean_change_ms"])]
            if "down_mean_mbps" in df:
                row += [f"{mbps(r['down_mean_mbps'], 1)} (base {mbps(r['down_mean_mbps_baseline'], 1)})",
                        f"{pct(r['unmet_down_share'])} (base {pct(r['unmet_down_share_baseline'])})"]
        row += [lost, online]
        if rec_cols:
            row.append(recovery_text(r, rec_cols))
        t.add_row(*row)
    console.print(t)
    console.print("Events: " + "; ".join(f"{e.name} ({e.type})" for e in events))


def recovery_text(row, columns: list[str]) -> str:
    """A group's recovery cell: "EVENT S" per event that left some of its dishes down at its end
    (S: the median seconds until back), "EVENT not recovered" where that median dish was not back
    by the end of the run (inf); events that left none of its dishes down (NaN) are left out, and
    "-" when none did."""
    import math

    parts = []
    for c in columns:
        v = float(row[c])
        if math.isnan(v):  # the event left none of this group's dishes down: nothing to recover
            continue
        name = c[len("recover_s_"):]
        parts.append(f"{name} {v:g}" if math.isfinite(v) else f"{name} not recovered")
    return ", ".join(parts) or "-"


def print_run_header(console: Console, result) -> None:
    """One line on a finished run: satellites, sites, steps, start, time taken, chunks kept."""
    import numpy as np

    m = result.model
    site_text = sites_text(np.asarray(m.sites.kind), m.dish_count)
    sc = m.scenario
    note = f"resumed: {result.chunks_total - result.chunks_computed} of {result.chunks_total} chunks kept" if result.chunks_computed < result.chunks_total else f"{result.chunks_total} chunks"
    console.print(
        f"[bold]{sc.name}[/]: {len(m.constellation):,} satellites in {len(m.constellation.shell_names)} shell(s); "
        f"{site_text}; {calendar_text(result.store) or f'{len(m.t_ns):,} steps of {sc.time.step_s:g} s'} "
        f"from {sc.time.start.isoformat()} "
        f"in {result.elapsed_s:.1f} s ({note}).",
        soft_wrap=True,  # one line a log can grep ("resumed: 2 of 3 chunks kept" was cut at 80 columns)
    )


def sites_text(kind, dish_count) -> str:
    """"62 dish sites (4,562 dishes), 20 gateways, 3 pops" from each site's ``kind`` (S,) and the
    dishes it stands for ``dish_count`` (S,) (what a run's header and a results folder's say)."""
    import numpy as np

    kind = np.asarray(kind, dtype=object)
    kinds = {k: int((kind == k).sum()) for k in ("dish", "gateway", "pop", "station")}
    text = ", ".join(f"{v} {k}{('es' if k == 'dish' else 's') if v != 1 else ''}" for k, v in kinds.items() if v)
    dishes = int(np.asarray(dish_count)[kind == "dish"].sum())
    if dishes != kinds["dish"]:  # sites that stand for several dishes: say both, as the tables count dishes
        text = text.replace(f"{kinds['dish']} dish{'es' if kinds['dish'] != 1 else ''}",
                            f"{kinds['dish']} dish site{'s' if kinds['dish'] != 1 else ''} ({dishes:,} dishes)", 1)
    return text or "no sites"


def calendar_text(store) -> str | None:
    """A windowed run's calendar in words ("N steps (S s, and windows at ...)"); None for a
    uniform run, whose texts stay "N steps of S s"."""
    from .results.calendar import calendar

    cal = calendar(store)
    return None if cal.uniform else cal.text()


def print_coverage(console: Console, summary, calendar: str | None = None) -> None:
    """Satellites in view per site or group, and the coverage gaps (``calendar``: a windowed
    run's calendar in words, :func:`calendar_text`)."""
    per = summary.per_site
    if per.empty:
        console.print("No ground sites: nothing to summarise.")
        return
    t = Table(title=f"Satellites in view per site ({calendar or f'{summary.n_steps} steps of {summary.step_s:g} s'})")
    for col in ("kind", "group / site", "sites", "min", "median", "max", "steps with none", "longest gap (s)"):
        t.add_column(col, justify="right" if col not in ("kind", "group / site") else "left")
    shown_sites = per[per["kind"].isin(["dish", "station"])]
    groups = summary.by_group()
    if 0 < len(shown_sites) <= 12:
        for _, r in shown_sites.iterrows():
            t.add_row(r["kind"], r["name"], "1", str(r["visible_min"]), f"{r['visible_median']:g}", str(r["visible_max"]),
                      str(r["gap_steps"]), f"{r['longest_gap_s']:g}")
        groups = groups[~groups["kind"].isin(["dish", "station"])]
    for _, r in groups.iterrows():
        t.add_row(r["kind"], str(r["group"]), str(r["sites"]), str(r["visible_min"]), f"{r['visible_median']:g}",
                  str(r["visible_max"]), str(r["gap_steps"]), f"{r['longest_gap_s']:g}")
    console.print(t)
    gap_sites = per[per["gap_steps"] > 0]
    if gap_sites.empty:
        console.print("Coverage gaps: none - every site saw at least one satellite at every step.")
    else:
        worst = gap_sites.sort_values("longest_gap_s", ascending=False).head(5)
        names = ", ".join(f"{r['name']} ({r['longest_gap_s']:g} s)" for _, r in worst.iterrows())
        console.print(f"Coverage gaps: {len(gap_sites)} of {len(per)} sites had steps with no satellite in view; longest: {names}.")


def print_network(console: Console, ns, warnings=()) -> None:
    """The network's warnings, then service per dish group and the station pairs (``ns``: a
    :class:`leonet.results.summary.NetworkSummary`, None for a run without the network)."""
    for w in warnings:
        console.print(f"[yellow]warning:[/] {w}")
    if ns is None:
        return
    if ns.by_group().empty:
        pass
    else:
        _print_dish_service(console, ns)
    _print_pairs(console, ns)


def pct(share: float) -> str:
    """A share as a whole percentage for a table cell; "-" when there is none (NaN: a group that
    wanted no demand has no share of it served or unmet)."""
    import math

    return f"{100 * share:.0f}%" if share is not None and math.isfinite(share) else "-"


def percent(share: float, decimals: int = 1) -> str:
    """A share as a percentage with ``decimals`` decimals ("97.5%"); "-" when there is none (NaN:
    a group with no dish-time, every dish of it not yet delivered, has no availability)."""
    import math

    return f"{100 * share:.{decimals}f}%" if share is not None and math.isfinite(share) else "-"


def signed(value: float, decimals: int = 1) -> str:
    """A change with its sign ("+4.5", "-25.0"); "-" when there is none (NaN: a figure of either
    run is undefined)."""
    import math

    return f"{value:+.{decimals}f}" if value is not None and math.isfinite(value) else "-"


def figures(value: float, significant: int = 2, decimals: int = 0) -> str:
    """A number for a table cell with at least ``significant`` significant digits and at least
    ``decimals`` decimals, never in exponent form: 45, 4.5, 0.085 (a satellite's mean load of
    0.085 % read "0%" at whole percent); "-" when there is none."""
    import math

    if value is None or not math.isfinite(value):
        return "-"
    if value == 0:
        return f"{0:.{decimals}f}"
    places = max(decimals, significant - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{places}f}"


def mbps(value: float, decimals: int) -> str:
    """A rate in Mbps for a table cell; "-" when there is none (a group never online has no
    throughput percentile)."""
    import math

    return f"{value:,.{decimals}f}" if value is not None and math.isfinite(value) else "-"


def ms(value: float) -> str:
    """A time in ms for a table cell; "-" when there is none (a group never connected)."""
    import math

    return f"{value:.1f}" if value is not None and math.isfinite(value) else "-"


def _print_dish_service(console: Console, ns) -> None:
    queue = "speedtest_p50_mbps" in ns.by_group().columns
    # with capacity the RTT has its queues and, with the service model, MAC, processing and jitter
    t = Table(title="Service per dish group (RTT dish -> PoP" + (", as the dish measures it)" if queue else ": propagation only)"))
    for col in ("group", "dishes", "availability", "RTT p5", "p50", "p95 (ms)", "path changes", "top gateway", "top PoP", "outages (dish-time)"):
        t.add_column(col, justify="right" if col in ("dishes", "availability", "RTT p5", "p50", "p95 (ms)", "path changes") else "left")
    for _, r in ns.by_group().iterrows():
        t.add_row(str(r["group"]), str(r["dishes"]), percent(r["availability"]),
                  ms(r["rtt_p5_ms"]), ms(r["rtt_p50_ms"]), ms(r["rtt_p95_ms"]),
                  str(r["path_changes"]), str(r["top_gateway"]), str(r["top_pop"]), str(r["outage_causes"]))
    console.print(t)
    groups = ns.by_group()
    if {"down_p50_mbps", "up_p50_mbps", "demand_served", "speedtest_p50_mbps"} <= set(groups.columns):
        # percentiles are quality, over the online time (docs/service-model.md §6); demand served
        # counts all the time (an outage serves none)
        t = Table(title="Throughput per dish group (max-min fair; percentiles over the online dish-time, idle steps "
                        "included; demand served over all of it)")
        for col in ("group", "down p10 (Mbps)", "down p50 (Mbps)", "up p50 (Mbps)", "demand served", "speed test p50 (Mbps)"):
            t.add_column(col, justify="left" if col == "group" else "right")
        for _, r in groups.iterrows():
            t.add_row(str(r["group"]), mbps(r["down_p10_mbps"], 1), mbps(r["down_p50_mbps"], 1),
                      mbps(r["up_p50_mbps"], 1), pct(r["demand_served"]), mbps(r["speedtest_p50_mbps"], 0))
        console.print(t)
        loaded = ns.most_loaded()
        if not loaded.empty:
            parts = []
            for _, r in loaded.iterrows():
                if r["element"] == "satellite":
                    parts.append(f"sat {r['id']} {figures(100 * r['mean_utilisation'])}% mean / "
                                 f"{figures(100 * r['peak_utilisation'])}% peak")
                else:
                    parts.append(f"{r['id']} {figures(r['mean_load_gbps'], decimals=2)} Gbps mean / "
                                 f"{figures(r['peak_load_gbps'], decimals=2)} peak")
            # load_steps holds the run's own flows: a background of other subscribers is not in it
            console.print("Most loaded by the run's own dishes (other subscribers' load not counted): "
                          + "; ".join(parts))


def _print_pairs(console: Console, ns) -> None:
    import numpy as np

    if not ns.per_pair.empty:
        pp = ns.per_pair
        # a pair never connected has no RTT (NaN): it is the worst, so it comes first
        shown = pp if len(pp) <= 15 else pp.sort_values("rtt_p50_ms", ascending=False, na_position="first").head(15)
        t = Table(title=f"Ground-station pairs ({len(pp):,} pairs" + ("; the 15 with the highest median RTT, never connected first)" if len(pp) > 15 else ")"))
        for col in ("src", "dst", "availability", "RTT p5", "p50", "p95 (ms)", "hops p50", "path changes"):
            t.add_column(col, justify="left" if col in ("src", "dst") else "right")
        for _, r in shown.iterrows():
            hops = f"{r['hops_p50']:g}" if np.isfinite(r["hops_p50"]) else "-"
            t.add_row(str(r["src"]), str(r["dst"]), f"{100 * r['availability']:.1f}%", ms(r["rtt_p5_ms"]),
                      ms(r["rtt_p50_ms"]), ms(r["rtt_p95_ms"]), hops, str(r["path_changes"]))
        console.print(t)


def print_stored_header(console: Console, manifest, calendar: str | None = None, sites=None) -> None:
    """One line on a results folder (its manifest): satellites, sites, steps, and whether the run
    is incomplete (``calendar``: a windowed run's calendar in words; ``sites``: its sites table, a
    DataFrame with ``kind`` and ``dishes``, to name them as the run's own header did)."""
    m = manifest
    if sites is not None and "kind" in sites.columns:
        dishes = sites["dishes"].fillna(1).to_numpy() if "dishes" in sites.columns else [1] * len(sites)
        site_text = sites_text(sites["kind"].to_numpy(), dishes)
    else:
        site_text = f"{m.n_sites:,} sites"
    console.print(f"[bold]{m.scenario}[/]: {m.n_satellites:,} satellites; {site_text}; "
                  + (calendar if calendar else f"{m.n_steps:,} steps")
                  + ("" if m.completed else " (incomplete run: run it again to finish)"), soft_wrap=True)


def print_dish_line(console: Console, name: str, row, gateway_shares=None) -> None:
    """One line on the dish ``name`` of ``leonet dish`` (``row``: its row of
    ``NetworkSummary.per_dish``): time online, RTT to the PoP, its speed test (runs with the
    service model), the gateway and PoP it used most. ``gateway_shares``: (name, share of the
    connected time) of its gateways, most first; where the first has under half the time, the
    line names the first three with their shares instead of one "mostly via"."""
    from .results.summary import TIE_JOIN

    def tied(names) -> str:  # "A = B" in the tables: equally often; said in words here
        parts = str(names or "-").split(TIE_JOIN)
        return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]} (as often)"

    speed = row.get("speedtest_p50_mbps")
    test = f"; speed test p50 {speed:,.0f} Mbps while online" if speed is not None and speed == speed else ""
    via = f"mostly via {tied(row['top_gateway'])}"
    if gateway_shares and gateway_shares[0][1] < 0.5:   # no gateway most of the time: say how it was split
        via = "via " + ", ".join(f"{g} {100 * s:.0f}%" for g, s in gateway_shares[:3]) + \
              (" and others" if len(gateway_shares) > 3 else "") + " of the time connected"
    steps = f"{row['steps']} step" + ("" if row["steps"] == 1 else "s")
    console.print(f"{name}: online {percent(row['availability'])} of {steps}; RTT to the PoP p50 "
                  f"{ms(row['rtt_p50_ms'])} ms (p5 {ms(row['rtt_p5_ms'])}, p95 {ms(row['rtt_p95_ms'])}){test}; "
                  f"{via} to {tied(row['top_pop'])}", soft_wrap=True)
