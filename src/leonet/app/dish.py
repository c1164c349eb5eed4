"""One dish's answers, in the dish's own words: the dish list, status at a step, history over a
window (with the baseline's beside it), outages, and the obstruction map of its sky.

Each function takes the opened run (:class:`~leonet.app.run.RunData`) and returns the response
model of :mod:`leonet.app.schemas` directly.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow.parquet as pq

from .. import states
from ..horizon import blocked
from ..results.quantiles import weighted_quantile
from . import schemas
from ..timeutil import ns_to_iso
from .errors import NotFound
from .run import BASELINE_DIR, EVENT_ALERT, RunData, finite_or_none, round_list
from .snapshot import stride_pick


def dishes(run: RunData, offset: int, limit: int, group: str | None, q: str | None = None) -> schemas.DishList:
    """A page of the run's dishes (of one group; with ``q``, those whose name holds ``q``, in any
    case: the page's search box finds any dish of a large run this way)."""
    d = run.sites.iloc[run.dish_sites]
    if group is not None:
        d = d[d["group"] == group]
    if q:
        d = d[d["name"].astype(str).str.contains(q, case=False, regex=False)]
    page = d.iloc[offset:offset + limit]
    return schemas.DishList(
        total=int(len(d)), offset=offset, limit=limit,
        dishes=[
            schemas.DishRef(id=str(r.name_), site=int(r.Index), group=str(r.group), lat_deg=float(r.lat_deg),
                            lon_deg=float(r.lon_deg), dishes=int(run.dish_count[r.Index]))
            for r in page.rename(columns={"name": "name_"}).itertuples()
        ],
    )


def _alerts(leonet_state: str, rerouted: bool, fraction: float | None, event_types: list[str] = ()) -> list[str]:
    """The dish's alerts at one step: from its state, its sky, and the events acting on it
    (``event_types``, :data:`leonet.app.run.EVENT_ALERT`); each alert once, in a fixed order."""
    alerts = []
    if leonet_state == "JAMMED":
        alerts.append("jammed")
    if leonet_state == "OFFLINE":
        alerts.append("dish_offline")
    if leonet_state == "SOLD_OUT":
        alerts.append("sold_out")
    if leonet_state == "GEOFENCED":
        alerts.append("geofenced")
    if leonet_state == "OBSTRUCTED":
        alerts.append("obstructed")
    if leonet_state == "NO_SATS":
        alerts.append("no_satellites")
    if leonet_state == "NO_PATH":
        alerts.append("no_pop_reachable")
    if rerouted:
        alerts.append("rerouted_mid_slot")
    if leonet_state == "CONGESTED":
        alerts.append("congested")
    if fraction:
        alerts.append("sky_obstructed")
    if leonet_state == "JAMMED" and "jamming" not in event_types:
        event_types = [*event_types, "jamming"]
    for typ in event_types:
        alert = EVENT_ALERT.get(typ)
        if alert is not None and alert not in alerts:
            alerts.append(alert)
    return alerts


