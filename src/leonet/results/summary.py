"""Summaries of a results folder: how many satellites each site sees, and coverage gaps.

The numbers are computed from the stored tables (not from the run's memory), so the summary of
a folder is the same whether it was just run, resumed, or copied from elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..states import OUTAGE_STATES
from ..memory import release_free_memory
from .pair_summary import pair_summary
from .calendar import calendar
from .store import ResultStore


@dataclass(frozen=True)
class CoverageSummary:
    """Per-site visibility statistics over the run.

    ``per_site`` has one row per site: name, kind, group, visible_min, visible_median,
    visible_max, gap_steps (steps with nothing in view), gap_count (separate gaps),
    longest_gap_s.
    """

    per_site: pd.DataFrame
    n_steps: int
    step_s: float

    def by_group(self, kind: str | None = None) -> pd.DataFrame:
        """Aggregate per group (city, region) for sites of ``kind`` (all kinds if None)."""
        df = self.per_site if kind is None else self.per_site[self.per_site["kind"] == kind]
        g = df.assign(group=df["group"].where(df["group"] != "", df["kind"]))
        order = {"dish": 0, "station": 1, "gateway": 2, "pop": 3}
        g = g.iloc[np.argsort(g["kind"].map(order).to_numpy(), kind="stable")]
        return g.groupby(["kind", "group"], sort=False).agg(
            sites=("name", "size"),
            visible_min=("visible_min", "min"),
            visible_median=("visible_median", "median"),
            visible_max=("visible_max", "max"),
            gap_steps=("gap_steps", "sum"),
            longest_gap_s=("longest_gap_s", "max"),
        ).reset_index()


def _gaps(zero: np.ndarray) -> tuple[int, int]:
    """(number of runs of True, longest run) of a boolean vector."""
    if not zero.any():
        return 0, 0
    padded = np.r_[False, zero, False].astype(np.int8)
    d = np.diff(padded)
    starts, stops = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return len(starts), int((stops - starts).max())


def _longest_gap_s(zero: np.ndarray, durations_s: np.ndarray) -> float:
    """The longest run of True in ``zero`` (T,), in seconds (each step weighs its duration)."""
    if not zero.any():
        return 0.0
    run_id = np.cumsum(~zero)  # steps of one run of True share an id
    return float(np.bincount(run_id[zero], weights=durations_s[zero]).max())


def site_weights(store: ResultStore) -> np.ndarray:
    """(S,) how many identical dishes each site stands for (``dishes_per_site``; 1 otherwise)."""
    table = store.read("sites")
    if "dishes" not in table.column_names:
        return np.ones(table.num_rows)
    return np.nan_to_num(table.column("dishes").to_numpy(zero_copy_only=False).astype(np.float64), nan=1.0)


def coverage_summary(store: ResultStore) -> CoverageSummary:
    manifest = store.manifest
    sites = store.read("sites", columns=["name", "kind", "group"]).to_pandas()
    steps = store.read("site_steps", columns=["t", "site", "n_visible"]).to_pandas()
    n_sites = len(sites)
    steps = steps.sort_values(["site", "t"], kind="stable")
    nv = steps["n_visible"].to_numpy().reshape(n_sites, -1) if n_sites else np.zeros((0, 0), dtype=np.int16)
    step_s = manifest.step_s
    cal = calendar(store)
    gaps = [_gaps(row == 0) for row in nv]
    if not cal.uniform and nv.size:  # the longest gap in seconds, from each step's duration
        durations = cal.durations_s[: nv.shape[1]]
        gaps = [(g[0], _longest_gap_s(row == 0, durations) / step_s) for g, row in zip(gaps, nv)]
    per_site = sites.assign(
        visible_min=nv.min(axis=1) if nv.size else 0,
        visible_median=np.median(nv, axis=1) if nv.size else 0.0,
        visible_max=nv.max(axis=1) if nv.size else 0,
        gap_steps=(nv == 0).sum(axis=1) if nv.size else 0,
        gap_count=[g[0] for g in gaps],
        longest_gap_s=[g[1] * step_s for g in gaps],
    )
    return CoverageSummary(per_site=per_site, n_steps=nv.shape[1] if nv.size else 0, step_s=step_s)


@dataclass(frozen=True)
class NetworkSummary:
    """Per-dish service over the run, from ``dish_steps``.

    ``per_dish``: name, group, steps, availability (share of steps not in an outage state of
    :mod:`leonet.states`: CONNECTED and CONGESTED count as available), rtt_p5_ms,
    rtt_p50_ms, rtt_p95_ms, path_changes, top_gateway, top_pop, and one column of step counts
    per non-connected state. ``per_pair``: src, dst, availability, rtt_p5/50/95_ms, hops_p50,
    path_changes (empty without ``pair_steps``).
    """

    per_dish: pd.DataFrame
    per_pair: pd.DataFrame
    states: tuple[str, ...]

    def by_group(self) -> pd.DataFrame:
        """Dishes aggregated per group (city), with RTT percentiles over all their steps (and,
        with capacity, downlink p10/p50 in Mbps and the share of demand served)."""
        return self._groups

    def most_loaded(self) -> pd.DataFrame:
        """The most loaded satellites and gateways (empty without capacity)."""
        return self._loaded


def _rtt_percentiles(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """p5/p50/p95 of rtt_ms per group (finite values only), one vectorised groupby."""
    cols = ["rtt_p5_ms", "rtt_p50_ms", "rtt_p95_ms"]
    finite = df[np.isfinite(df["rtt_ms"].to_numpy(dtype=np.float64))]
    if finite.empty:  # nothing ever connected: every percentile is NaN
        return pd.DataFrame(columns=cols, dtype=np.float64)
    q = finite.groupby(keys, sort=False)["rtt_ms"].quantile([0.05, 0.5, 0.95]).unstack()
    q.columns = cols
    return q


def _mode_name(df: pd.DataFrame, keys: list[str], column: str, names: np.ndarray) -> pd.Series:
    """Most frequent value of ``column`` per group, as a site name ("" if none)."""
    ok = df[df[column] >= 0]
    if ok.empty:
        return pd.Series(dtype=object)
    counts = ok.groupby([*keys, column], sort=False).size().reset_index(name="n")
    top = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates(keys)
    return pd.Series(names[top[column].to_numpy()], index=pd.MultiIndex.from_frame(top[keys]) if len(keys) > 1 else top[keys[0]].to_numpy())


def network_summary(store: ResultStore) -> NetworkSummary | None:
    """None when the run has no network results."""
    if "dish_steps" not in store.tables():
        return None
    sites = store.read("sites", columns=["name", "kind", "group"]).to_pandas()
    name = sites["name"].to_numpy()
    dish_table = store.read("dish_steps")
    cap_cols = [c for c in ("downlink_bps", "uplink_bps", "demand_down_bps", "speedtest_down_bps") if c in dish_table.column_names]
    d = dish_table.select(["t", "site", "state", "rtt_ms", "gateway", "pop", "path_changed", *cap_cols]).to_pandas()
    states = tuple(str(s) for s in d["state"].cat.categories) if hasattr(d["state"], "cat") else ()
    d["state"] = d["state"].astype(str)
    d["connected"] = ~d["state"].isin(OUTAGE_STATES)  # CONGESTED is online (leonet.states)
    grp = sites["group"].to_numpy()[d["site"].to_numpy()] if len(d) else np.zeros(0, dtype=object)
    d["group"] = np.where(grp == "", "dish", grp)
    # A site may stand for many identical dishes: availability counts dishes, not sites.
    d["w"] = site_weights(store)[d["site"].to_numpy()] if len(d) else np.zeros(0)
    cal = calendar(store)
    if not cal.uniform and len(d):  # a windowed calendar: each step weighs the time it stands for
        d["w"] = d["w"] * cal.weight_of(d["t"].astype("int64").to_numpy())
    d = d.drop(columns=["t"])
    d["w_connected"] = d["w"] * d["connected"]

    def service(keys: list[str]) -> pd.DataFrame:
        g = d.groupby(keys, sort=False)
        out = pd.DataFrame({
            "steps": g.size(), "availability": g["w_connected"].sum() / g["w"].sum(),
            "path_changes": g["path_changed"].sum().astype(int),
        })
        out = out.join(_rtt_percentiles(d, keys))
        conn = d[d["connected"]]
        out["top_gateway"] = _mode_name(conn, keys, "gateway", name)
        out["top_pop"] = _mode_name(conn, keys, "pop", name)
        if len(states) > 1:  # steps per state and group, in one pass
            counts = d.groupby([*keys, "state"], sort=False).size().unstack(fill_value=0)
            for s in states:
                if s != "CONNECTED":
                    out[s] = (counts[s] if s in counts else pd.Series(0, index=counts.index)).reindex(out.index).fillna(0).astype(int)
        if "downlink_bps" in d:
            out["down_p10_mbps"] = g["downlink_bps"].quantile(0.10) / 1e6
            out["down_p50_mbps"] = g["downlink_bps"].median() / 1e6
        if "uplink_bps" in d:
            out["up_p50_mbps"] = g["uplink_bps"].median() / 1e6
        if "demand_down_bps" in d and "downlink_bps" in d:
            out["demand_served"] = g["downlink_bps"].sum() / g["demand_down_bps"].sum().clip(lower=1e-9)
        if "speedtest_down_bps" in d:
            out["speedtest_p50_mbps"] = g["speedtest_down_bps"].median() / 1e6
        return out.fillna({"top_gateway": "", "top_pop": ""})

    per_dish = pd.DataFrame()
    groups = pd.DataFrame()
    if len(d):
        per_dish = service(["site"]).reset_index()
        per_dish.insert(0, "name", name[per_dish["site"].to_numpy()])
        groups = service(["group"]).reset_index()
        first = d.drop_duplicates("site")
        groups.insert(1, "dishes", first.groupby("group", sort=False)["w"].sum().reindex(groups["group"]).to_numpy().astype(int))
        lost = [c for c in states if c in OUTAGE_STATES]
        groups["outage_causes"] = [
            ", ".join(f"{c} {int(r[c])}" for c in lost if r[c]) or "-" for _, r in groups.iterrows()
        ]
    per_pair = pd.DataFrame()
    if "pair_steps" in store.tables():  # chunk by chunk: 19.8 M rows for the paper workload
        per_pair = pair_summary(store.parts("pair_steps"), len(sites), name)
        release_free_memory()  # the passes' read buffers: what follows (the report) starts lower
    out = NetworkSummary(per_dish=per_dish, per_pair=per_pair, states=states)
    object.__setattr__(out, "_groups", groups)
    object.__setattr__(out, "_loaded", _most_loaded(store, name))
    return out


def _most_loaded(store: ResultStore, names: np.ndarray, top: int = 5) -> pd.DataFrame:
    """The most loaded satellites (user downlink) and gateways (feeders summed over antennas):
    mean and peak utilisation over the run."""
    if "load_steps" not in store.tables():
        return pd.DataFrame()
    lo = store.read("load_steps").to_pandas()
    lo = lo[lo["direction"].astype(str) == "down"]
    n_steps = store.manifest.n_steps
    rows = []
    sats = lo[lo["kind"].astype(str) == "satellite"].groupby("a")["utilisation"]
    for sat, mean in (sats.sum() / n_steps).nlargest(top).items():
        rows.append({"element": "satellite", "id": int(sat), "mean_utilisation": mean, "peak_utilisation": sats.max()[sat]})
    feeders = lo[lo["kind"].astype(str) == "feeder"]
    if len(feeders):
        per_gw = feeders.groupby(["t", "a"])["load_bps"].sum().groupby("a")
        for gw, mean in (per_gw.sum() / n_steps).nlargest(top).items():
            rows.append({"element": "gateway", "id": str(names[gw]), "mean_load_gbps": mean / 1e9,
                         "peak_load_gbps": per_gw.max()[gw] / 1e9})
    return pd.DataFrame(rows)
