"""The network's answers: the constellation and every dish at one step (the globe), service per
region (dish group), and the scenario against its baseline with the run's events.

Each function takes the opened run (:class:`~leonet.app.run.RunData`) and returns the response
model of :mod:`leonet.app.schemas` directly. Regions and the comparison are computed once per run
by :mod:`leonet.results.summary` and :mod:`leonet.results.compare` (so the app and ``leonet
summary`` agree), and the events are read as the run resolved them (``events.json``).
"""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np
import pyarrow as pa

from .. import states
from ..results.compare import EVENT_STATE, LOST_STATES, compare as compare_runs
from ..results.summary import network_summary, row_dishes
from . import schemas
from ..timeutil import ns_to_iso
from .dish_rows import dish_states
from .errors import NotFound
from .run import BASELINE_DIR, MAX_EVENTS, RunData, finite_or_none, round_list
from .snapshot import stride_pick


def _dish_states_at(run: RunData, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(site, leonet state, rtt_ms, dishes) of every dish site at a step, from one chunk file;
    dishes: those its site stands for, delivered by then (a ``deliveries`` event; all without)."""
    delivered = ["delivered"] if run.has_deliveries else []
    t = run.chunk_table("dish_steps", step, columns=["site", "state", "rtt_ms", *delivered])
    if t is None:
        raise NotFound(f"step {step} was not computed (the run is incomplete)")
    site = t.column("site").to_numpy(zero_copy_only=False).astype(np.int64)
    dishes = row_dishes(run.dish_count.astype(np.float64), site,
                        t.column("delivered").to_numpy(zero_copy_only=False) if delivered else None)
    return (site, np.asarray(t.column("state").cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object),
            t.column("rtt_ms").to_numpy(zero_copy_only=False).astype(np.float64), dishes)


def snapshot(run: RunData, step: int | None, t: datetime | None, max_satellites: int, max_links: int,
             max_dishes: int) -> schemas.Snapshot:
    step = run.step_of(step, t)
    t_ns = run.t_ns(step)
    sky = run.sky.at(t_ns)
    c = run.sky.constellation
    ok = np.flatnonzero(np.isfinite(sky.lat_deg))
    shown = ok[stride_pick(len(ok), max_satellites)]
    links = sky.links[stride_pick(len(sky.links), max_links)]
    a, b = links[:, 0], links[:, 1]
    ground = {}
    struck = run.struck_sites(t_ns)
    for kind in ("gateway", "pop", "station"):
        g = run.sites[run.sites["kind"] == kind].iloc[:2000]
        names = g["name"].astype(str).tolist()
        ground[kind] = schemas.GroundColumns(name=names, lat_deg=round_list(g["lat_deg"], 4),
                                             lon_deg=round_list(g["lon_deg"], 4),
                                             down_by=[struck.get(n) for n in names])
    n_dishes = int(run.dish_count[run.dish_sites].sum())
    dishes = schemas.DishColumns(total=int(len(run.dish_sites)), shown=0, by_state={}, by_leonet_state={},
                                 dishes=n_dishes, id=[], lat_deg=[], lon_deg=[], state=[], leonet_state=[],
                                 pop_ping_latency_ms=[])
    if run.has_network and len(run.dish_sites):
        site, state, rtt, per_site = _dish_states_at(run, step)
        dish_state = dish_states(state)
        names, counts = np.unique(dish_state, return_counts=True)
        lnames, lcounts = np.unique(state, return_counts=True)
        # Dishes, not sites: each site counts the dishes it stands for (as /run's sizes and /regions),
        # those delivered by this step where dishes arrive over time
        # Thinning keeps every dish in trouble first (congested too), then an even spread of the connected.
        trouble = np.flatnonzero(state != "CONNECTED")[:max_dishes]
        fine = np.flatnonzero(state == "CONNECTED")
        fine = fine[stride_pick(len(fine), max_dishes - len(trouble))] if max_dishes > len(trouble) else fine[:0]
        pick = np.sort(np.r_[trouble, fine]).astype(np.int64)
        s = run.sites.iloc[site[pick]]
        dishes = schemas.DishColumns(
            total=int(len(run.dish_sites)), shown=int(len(pick)),
            by_state={str(k): int(v) for k, v in zip(names, counts)},
            by_leonet_state={str(k): int(v) for k, v in zip(lnames, lcounts)},
            dishes=n_dishes,
            dishes_by_state={str(k): int(round(per_site[dish_state == k].sum())) for k in names},
            dishes_by_leonet_state={str(k): int(round(per_site[state == k].sum())) for k in lnames},
            dishes_of_site=np.round(per_site[pick]).astype(int).tolist(),
            id=s["name"].astype(str).tolist(), lat_deg=round_list(s["lat_deg"], 4), lon_deg=round_list(s["lon_deg"], 4),
            state=dish_state[pick].tolist(), leonet_state=state[pick].tolist(),
            pop_ping_latency_ms=round_list(np.where(dish_state[pick] == "CONNECTED", rtt[pick], np.nan), 2),
        )
    return schemas.Snapshot(
        step=step, t=ns_to_iso(t_ns), t_s=run.t_s(step), shell_names=list(c.shell_names),
        satellites=schemas.SatelliteColumns(
            total=int(len(c)), shown=int(len(shown)), sat=shown.tolist(), shell=c.shell[shown].astype(int).tolist(),
            lat_deg=round_list(sky.lat_deg[shown], 3), lon_deg=round_list(sky.lon_deg[shown], 3),
            alt_km=round_list(sky.alt_m[shown] / 1e3, 1),
        ),
        laser_links=schemas.LinkColumns(
            total=int(len(sky.links)), shown=int(len(links)),
            a_lat_deg=round_list(sky.lat_deg[a], 3), a_lon_deg=round_list(sky.lon_deg[a], 3),
            b_lat_deg=round_list(sky.lat_deg[b], 3), b_lon_deg=round_list(sky.lon_deg[b], 3),
        ),
        gateways=ground["gateway"], pops=ground["pop"], stations=ground["station"], dishes=dishes,
    )


# -- regions ---------------------------------------------------------------------------------------
def _by_dish_word(steps_by_state: dict[str, float]) -> dict[str, float]:
    """Lost time by leonet state -> by the dish's word, outage states only (CONGESTED is online)."""
    out: dict[str, float] = {}
    for s, v in steps_by_state.items():
        if v and states.is_outage(s):
            cause = states.DISH_WORD.get(s, s)
            out[cause] = out.get(cause, 0) + v
    return out


def _regions(run: RunData) -> list[schemas.Region]:
    summary = network_summary(run.store)
    if summary is None:
        return []
    g = summary.by_group()  # shares and percentiles of dish-time (weighted by dishes and step durations)
    lost = [s for s in summary.states if states.is_outage(s) and s in g.columns]
    out = []
    for _, r in g.iterrows():
        by_state = {s: int(r[s]) for s in lost if int(r[s])}
        # Lost time as `leonet summary` counts it: dish-seconds (a site's step weighs its dishes x
        # the time the step stands for), not site-steps, which rank causes otherwise in a windowed
        # run or where sites stand for unequal numbers of dishes.
        lost_s = {s: float(r[f"lost_s_{s}"]) for s in lost if f"lost_s_{s}" in g.columns and r[f"lost_s_{s}"] > 0}
        out.append(schemas.Region(
            group=str(r["group"]), dishes=int(r["dishes"]), steps=int(r["steps"]),
            availability=finite_or_none(r["availability"]),
            rtt_p5_ms=finite_or_none(r.get("rtt_p5_ms")), rtt_p50_ms=finite_or_none(r.get("rtt_p50_ms")),
            rtt_p95_ms=finite_or_none(r.get("rtt_p95_ms")),
            path_changes=int(r.get("path_changes", 0)),
            downlink_p10_mbps=finite_or_none(r.get("down_p10_mbps")),
            downlink_p50_mbps=finite_or_none(r.get("down_p50_mbps")),
            uplink_p50_mbps=finite_or_none(r.get("up_p50_mbps")),
            speedtest_p50_mbps=finite_or_none(r.get("speedtest_p50_mbps")),
            top_gateway=str(r.get("top_gateway", "")) or None, top_pop=str(r.get("top_pop", "")) or None,
            outage_steps={k: int(v) for k, v in _by_dish_word(by_state).items()},
            outage_steps_by_leonet_state=by_state,
            lost_s_by_cause=_by_dish_word(lost_s), lost_s_by_leonet_state=lost_s,
            outage_causes=str(r.get("outage_causes", "-") or "-"),
        ))
    return out


def regions(run: RunData, offset: int, limit: int) -> schemas.Regions:
    run.need_network()
    rows = run.aggregate("regions", lambda: _regions(run))
    return schemas.Regions(total=len(rows), offset=offset, limit=limit, regions=rows[offset:offset + limit])


# -- scenario vs baseline ---------------------------------------------------------------------------
def events(run: RunData) -> list[schemas.CompareEvent]:
    """The scenario's events as the run resolved them (``events.json``)."""
    last_ns = run.t_ns(max(run.n_steps - 1, 0))
    return [schemas.CompareEvent(
        name=e.name, type=e.type, description=e.description,
        start=ns_to_iso(e.start_ns), end=ns_to_iso(e.end_ns) if e.end_ns is not None else None,
        start_s=(e.start_ns - run.start_ns) / 1e9,
        end_s=(e.end_ns - run.start_ns) / 1e9 if e.end_ns is not None else None,
        ends_in_run=e.end_ns is not None and e.end_ns <= last_ns,
        recovery_state=EVENT_STATE.get(e.type),
    ) for e in run.contract.events]


def _compare(run: RunData) -> list[schemas.CompareGroup]:
    base = run.need_baseline()
    base.need_network()
    evs = run.contract.events
    listed = events(run)
    ends = {e.name: (r.end_ns, e.type) for e, r in zip(listed, evs) if e.ends_in_run}
    df = compare_runs(run.store, base.store, ends)
    rec = [e for e in listed if e.ends_in_run and e.recovery_state is not None]
    out = []
    for group, r in df.iterrows():
        by_state = {s: float(r.get(f"lost_s_{s}", 0.0) or 0.0) for s in LOST_STATES}
        online = None
        if "online_satellite" in df.columns:
            online = schemas.OnlineBy(**{h: finite_or_none(r[f"online_{h}"]) for h in ("satellite", "ground", "both", "none")})
        recovery = []
        for e in rec:
            v = r.get(f"recover_s_{e.name}")
            if v is None or np.isnan(v):
                continue  # the event left none of this group's dishes in its state at its end
            recovery.append(schemas.Recovery(event=e.name, type=e.type, state=e.recovery_state,
                                             median_s=finite_or_none(v), recovered=bool(np.isfinite(v))))
        out.append(schemas.CompareGroup(
            group=str(group), dishes=int(r["dishes"]),
            availability=finite_or_none(r["availability"]),
            availability_baseline=finite_or_none(r["availability_baseline"]),
            availability_change=finite_or_none(r["availability_change"]),
            rtt_p50_ms=finite_or_none(r["rtt_p50_ms"]),
            rtt_p50_ms_baseline=finite_or_none(r["rtt_p50_ms_baseline"]),
            rtt_p50_change_ms=finite_or_none(r["rtt_p50_change_ms"]),
            rtt_matched_mean_change_ms=finite_or_none(r["rtt_matched_mean_change_ms"]),
            rtt_matched_p50_change_ms=finite_or_none(r["rtt_matched_p50_change_ms"]),
            lost_s_by_leonet_state=by_state, lost_s_by_cause=_by_dish_word(by_state),
            online_by=online,
            saved_by_satellite_s=finite_or_none(r["saved_by_satellite_s"]) if "saved_by_satellite_s" in df.columns else None,
            recovery=recovery,
        ))
    return out


def compare(run: RunData, offset: int, limit: int) -> schemas.Compare:
    """Scenario vs baseline per dish group (:func:`leonet.results.compare.compare`), and the
    scenario's events. 404 when the run has no baseline."""
    base = run.need_baseline()
    run.need_network()
    rows = run.aggregate("compare", lambda: _compare(run))
    listed = events(run)
    return schemas.Compare(
        scenario=str(run.manifest.scenario or run.root.name), baseline=str(base.manifest.scenario or BASELINE_DIR),
        step_s=run.step_s, events_total=len(listed), events=listed[:MAX_EVENTS],
        total=len(rows), offset=offset, limit=limit, groups=rows[offset:offset + limit],
    )


def warm_up(run: RunData) -> threading.Thread:
    """Compute the run-wide aggregates (obstruction wedges, regions, comparison) in the background,
    so the first request that needs them finds them ready (or waits for them, not twice)."""
    def work():
        try:
            run.obstruction_stats(int(run.dish_sites[0]) if len(run.dish_sites) else 0)
            if "pair_steps" in run.tables:
                from .pairs import pair_list

                pair_list(run, 0, 1, None, "name")
            if run.has_network:
                regions(run, 0, 1)
                if run.baseline is not None and run.baseline.has_network:
                    compare(run, 0, 1)
        except Exception as err:  # a request will meet the same error and report it
            run.warnings.append(f"background aggregation failed: {err}")

    thread = threading.Thread(target=work, name="leonet-app-warm-up", daemon=True)
    thread.start()
    return thread


# -- the calendar and the story, day by day ---------------------------------------------------------
def steps(run: RunData, start_step: int | None, end_step: int | None) -> schemas.Steps:
    """The instants and durations of a window of steps (at most MAX_SPAN_STEPS)."""
    start, end = run.span(start_step, end_step)
    k = np.arange(start, end)
    return schemas.Steps(start_step=start, end_step=end, uniform_steps=run.uniform, calendar=run.calendar_text,
                         t=[ns_to_iso(int(x)) for x in run.cal.times_ns[k]], t_s=np.asarray(run.t_s(k), dtype=float).tolist(),
                         duration_s=run.cal.durations_s[k].tolist())


def _daily(run: RunData) -> list[schemas.Day]:
    from ..results.timeline import daily_table

    day = daily_table(run.store)
    out = []
    for r in day.to_dict("records"):
        out.append(schemas.Day(
            day=r["day"], hours=float(r["hours"]), steps=int(r["steps"]), dish_hours=float(r["dish_hours"]),
            online=finite_or_none(r["online"]),
            **{f"online_{h}": finite_or_none(r[f"online_{h}"]) for h in ("both", "satellite", "ground", "none")
               if f"online_{h}" in r},
            events=[e for e in str(r["events"]).split("; ") if e]))
    return out


def daily(run: RunData) -> schemas.Daily:
    """The day-by-day table of the report's timeline (computed once per run)."""
    run.need_network()
    return schemas.Daily(calendar=run.calendar_text, days=run.aggregate("daily", lambda: _daily(run)))