def status(run: RunData, dish_id: str, step: int | None, t: datetime | None) -> schemas.DishStatus:
    site = run.dish_site(dish_id)
    rows = run.dish_rows(site)
    step = run.step_of(step, t)
    k = rows.row_of(step)
    t_ns = run.t_ns(step)
    leonet_state = str(rows.state[k])
    connected = bool(rows.connected[k])
    # uptime (s): the time the steps of the current connected stretch before this one stand for
    # (their durations, as outages count theirs: a sample window's step stands for its share)
    before = np.flatnonzero(~rows.connected[:k + 1])
    up_from = (int(before[-1]) + 1) if len(before) else 0
    uptime_s = run.seconds(int(rows.step[up_from]), step) if connected else 0.0
    # Served only in an online state: a SOLD_OUT, OFFLINE or NO_PATH dish has no serving satellite,
    # though the engine stores the one in view on those rows too.
    sat = int(rows.served_sat[k])
    r = run.sites.iloc[site]
    azimuth = elevation = None
    if sat >= 0:
        az, el = run.sky.look_angles_from(float(r.lat_deg), float(r.lon_deg), float(r.elevation_m),
                                          np.array([sat]), np.array([t_ns]))
        azimuth, elevation = finite_or_none(az[0, 0]), finite_or_none(el[0, 0])
    fraction, wedges = run.obstruction_stats(site)
    # The gateway and PoP the dish uses now, or used last (so a struck one still names the dish).
    used = np.flatnonzero(rows.gateway[:k + 1] >= 0)
    last = int(used[-1]) if len(used) else k
    acting = run.events_on_dish(site, t_ns, (int(rows.gateway[last]), int(rows.pop[last])))
    if leonet_state == "JAMMED":  # a jammer acts by area: the active jamming events jam this dish
        acting += [i for i in run.active_events(t_ns) if run.contract.events[i].type == "jamming" and i not in acting]
    seen = run.sats_in_view(site, step)
    behind = run.behind_mask_at(site, step)
    behind_points = None if behind is None else [
        schemas.SkyPoint(sat=int(b), name=run.sat_name(int(b)), azimuth_deg=finite_or_none(a),
                         elevation_deg=finite_or_none(e)) for b, a, e in zip(*behind)]
    return schemas.DishStatus(
        id=dish_id, site=site, group=str(r.group), lat_deg=float(r.lat_deg), lon_deg=float(r.lon_deg),
        step=step, t=ns_to_iso(t_ns), t_s=run.t_s(step),
        state=str(rows.dish_state[k]), leonet_state=leonet_state,
        pop_ping_latency_ms=finite_or_none(rows.rtt_ms[k]) if connected else None,
        pop_ping_drop_rate=float(_drop_rates(rows, slice(k, k + 1))[0]),
        downlink_throughput_bps=finite_or_none(rows.downlink_bps[k]) if rows.downlink_bps is not None else None,
        uplink_throughput_bps=finite_or_none(rows.uplink_bps[k]) if rows.uplink_bps is not None else None,
        speedtest_down_bps=finite_or_none(rows.speedtest_down_bps[k]) if rows.speedtest_down_bps is not None else None,
        speedtest_up_bps=finite_or_none(rows.speedtest_up_bps[k]) if rows.speedtest_up_bps is not None else None,
        fraction_obstructed=fraction, wedges_fraction_obstructed=wedges,
        currently_obstructed=leonet_state == "OBSTRUCTED",
        direction_azimuth=azimuth, direction_elevation=elevation,
        uptime_s=uptime_s,
        connected_since=ns_to_iso(run.t_ns(int(rows.step[up_from]))) if connected else None,
        serving_sat=sat if sat >= 0 else None, serving_sat_name=run.sat_name(sat),
        gateway=run.site_name(int(rows.gateway[k])), pop=run.site_name(int(rows.pop[k])),
        pop_city=run.site_city(int(rows.pop[k])),
        isl_hops=int(rows.isl_hops[k]) if rows.isl_hops[k] >= 0 else None,
        hops=int(rows.hops[k]) if rows.hops[k] >= 0 else None,
        path=[int(x) for x in (rows.path[k] or [])],
        slot_start=ns_to_iso(int(rows.slot_start_ns[k])),
        satellites_in_view=seen[0] if seen else None,
        satellites_clear=seen[1] if seen else None,
        satellites_behind_mask=behind_points,
        satellites_behind_mask_note=None if behind is not None else schemas.BEHIND_MASK_NOT_STORED,
        blocked_sat=_blocked_sat(run, rows, k, behind_points) if leonet_state == "OBSTRUCTED" else None,
        never_online=_never_online(run, dish_id, rows),
        alerts=_alerts(leonet_state, bool(rows.rerouted_mid_slot[k]), fraction,
                       [run.contract.events[i].type for i in acting]),
        events=[run.contract.events[i].name for i in acting],
    )


