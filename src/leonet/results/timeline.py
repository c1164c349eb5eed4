"""The story of a run, day by day: by what means the dishes' users were online each UTC day, and
which events were acting (issue 12, "the story, told").

One row per UTC calendar day the run covers. Every share is weighted by dishes (``dishes`` of a
site) and by time: a step stands for its duration (:mod:`leonet.results.calendar`: the time up to
the next step, or a ``sample: true`` window's equal share of the stretch it opens; see
:func:`step_spans_ns`), and a step that crosses midnight gives each day its part. So a day of 12
coarse 2 h steps and a day with a 1 s window count the same 86,400 s, and the numbers can be
checked by hand.

Columns of :func:`daily_table`:

    day                 the UTC date (YYYY-MM-DD)
    hours               hours of the day inside the run
    steps               how many steps start that day
    dish_hours          dish-weighted hours (dishes x hours)
    online              share of dish-time online by satellite (a state that is not an outage)
    online_both, online_satellite, online_ground, online_none
                        shares of dish-time by what users were online; they sum to 1. From
                        ``dish_steps.ground_level`` (the share of a site's users with ground
                        internet) where the run has it, so an ISP outage counts its customers;
                        from ``online_by`` (the site's majority) in older runs
    events              the events acting that day ("name (type)", separated by "; ")
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..states import OUTAGE_STATES
from .calendar import calendar
from .contract import read_contract
from .store import ResultStore
from .summary import row_dishes, site_weights

DAY_NS = 86_400 * 10**9
ONLINE_BY = ("both", "satellite", "ground", "none")
#: A run spanning more than this (s), or with windows, gets a timeline section in the report.
TIMELINE_MIN_SPAN_S = 2 * 86_400


def wants_timeline(store: ResultStore) -> bool:
    """Whether the report tells this run day by day: windowed, or longer than two days."""
    cal = calendar(store)
    if not cal.n_steps:
        return False
    return (not cal.uniform) or (cal.end_ns - int(cal.times_ns[0])) / 1e9 > TIMELINE_MIN_SPAN_S


def _day_parts(times_ns: np.ndarray, end_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split each step [t, end) at UTC midnights: (day index, part s, day index of the rest,
    rest s). A step is at most a day long (time.step_s <= 86,400), so it touches at most two days."""
    day0 = times_ns // DAY_NS
    cut = np.minimum(end_ns, (day0 + 1) * DAY_NS)
    first_s = (cut - times_ns) / 1e9
    rest_s = (end_ns - cut) / 1e9
    return day0, first_s, day0 + 1, rest_s


def step_spans_ns(cal) -> tuple[np.ndarray, np.ndarray]:
    """int64 (T,) each: the stretch [start, end) (UTC ns) of the calendar's time each step stands
    for, the stretches laid end to end from the first instant to the calendar's end, each as long
    as the step's duration (``cal.durations_s``).

    A step stands for the time up to the next instant, so its stretch starts at its instant;
    except in a ``sample: true`` window, whose instants share the stretch the window opens
    equally (:mod:`leonet.scenario.timing`): the first starts it, the others follow each other by
    their share, and the next instant after the window starts where the last share ends."""
    t = np.asarray(cal.times_ns, dtype=np.int64)
    if not len(t):
        return t.copy(), t.copy()
    gaps_s = np.diff(np.r_[t, np.int64(cal.end_ns)]) / 1e9
    # How far each step's stretch starts after its instant: the durations of the steps before it
    # minus the gaps between their instants (0 outside sample windows; rounding left over at a
    # sample window's end is far below a nanosecond, so it rounds away)
    ahead_s = np.r_[0.0, np.cumsum(np.asarray(cal.durations_s, dtype=np.float64) - gaps_s)[:-1]]
    starts = t + np.round(ahead_s * 1e9).astype(np.int64)
    return starts, np.r_[starts[1:], np.int64(cal.end_ns)]


