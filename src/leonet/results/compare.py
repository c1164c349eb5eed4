"""A scenario against its baseline (the same scenario without events): what the events cost.

Per group (city or region) of dishes: availability with and without the events, the lost time
by cause, the RTT median of both and its change (ms), by what users were online (ground, satellite, both, none), what the
satellite saved during ground outages, and how long service took to come back after each event
ended.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..states import OUTAGE_STATES
from .calendar import calendar, weighted_quantile
from .store import ResultStore
from .summary import site_weights

#: The states that count as lost time (leonet.states: CONGESTED is online, not lost).
LOST_STATES = OUTAGE_STATES


def _dish_frame(store: ResultStore) -> pd.DataFrame:
    sites = store.read("sites", columns=["name", "group"]).to_pandas()
    cols = ["t", "site", "state", "rtt_ms"]
    table = store.read("dish_steps")
    extra = [c for c in ("online_by", "ground_online", "downlink_bps", "demand_down_bps") if c in table.column_names]
    d = table.select(cols + extra).to_pandas()
    d["state"] = d["state"].astype(str)
    if "online_by" in d:
        d["online_by"] = d["online_by"].astype(str)
    grp = sites["group"].to_numpy()[d["site"].to_numpy()] if len(d) else np.zeros(0, dtype=object)
    d["group"] = np.where(grp == "", "dish", grp)
    d["w"] = site_weights(store)[d["site"].to_numpy()] if len(d) else np.zeros(0)
    # The time each row stands for, in coarse steps (1.0 in a uniform run): dish-time weights.
    cal = calendar(store)
    d["k"] = cal.weight_of(d["t"].astype("int64").to_numpy()) if len(d) else np.zeros(0)
    d["wk"] = d["w"] * d["k"]
    d.attrs["uniform"] = cal.uniform
    return d


def _wmean(d: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """Dish- and duration-weighted share of the time where ``mask`` holds, per group."""
    return (d["wk"] * mask).groupby(d["group"], sort=False).sum() / d.groupby("group", sort=False)["wk"].sum()


def _rtt_quantile(d: pd.DataFrame, q: float) -> pd.Series:
    """The q-quantile of the finite RTTs per group: over the rows of a uniform run, weighted by
    each step's duration in a windowed one (a 1 s step counts 1/900 of a 15 min step)."""
    ok = d[np.isfinite(d["rtt_ms"])]
    if d.attrs.get("uniform", True) or "k" not in d:
        g = ok.groupby("group", sort=False)["rtt_ms"]
        return g.median() if q == 0.5 else g.quantile(q)
    return pd.Series({grp: weighted_quantile(s["rtt_ms"].to_numpy(), s["k"].to_numpy(), q)
                      for grp, s in ok.groupby("group", sort=False)}, dtype=float)


def resilience_by_group(store: ResultStore, step_s: float) -> pd.DataFrame:
    """Per group: dishes, availability, lost dish-seconds by cause, online-by shares (as %).

    Every share and every lost time weights a dish-step by the time the step stands for
    (:mod:`leonet.results.calendar`), so windowed calendars count seconds, not steps."""
    d = _dish_frame(store)
    by = d["group"]
    dishes = d.drop_duplicates("site").groupby("group", sort=False)["w"].sum()
    out = pd.DataFrame({"dishes": dishes.astype(int), "availability": _wmean(d, ~d["state"].isin(LOST_STATES))})
    for cause in LOST_STATES:
        out[f"lost_s_{cause}"] = (d["wk"] * (d["state"] == cause)).groupby(by, sort=False).sum() * step_s
    if "online_by" in d:
        for how in ("both", "satellite", "ground", "none"):
            out[f"online_{how}"] = _wmean(d, d["online_by"] == how)
        # Satellite saved: dish-seconds online by satellite only (ground down, dish connected).
        out["saved_by_satellite_s"] = (d["wk"] * (d["online_by"] == "satellite")).groupby(by, sort=False).sum() * step_s
    if "downlink_bps" in d:  # dish- and duration-weighted throughput and unmet demand
        w = d["wk"]
        out["down_mean_mbps"] = (w * d["downlink_bps"]).groupby(by, sort=False).sum() / d.groupby(by, sort=False)["wk"].sum() / 1e6
        out["unmet_down_share"] = 1.0 - ((w * d["downlink_bps"]).groupby(by, sort=False).sum()
                                         / (w * d["demand_down_bps"]).groupby(by, sort=False).sum().clip(lower=1e-9))
    out["rtt_p50_ms"] = _rtt_quantile(d, 0.5)
    out["rtt_p95_ms"] = _rtt_quantile(d, 0.95)
    return out


def service_over_time(store: ResultStore) -> pd.DataFrame:
    """Per group: availability and RTT p5/p50/p95 (ms) as shares of dish-time, each dish-step
    weighted by its step's duration (the figures of :func:`leonet.results.summary.network_summary`
    for a windowed calendar, whose steps are uneven)."""
    d = _dish_frame(store)
    out = pd.DataFrame({"availability": _wmean(d, ~d["state"].isin(LOST_STATES))})
    for q, col in ((0.05, "rtt_p5_ms"), (0.5, "rtt_p50_ms"), (0.95, "rtt_p95_ms")):
        out[col] = _rtt_quantile(d, q)
    return out