def _blocked_sat(run: RunData, rows, k: int, behind: list[schemas.SkyPoint] | None) -> schemas.BlockedSat | None:
    """The satellite an OBSTRUCTED dish is blocked from at row ``k``: the satellite that served it
    last in this reconfiguration slot, where it is behind the mask now (the dish keeps its slot's
    satellite until the slot ends, so it is OBSTRUCTED while a clear one may be in view); else the
    highest satellite in view behind the mask. None when the run does not store the satellites
    behind the mask (``behind`` None) or none is (both from the results: dish_steps, visibility)."""
    if not behind:
        return None
    slot = rows.slot_start_ns[k]
    first = k
    while first > 0 and rows.slot_start_ns[first - 1] == slot and rows.step[first - 1] == rows.step[first] - 1:
        first -= 1
    sats = rows.served_sat
    served = np.flatnonzero(sats[first:k] >= 0)
    if len(served):
        last = int(sats[first + served[-1]])
        hit = next((b for b in behind if b.sat == last), None)
        if hit is not None:
            since = int(rows.step[first + served[-1]])
            return schemas.BlockedSat(**hit.model_dump(), was_serving=True,
                                      why=f"the satellite that served the dish in this slot until step {since}, now "
                                          "behind the mask: the dish keeps its slot's satellite until the slot ends")
    return schemas.BlockedSat(**behind[0].model_dump(), was_serving=False,
                              why="the highest satellite in view, behind the mask")


def state_label(leonet_state: str) -> str:
    """A state in the page's one vocabulary: the dish's word, with leonet's name in brackets where
    they differ (NO_PINGS (NO_PATH)); OBSTRUCTED as it is."""
    word = states.DISH_WORD.get(leonet_state, leonet_state)
    return word if word == leonet_state else f"{word} ({leonet_state})"


def _never_online(run: RunData, dish_id: str, rows) -> str | None:
    """The line for a dish never online over the run (as ``leonet dish`` prints it): the states
    that took its time, each with its share of the time (each step weighs the time it stands for)
    and its meaning (:mod:`leonet.states`); None for a dish online at some step, or with no rows."""
    if not len(rows.step) or rows.connected.any():
        return None
    seconds = run.cal.durations_s[rows.step]
    names, inverse = np.unique(rows.state.astype(str), return_inverse=True)
    lost = np.bincount(inverse, weights=seconds, minlength=len(names))
    return states.never_online_text(dish_id, len(rows.step), dict(zip(names.tolist(), lost.tolist())),
                                    label=state_label)


def _drop_rates(rows, w) -> np.ndarray:
    """float64: the share of pings to the PoP lost at each step of ``rows`` (a slice or indices):
    the service model's drop rate where the run has it (loss at reconfigurations while connected,
    1 in an outage), else 1 when the dish is not CONNECTED and 0 when it is."""
    lost = 1.0 - rows.connected[w].astype(np.float64)
    if rows.drop_rate is None:
        return lost
    d = rows.drop_rate[w]
    return np.where(np.isfinite(d), np.clip(d, 0.0, 1.0), lost)


def _latency_summary(drop: np.ndarray, rtt: np.ndarray, have: np.ndarray | None = None,
                     seconds: np.ndarray | None = None) -> schemas.HistorySummary:
    """The window's drop rate (the mean of the per-step drop rates ``drop``: the share of its pings
    lost) and latency percentiles, over steps; with ``seconds`` (a windowed calendar: the time
    each step stands for) each step weighs its time, as the results readers weigh it."""
    sel = np.ones(len(drop), bool) if have is None else have
    if seconds is not None:
        ok = sel & np.isfinite(rtt)
        w = seconds[sel]
        rate = float((w * drop[sel]).sum() / w.sum()) if sel.any() and w.sum() > 0 else None
        p50, p95 = (weighted_quantile(rtt[ok], seconds[ok], q) for q in (0.5, 0.95))
        return schemas.HistorySummary(pop_ping_drop_rate=rate,
                                      latency_p50_ms=finite_or_none(p50) if ok.any() else None,
                                      latency_p95_ms=finite_or_none(p95) if ok.any() else None)
    finite = rtt[np.isfinite(rtt)]
    return schemas.HistorySummary(
        pop_ping_drop_rate=float(drop[sel].mean()) if sel.any() else None,
        latency_p50_ms=finite_or_none(np.percentile(finite, 50)) if len(finite) else None,
        latency_p95_ms=finite_or_none(np.percentile(finite, 95)) if len(finite) else None,
    )


