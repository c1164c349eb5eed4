"""Region metrics of one run, read from its results folder only: the figures planners decide on.

Every metric is dish-weighted (a site standing for N dishes counts N times) over dish-time:
dish-steps, each weighted by the time its step stands for when the calendar has windows of finer
steps (:mod:`leonet.results.calendar`; every step weighs the same in a uniform run). Outages follow leonet's one vocabulary (:mod:`leonet.states`): a CONGESTED dish is
online (a quality problem, counted by the throughput metrics), an OFFLINE or JAMMED one is not.
Throughput metrics count outage time as 0 Mbps, so a lost gateway shows in ``p10_down_mbps`` even
where availability barely moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputError
from ..results.calendar import calendar
from ..results.store import ResultStore
from ..states import OUTAGE_STATES


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    higher_is_better: bool
    needs_capacity: bool
    description: str


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("availability", "share", True, False, "share of dish-time not in an outage state"),
    Metric("p10_down_mbps", "Mbps", True, True, "10th percentile of dish downlink over dish-time (outages count as 0)"),
    Metric("p50_down_mbps", "Mbps", True, True, "median dish downlink over dish-time (outages count as 0)"),
    Metric("mean_down_mbps", "Mbps", True, True, "mean dish downlink over dish-time"),
    Metric("unmet_demand", "share", False, True, "share of the downlink demand not served (outages unserved)"),
    Metric("rtt_p50_ms", "ms", False, False, "median RTT over connected dish-time"),
    Metric("rtt_p95_ms", "ms", False, False, "95th percentile RTT over connected dish-time"),
)}


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile (0..1) of ``values`` where each counts ``weights`` times: the smallest value
    whose cumulative weight reaches q x the total (the inverse of the weighted CDF). NaN if empty."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    keep = np.isfinite(values) & (weights > 0)
    if not keep.any():
        return float("nan")
    v, w = values[keep], weights[keep]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(v[order][min(k, len(v) - 1)])


def _dish_rows(store: ResultStore, groups: list[str] | None) -> tuple[dict[str, np.ndarray], bool]:
    sites = store.read("sites", columns=None)
    names = sites.column_names
    group = np.asarray(sites.column("group").to_pylist(), dtype=object) if "group" in names else np.full(sites.num_rows, "", object)
    dishes = (np.nan_to_num(sites.column("dishes").to_numpy(zero_copy_only=False).astype(np.float64), nan=1.0)
              if "dishes" in names else np.ones(sites.num_rows))
    if "dish_steps" not in store.tables():
        raise InputError("has no dish_steps table (a run without dishes or without the network model)",
                         source=str(store.root))
    cal = calendar(store)
    wanted = ["site", "state", "rtt_ms"] + ([] if cal.even else ["t"])
    schema = _schema(store)
    capacity = "downlink_bps" in schema
    if capacity:
        wanted += ["downlink_bps", "demand_down_bps"]
    table = store.read("dish_steps", columns=wanted)
    site = table.column("site").to_numpy()
    state = np.asarray(table.column("state").cast(pa.string()).to_pylist(), dtype=object) if table.num_rows else np.zeros(0, object)
    cols = {"site": site, "state": state, "rtt_ms": table.column("rtt_ms").to_numpy(zero_copy_only=False).astype(np.float64),
            "w": (dishes[site] if cal.even else dishes[site] * cal.weight_of(table.column("t").cast(pa.int64()).to_numpy()))
            if len(site) else np.zeros(0), "group": group[site] if len(site) else np.zeros(0, object)}
    if capacity:
        cols["down_bps"] = table.column("downlink_bps").to_numpy()
        cols["demand_bps"] = table.column("demand_down_bps").to_numpy()
    if groups:
        unknown = sorted(set(groups) - set(group.tolist()))
        if unknown:
            import difflib

            known = sorted({g for g in group.tolist() if g})
            hint = difflib.get_close_matches(unknown[0], known, n=3)
            raise InputError(f"no dish group {unknown[0]!r}" + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else "")
                             + f" (groups: {', '.join(known[:20])})", location="--groups")
        keep = np.isin(cols["group"], groups)
        cols = {k: v[keep] for k, v in cols.items()}
    return cols, capacity


def _schema(store: ResultStore) -> list[str]:
    folder = Path(store.root) / "dish_steps"
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        return []
    import pyarrow.parquet as pq

    return pq.read_schema(parts[0]).names


def region_metrics(results: str | Path | ResultStore, groups: list[str] | None = None) -> dict[str, float]:
    """Every metric of :data:`METRICS` for a run (NaN for throughput metrics without capacity).

    ``groups`` limits the region to these dish groups (cities); default: every dish.
    """
    store = results if isinstance(results, ResultStore) else ResultStore(results)
    d, capacity = _dish_rows(store, groups)
    w = d["w"]
    total = w.sum()
    outage = np.isin(d["state"], OUTAGE_STATES)
    out = {name: float("nan") for name in METRICS}
    if total <= 0:
        return out
    out["availability"] = float((w * ~outage).sum() / total)
    connected_rtt = np.where(outage, np.nan, d["rtt_ms"])
    out["rtt_p50_ms"] = weighted_quantile(connected_rtt, w, 0.50)
    out["rtt_p95_ms"] = weighted_quantile(connected_rtt, w, 0.95)
    if capacity:
        down_mbps = np.where(outage, 0.0, np.nan_to_num(d["down_bps"])) / 1e6
        out["p10_down_mbps"] = weighted_quantile(down_mbps, w, 0.10)
        out["p50_down_mbps"] = weighted_quantile(down_mbps, w, 0.50)
        out["mean_down_mbps"] = float((w * down_mbps).sum() / total)
        demand = (w * np.nan_to_num(d["demand_bps"])).sum()
        out["unmet_demand"] = float(1.0 - (w * down_mbps * 1e6).sum() / demand) if demand > 0 else 0.0
    return out


def binding_links(results: str | Path | ResultStore, groups: list[str] | None = None, top: int = 3) -> list[dict]:
    """The links that hold dishes back, most dish-time first: kind (beam, satellite, laser,
    feeder, pop) and the element (satellite and cell, gateway or PoP name), from the busiest-link
    records of the run (``load_steps``, utilisation >= 99 %) and the dishes' ``bottleneck``."""
    store = results if isinstance(results, ResultStore) else ResultStore(results)
    if "load_steps" not in store.tables():
        return []
    loads = store.read("load_steps", columns=["direction", "kind", "a", "b", "utilisation"]).to_pandas()
    loads = loads[(loads["utilisation"] >= 0.99) & (loads["direction"].astype(str) == "down")]
    if loads.empty:
        return []
    names = store.read("sites", columns=["name"]).column("name").to_pylist()
    counts = loads.groupby(["kind", "a", "b"], observed=True).size().sort_values(ascending=False).head(top)
    out = []
    for (kind, a, b), n in counts.items():
        kind = str(kind)
        if kind == "beam":
            element = f"satellite {a}, cell {b}"
        elif kind == "satellite":
            element = f"satellite {a}"
        elif kind == "laser":
            element = f"laser {a}->{b}"
        elif kind == "feeder":
            element = f"gateway {names[a] if 0 <= a < len(names) else a}, satellite {b}"
        else:
            element = f"PoP {names[a] if 0 <= a < len(names) else a}"
        out.append({"kind": kind, "element": element, "saturated_steps": int(n)})
    return out