#: The state each event type leaves a dish in (for "time to recover after the event ends").
EVENT_STATE = {"core_outage": "NO_PATH", "gateway_loss": "NO_PATH", "pop_loss": "NO_PATH", "fibre_cut": "NO_PATH",
               "dish_bricking": "OFFLINE", "jamming": "JAMMED", "demand_surge": "CONGESTED"}


def rtt_change_by_group(scenario: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """RTT of a scenario against its baseline per group, every figure in ms.

    ``scenario`` and ``baseline`` are dish frames (columns t, site, group, rtt_ms; NaN RTT where a
    dish was not connected). Per group:

    * ``rtt_p50_ms`` / ``rtt_p50_ms_baseline``: the median RTT over the connected dish-steps of
      each run, and ``rtt_p50_change_ms`` = their difference (what "the median moved from 17.4 to
      21.9 ms" says: +4.5);
    * ``rtt_matched_mean_change_ms`` / ``rtt_matched_p50_change_ms``: the mean and median, over the
      (step, dish) pairs connected in both runs, of scenario RTT - baseline RTT (the same dishes at
      the same instants, so dishes that dropped out do not move it). The median of differences is
      not the difference of medians: most steps of most dishes are unchanged, so it is often 0.
    """
    sa = _rtt_quantile(scenario, 0.5)
    sb = _rtt_quantile(baseline, 0.5)
    out = pd.DataFrame({"rtt_p50_ms": sa, "rtt_p50_ms_baseline": sb.reindex(sa.index)})
    out["rtt_p50_change_ms"] = out["rtt_p50_ms"] - out["rtt_p50_ms_baseline"]
    both = scenario[["t", "site", "group", "rtt_ms"]].merge(baseline[["t", "site", "rtt_ms"]], on=["t", "site"],
                                                             suffixes=("", "_base"))
    both = both[np.isfinite(both["rtt_ms"]) & np.isfinite(both["rtt_ms_base"])]
    diff = (both["rtt_ms"] - both["rtt_ms_base"]).groupby(both["group"], sort=False)
    out["rtt_matched_mean_change_ms"] = diff.mean().reindex(out.index)
    out["rtt_matched_p50_change_ms"] = diff.median().reindex(out.index)
    return out


def compare(scenario_store: ResultStore, baseline_store: ResultStore,
            event_ends: dict[str, tuple[int, str]] | None = None) -> pd.DataFrame:
    """Scenario vs baseline per group: availability of both (shares, 0..1) and its change (a
    share: x100 for percentage points), RTT of both and its change in ms
    (:func:`rtt_change_by_group`), lost time by cause in the scenario, and the median time to
    recover after each event's end.

    ``event_ends`` maps an event name to (end instant ns, event type)."""
    step_s = scenario_store.manifest.step_s
    a = resilience_by_group(scenario_store, step_s)
    b = resilience_by_group(baseline_store, step_s)
    out = pd.DataFrame({
        "dishes": a["dishes"],
        "availability": a["availability"],
        "availability_baseline": b["availability"].reindex(a.index),
    })
    out["availability_change"] = out["availability"] - out["availability_baseline"]
    da, db = _dish_frame(scenario_store), _dish_frame(baseline_store)
    rtt = rtt_change_by_group(da, db).reindex(a.index)
    for c in rtt.columns:
        out[c] = rtt[c]
    for c in a.columns:
        if c.startswith("lost_s_") or c.startswith("online_") or c == "saved_by_satellite_s":
            out[c] = a[c]
    for c in ("down_mean_mbps", "unmet_down_share"):
        if c in a and c in b:
            out[c] = a[c]
            out[f"{c}_baseline"] = b[c].reindex(a.index)
    if event_ends:
        d = da
        for name, (end_ns, typ) in event_ends.items():
            if typ in EVENT_STATE:
                out[f"recover_s_{name}"] = _recovery_s(d, end_ns, EVENT_STATE[typ])
    return out


def _recovery_s(d: pd.DataFrame, end_ns: int, state: str) -> pd.Series:
    """Median, over the dishes the event had left in ``state`` just before its end, of the time
    from the end until each is back: online again (not in an outage state), or, for a state that
    is not an outage (CONGESTED), CONNECTED (inf if one never recovers within the run)."""
    t_ns = d["t"].astype("int64").to_numpy()
    before = d[t_ns < end_ns]
    after = d[t_ns >= end_ns]
    if after.empty or before.empty:
        return pd.Series(dtype=float)
    last_t = before["t"].astype("int64").max()
    down_at_end = before[(before["t"].astype("int64") == last_t) & (before["state"] == state)]["site"]
    res = {}
    for group, g in after[after["site"].isin(down_at_end)].groupby("group", sort=False):
        times = []
        for _, s in g.groupby("site"):
            back = ~s["state"].isin(LOST_STATES) if state in LOST_STATES else s["state"] == "CONNECTED"
            ok = s[back]["t"].astype("int64")
            times.append((ok.min() - end_ns) / 1e9 if len(ok) else np.inf)
        res[group] = float(np.median(times))
    return pd.Series(res, dtype=float)