def history(run: RunData, dish_id: str, start_step: int | None, end_step: int | None,
            baseline: bool = False) -> schemas.DishHistory:
    site = run.dish_site(dish_id)
    rows = run.dish_rows(site)
    start, end = run.span(start_step, end_step)
    w = rows.window(start, end)
    seconds = None if run.cal.even else run.cal.durations_s[rows.step[w]]  # uneven steps: shares of time
    base = _baseline_history(run, dish_id, rows.step[w], seconds) if baseline else None
    connected = rows.connected[w]
    rtt = np.where(connected, rows.rtt_ms[w], np.nan)
    slot = rows.slot_start_ns[w]
    boundaries = np.unique(slot[slot >= run.t_ns(start)])  # slot starts inside the window
    sats = rows.served_sat[w].astype(np.int64)  # -1 (null) in an outage: no satellite serves the dish then
    drop = _drop_rates(rows, w)
    return schemas.DishHistory(
        id=dish_id, start_step=start, end_step=end, start=ns_to_iso(run.t_ns(start)), step_s=run.step_s,
        steps=rows.step[w].astype(int).tolist(),
        t_s=run.t_s(rows.step[w]).tolist(),
        duration_s=None if run.cal.even else seconds.tolist(),
        state=rows.dish_state[w].tolist(),
        leonet_state=[str(s) for s in rows.state[w]],
        pop_ping_latency_ms=round_list(rtt, 3),
        pop_ping_drop_rate=drop.tolist(),
        downlink_throughput_bps=round_list(rows.downlink_bps[w], 0) if rows.downlink_bps is not None else None,
        uplink_throughput_bps=round_list(rows.uplink_bps[w], 0) if rows.uplink_bps is not None else None,
        speedtest_down_bps=round_list(rows.speedtest_down_bps[w], 0) if rows.speedtest_down_bps is not None else None,
        speedtest_up_bps=round_list(rows.speedtest_up_bps[w], 0) if rows.speedtest_up_bps is not None else None,
        serving_sat=[int(s) if s >= 0 else None for s in sats],
        serving_sat_name=[run.sat_name(int(s)) for s in sats],
        path_changed=rows.path_changed[w].astype(bool).tolist(),
        rerouted_mid_slot=rows.rerouted_mid_slot[w].astype(bool).tolist(),
        slot_boundaries_s=((boundaries - run.start_ns) / 1e9).tolist(),
        summary=_latency_summary(drop, rtt, seconds=seconds),
        baseline=base,
    )


def _baseline_history(run: RunData, dish_id: str, steps: np.ndarray,
                      seconds: np.ndarray | None = None) -> schemas.BaselineHistory:
    """The baseline's state and latency of a dish at the given steps (None where the baseline
    has no such step)."""
    b = run.need_baseline()
    site = b.site_of_dish.get(dish_id)
    if site is None:
        raise NotFound(f"no dish {dish_id!r} in this run's baseline")
    rows = b.dish_rows(site)
    steps = np.asarray(steps, dtype=np.int64)
    k = np.searchsorted(rows.step, steps)
    have = k < len(rows.step)
    have[have] = rows.step[k[have]] == steps[have]
    k = np.where(have, k, 0)
    connected = np.zeros(len(steps), dtype=bool)
    connected[have] = rows.connected[k[have]]
    rtt = np.full(len(steps), np.nan)
    rtt[connected] = rows.rtt_ms[k[connected]]
    drop = np.full(len(steps), np.nan)
    drop[have] = _drop_rates(rows, k[have])
    return schemas.BaselineHistory(
        name=str(b.manifest.scenario or BASELINE_DIR),
        state=[str(rows.dish_state[j]) if h else None for j, h in zip(k, have)],
        leonet_state=[str(rows.state[j]) if h else None for j, h in zip(k, have)],
        pop_ping_latency_ms=round_list(rtt, 3),
        pop_ping_drop_rate=[float(d) if h else None for d, h in zip(drop, have)],
        summary=_latency_summary(drop, rtt, have, seconds=seconds),
    )