def step_sums(store: ResultStore) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None:
    """Per step (float64 (T,) each): the dish weight in all, the weight online by satellite, and
    by each means of :data:`ONLINE_BY` (where the run has ``ground_level`` or ``online_by``);
    None without dish rows.

    Read chunk file by chunk file (the columns it needs only): what is held is one chunk's rows
    and these sums, never the dish_steps table. A chunk holds whole steps, so each step's sum is
    taken over its rows in table order, as over the whole table: the sums are the same."""
    if "dish_steps" not in store.tables():
        return None
    cal = calendar(store)
    parts = store.parts("dish_steps")
    if not parts:
        return None
    names = pq.read_schema(parts[0]).names
    cols = (["t", "site", "state"] + (["online_by"] if "online_by" in names else [])
            + (["ground_level"] if "ground_level" in names else [])
            + (["delivered"] if "delivered" in names else []))
    weights = site_weights(store)
    n = cal.n_steps
    total, online = np.zeros(n), np.zeros(n)
    by: dict[str, np.ndarray] = {}
    rows = 0
    for part in parts:
        d = pq.read_table(part, columns=cols).to_pandas()
        if d.empty:
            continue
        rows += len(d)
        step = cal.index_of(d["t"].astype("int64").to_numpy())
        w = row_dishes(weights, d["site"].to_numpy(), d["delivered"] if "delivered" in d else None)
        sat = ~d["state"].astype(str).isin(OUTAGE_STATES).to_numpy()
        total += np.bincount(step, weights=w, minlength=n)
        online += np.bincount(step, weights=w * sat, minlength=n)
        if "ground_level" in d:
            shares = online_shares(sat, d["ground_level"].to_numpy(dtype=np.float64))
        elif "online_by" in d:
            ob = d["online_by"].astype(str).to_numpy()
            shares = {how: ob == how for how in ONLINE_BY}
        else:
            shares = {}
        for how, share in shares.items():
            by[how] = by.get(how, np.zeros(n)) + np.bincount(step, weights=w * share, minlength=n)
    return (total, online, by) if rows else None


def online_shares(sat: np.ndarray, ground_level: np.ndarray) -> dict[str, np.ndarray]:
    """By what a dish site's users are online, as shares of them (each (R,) float64, summing to 1):
    ``sat`` (R,) bool, the dish online by satellite; ``ground_level`` (R,) the share of the site's
    users whose ground internet works (an ISP outage takes its customers, not the city). In
    expectation over the site's users, ground and satellite independent; the report's day by day
    and the summary's resilience table both count with it."""
    sat = np.asarray(sat, dtype=bool)
    level = np.asarray(ground_level, dtype=np.float64)
    return {"both": sat * level, "satellite": sat * (1 - level), "ground": ~sat * level, "none": ~sat * (1 - level)}


def daily_table(store: ResultStore) -> pd.DataFrame:
    """One row per UTC day (see the module docstring); empty without dish results. From the
    per-step sums of :func:`step_sums` (chunk file by chunk file)."""
    sums = step_sums(store)
    if sums is None:
        return pd.DataFrame()
    total, online, by = sums
    cal = calendar(store)
    n = cal.n_steps
    starts_ns, ends_ns = step_spans_ns(cal)
    day_a, sec_a, day_b, sec_b = _day_parts(starts_ns, ends_ns)
    first_day = int(day_a.min())
    n_days = int(max(day_a.max(), day_b[sec_b > 0].max() if (sec_b > 0).any() else day_a.max())) - first_day + 1

    day_b = np.where(sec_b > 0, day_b, day_a)  # a step ending at (or before) midnight has no rest

    def per_day(x: np.ndarray) -> np.ndarray:
        return (np.bincount(day_a - first_day, weights=x * sec_a, minlength=n_days)
                + np.bincount(day_b - first_day, weights=x * sec_b, minlength=n_days))

    seconds = per_day(np.ones(n))
    dish_s = per_day(total)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "day": [str((pd.Timestamp((first_day + k) * DAY_NS, unit="ns")).date()) for k in range(n_days)],
            "hours": seconds / 3600.0,
            "steps": np.bincount(cal.times_ns // DAY_NS - first_day, minlength=n_days),
            "dish_hours": dish_s / 3600.0,
            "online": per_day(online) / dish_s,
        })
        for how in by:
            out[f"online_{how}"] = per_day(by[how]) / dish_s
    starts = (first_day + np.arange(n_days)) * DAY_NS
    events = read_contract(store).events
    names = []
    for a in starts:
        b = a + DAY_NS
        acting = [f"{e.name} ({e.type})" for e in events
                  if e.start_ns < b and (e.end_ns is None or e.end_ns > a) and e.start_ns < cal.end_ns]
        names.append("; ".join(acting))
    out["events"] = names
    return out[out["hours"] > 0].reset_index(drop=True)


def event_spans(store: ResultStore) -> list[dict]:
    """The run's events as {name, type, description, start_ns, end_ns} (end clipped to the
    calendar's end)."""
    cal = calendar(store)
    return [{"name": e.name, "type": e.type, "description": e.description or "", "start_ns": int(e.start_ns),
             "end_ns": int(min(e.end_ns, cal.end_ns)) if e.end_ns is not None else int(cal.end_ns)}
            for e in read_contract(store).events]