def outages(run: RunData, dish_id: str, start_step: int | None, end_step: int | None, limit: int) -> schemas.Outages:
    """Runs of consecutive steps with one cause, where the dish's state is not CONNECTED (so a
    CONGESTED dish is not in an outage), in a window of at most MAX_SPAN_STEPS (default: the
    first MAX_SPAN_STEPS of the run)."""
    site = run.dish_site(dish_id)
    rows = run.dish_rows(site)
    start, end = run.span(start_step, end_step)
    w = rows.window(start, end)
    state, step, leonet = rows.dish_state[w], rows.step[w], rows.state[w]
    change = np.r_[True, (state[1:] != state[:-1]) | (np.diff(step) != 1)] if len(state) else np.zeros(0, bool)
    starts = np.flatnonzero(change)
    stops = np.r_[starts[1:], len(state)]
    out, by_cause = [], {}
    last_step = int(rows.step[-1]) if len(rows.step) else -1
    for a, b in zip(starts, stops):
        if state[a] == "CONNECTED":
            continue
        cause = str(state[a])
        first, past = int(step[a]), int(step[b - 1]) + 1
        seconds = run.seconds(first, past)  # the real time the steps stand for (uneven calendars)
        by_cause[cause] = by_cause.get(cause, 0.0) + seconds
        if len(out) < limit:
            out.append(schemas.Outage(
                cause=cause, leonet_state=str(leonet[a]),
                start=ns_to_iso(run.t_ns(first)), end=ns_to_iso(run.t_ns(past)),
                start_step=first, end_step=past,
                start_s=run.t_s(first), duration_s=seconds,
                ongoing=past - 1 == last_step and past == run.n_steps,
            ))
    total = int(sum(1 for a in starts if state[a] != "CONNECTED"))
    return schemas.Outages(id=dish_id, start_step=start, end_step=end, total=total, truncated=total > len(out),
                           seconds_by_cause=by_cause, outages=out)


def _best_sat_counts(run: RunData, site: int) -> np.ndarray:
    """int64 (satellites,): the steps at which each satellite was the highest in a site's sky
    (site_steps.best_sat), chunk file by chunk file."""
    counts = np.zeros(0, dtype=np.int64)
    for part in run.store.parts("site_steps"):
        best = pq.read_table(part, columns=["best_sat"], filters=[("site", "=", int(site))])
        best = best.column("best_sat").to_numpy(zero_copy_only=False)
        c = np.bincount(best[best >= 0].astype(np.int64), minlength=len(counts))
        c[: len(counts)] += counts
        counts = c
    return counts


#: Two points of a sky track further apart in time than this are never joined (s): a satellite's
#: pass across a dish's sky lasts minutes, so points further apart belong to different passes.
TRACK_MAX_GAP_S = 300.0


def _track_max_gap_s(t_s: np.ndarray) -> float:
    """The longest time (s) between two consecutive points of a sky track that are still joined by
    a line: 2.5 times the shortest spacing of the sampled instants ``t_s`` (so a line spans a
    sample or two, never a windowed run's jump from a window to the next coarse step), and at
    most :data:`TRACK_MAX_GAP_S`."""
    gaps = np.diff(t_s)
    gaps = gaps[gaps > 0]
    return min(2.5 * float(gaps.min()), TRACK_MAX_GAP_S) if len(gaps) else TRACK_MAX_GAP_S


def obstruction_map(run: RunData, dish_id: str, max_tracks: int, max_points: int) -> schemas.ObstructionMap:
    site = run.dish_site(dish_id)
    rows = run.dish_rows(site)
    masks, mask_of_site = run.masks
    m = int(mask_of_site[site]) if len(mask_of_site) else -1
    fraction, wedges = run.obstruction_stats(site)
    served_sat = rows.served_sat  # only where the dish was online (served), never in an outage
    used, served = np.unique(served_sat[served_sat >= 0], return_counts=True)
    order = np.argsort(-served, kind="stable")
    n_used = len(used)
    used, served = used[order][:max_tracks], served[order][:max_tracks]
    # Room left: the satellites that were highest in this dish's sky (site_steps.best_sat: the
    # highest clear one), so a dish that never connected still shows what it was looking at, and
    # those it had in view behind its mask (the visibility table), so a dish whose satellites were
    # all blocked shows them: each gets half the room left, and either takes what the other leaves.
    best = np.zeros(0, dtype=np.int64)
    if len(used) < max_tracks and "site_steps" in run.tables:
        n_best = _best_sat_counts(run, site)
        n_best[used[used < len(n_best)]] = 0
        best = np.flatnonzero(n_best)
        best = best[np.argsort(-n_best[best], kind="stable")]
    hidden = run.behind_mask_counts(site)
    behind_steps = {} if hidden is None else dict(zip(hidden[0].tolist(), hidden[1].tolist()))
    behind = np.zeros(0, dtype=np.int64) if hidden is None else hidden[0][~np.isin(hidden[0], used)]
    room = max_tracks - len(used)
    take_best = best[: max(room // 2, room - len(behind))]
    take_behind = behind[~np.isin(behind, take_best)][: room - len(take_best)]
    more = best[len(take_best):]
    more = more[~np.isin(more, take_behind)][: room - len(take_best) - len(take_behind)]
    extra = np.r_[take_best, more, take_behind].astype(np.int64)
    used = np.r_[used, extra].astype(np.int64)
    served = np.r_[served, np.zeros(len(extra), dtype=np.int64)]
    steps = rows.step[stride_pick(len(rows.step), max_points)]
    r = run.sites.iloc[site]
    az, el = run.sky.look_angles_from(float(r.lat_deg), float(r.lon_deg), float(r.elevation_m),
                                      used, run.start_ns + steps * run.step_ns if run.uniform else run.cal.times_ns[steps])
    floor = run.min_elevation_deg if run.min_elevation_deg is not None else 0.0
    serving_at = served_sat[np.searchsorted(rows.step, steps)]
    t_s = np.asarray(run.t_s(steps), dtype=np.float64).reshape(-1)
    max_gap = _track_max_gap_s(t_s)
    tracks = []
    for j, sat in enumerate(used):
        keep = np.isfinite(el[:, j]) & (el[:, j] >= floor)
        a, e = az[keep, j], el[keep, j]
        obstructed = blocked(masks, mask_of_site, np.full(len(a), site), a, e) if m >= 0 else np.zeros(len(a), bool)
        # Break the line where the satellite left view between two points (a sampled instant
        # between them is below the minimum elevation) or where they lie too far apart in time to
        # be one pass (across a window of a windowed run, or coarse steps): no chord across the sky.
        at = np.flatnonzero(keep)
        breaks = np.flatnonzero((np.diff(at) > 1) | (np.diff(t_s[at]) > max_gap)) + 1
        tracks.append(schemas.Track(
            sat=int(sat), name=run.sat_name(int(sat)), used=bool(served[j] > 0), serving_steps=int(served[j]),
            t_s=t_s[keep].tolist(), breaks=breaks.astype(int).tolist(),
            azimuth_deg=round_list(a, 2), elevation_deg=round_list(e, 2),
            serving=(serving_at[keep] == sat).tolist(), obstructed=obstructed.tolist(),
            behind_mask_steps=None if hidden is None else int(behind_steps.get(int(sat), 0)),
        ))
    return schemas.ObstructionMap(
        id=dish_id,
        horizon_mask_deg=round_list(masks[m], 2) if m >= 0 else None,
        min_elevation_deg=run.min_elevation_deg,
        fraction_obstructed=fraction, wedges_fraction_obstructed=wedges,
        satellites_used=int(n_used), tracks=tracks,
        behind_mask_stored=hidden is not None,
        behind_mask_note=None if hidden is not None else schemas.BEHIND_MASK_NOT_STORED,
    )
