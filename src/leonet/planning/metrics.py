"""Region metrics of one run, read from its results folder only: the figures planners decide on.

Every metric is dish-weighted (a site standing for N dishes counts N times) over dish-time:
dish-steps, each weighted by the time its step stands for when the calendar has windows of finer
steps (:mod:`leonet.results.calendar`; every step weighs the same in a uniform run). Outages follow leonet's one vocabulary (:mod:`leonet.states`): a CONGESTED dish is
online (a quality problem, counted by the throughput metrics), an OFFLINE or JAMMED one is not.
Throughput metrics count outage time as 0 Mbps, so a lost gateway shows in ``p10_down_mbps`` even
where availability barely moves. Percentiles are the readers' (:mod:`leonet.results.quantiles`):
a region of one dish group gets the availability and RTT ``leonet summary`` gives that group; its
throughput and speed-test percentiles differ where the group had outages (the summary's are over
the online time: quality apart from availability, docs/service-model.md section 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputError
from ..results.calendar import calendar
# The readers' weighted quantile (interpolating; equal weights give pandas' figures), so a
# planning figure equals the summary's for the same folder and region.
from ..results.quantiles import weighted_quantile  # noqa: F401 (re-exported)
from ..results.store import ResultStore
from ..results.summary import row_dishes
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
    Metric("p10_speedtest_mbps", "Mbps", True, True, "10th percentile over dish-time of the speed test a dish "
           "would measure (the rate it could get then; outages count as 0): the speed a planner means"),
    Metric("p50_speedtest_mbps", "Mbps", True, True, "median over dish-time of the speed test a dish would "
           "measure (outages count as 0)"),
    Metric("unmet_demand", "share", False, True, "share of the downlink demand not served (outages unserved); "
           "NaN where the region wanted no downlink, which meets no target"),
    Metric("rtt_p50_ms", "ms", False, False, "median RTT over connected dish-time"),
    Metric("rtt_p95_ms", "ms", False, False, "95th percentile RTT over connected dish-time"),
)}

#: Metrics of the traffic delivered, which is at most what the dishes ask for: they follow the
#: demand model as much as the network. A site standing for N dishes delivers their average; with
#: on/off traffic a site of one dish delivers 0 Mbps in every step it is idle, so p10 is low for
#: few dishes and rises as sites stand for more, and no count of dishes lifts these metrics above
#: what the dishes ask for. They measure use, not the speed a dish could get: ``unmet_demand`` (the
#: share of what was asked that was not delivered) and ``availability`` measure service.
DEMAND_DRIVEN = ("p10_down_mbps", "p50_down_mbps", "mean_down_mbps")


def check_region(scenario, groups: list[str] | None, where: str = "--groups") -> None:
    """Refuse, before anything runs, a study whose metrics could only be NaN: a scenario without
    dishes or without the network model (every planning metric is over dishes' service), or
    ``groups`` (named at ``where``) that select no dishes, naming the dish groups there are."""
    from ..sim.ground_build import build_sites

    if not scenario.network.enabled:
        raise InputError("planning metrics are over the dishes' service, which needs the network model; "
                         "set network.enabled: true", location="network.enabled")
    sites = build_sites(scenario)
    kind = np.asarray(sites.kind, dtype=object)
    group = np.asarray(["" if g is None else str(g) for g in sites.group], dtype=object)
    dish_groups = sorted({g for g in group[kind == "dish"].tolist() if g})
    if not (kind == "dish").any():
        raise InputError("the scenario has no dishes, and planning metrics are over dishes (availability, "
                         "throughput, RTT of the region's dishes); add ground.dish_groups or dish sites",
                         location="ground")
    if not groups:
        return
    for name in groups:
        if name in dish_groups:
            continue
        from ..errors import did_you_mean, quote

        other = sorted({str(k) for k in kind[group == name].tolist()})
        why = (f"{quote(name)} is a group of {' and '.join(k + ' sites' for k in other)}, not of dishes" if other
               else f"no dish group {quote(name)}{did_you_mean(name, dish_groups)}")
        raise InputError(f"{why}; the region is made of dish groups: {', '.join(dish_groups[:30]) or '(none named)'}",
                         location=where)


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
    if "delivered" in schema:   # dishes brought in over time: a dish not yet delivered has no dish-time
        wanted.append("delivered")
    capacity = "downlink_bps" in schema
    if capacity:
        wanted += ["downlink_bps", "demand_down_bps", "speedtest_down_bps"]
    table = store.read("dish_steps", columns=wanted)
    site = table.column("site").to_numpy()
    present = row_dishes(dishes, site, table.column("delivered").to_numpy(zero_copy_only=False)
                         if "delivered" in wanted else None)
    state = np.asarray(table.column("state").cast(pa.string()).to_pylist(), dtype=object) if table.num_rows else np.zeros(0, object)
    cols = {"site": site, "state": state, "rtt_ms": table.column("rtt_ms").to_numpy(zero_copy_only=False).astype(np.float64),
            "w": (present if cal.even else present * cal.weight_of(table.column("t").cast(pa.int64()).to_numpy()))
            if len(site) else np.zeros(0), "group": group[site] if len(site) else np.zeros(0, object),
            # the dishes a row's site stands for (delivered by then): the quantiles' frequency weights
            # (results.quantiles)
            "n": present}
    if capacity:
        cols["down_bps"] = table.column("downlink_bps").to_numpy()
        cols["demand_bps"] = table.column("demand_down_bps").to_numpy()
        cols["speedtest_bps"] = table.column("speedtest_down_bps").to_numpy()
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
    """Every metric of :data:`METRICS` for a run (NaN for throughput metrics without capacity, and
    for ``unmet_demand`` where the region's dishes wanted no downlink).

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
    n = d["n"]  # N identical dishes are N observations of each quantile, not one
    out["rtt_p50_ms"] = weighted_quantile(connected_rtt, w, 0.50, counts=n)
    out["rtt_p95_ms"] = weighted_quantile(connected_rtt, w, 0.95, counts=n)
    if capacity:
        down_mbps = np.where(outage, 0.0, np.nan_to_num(d["down_bps"])) / 1e6
        out["p10_down_mbps"] = weighted_quantile(down_mbps, w, 0.10, counts=n)
        out["p50_down_mbps"] = weighted_quantile(down_mbps, w, 0.50, counts=n)
        out["mean_down_mbps"] = float((w * down_mbps).sum() / total)
        speed_mbps = np.where(outage, 0.0, np.nan_to_num(d["speedtest_bps"])) / 1e6
        out["p10_speedtest_mbps"] = weighted_quantile(speed_mbps, w, 0.10, counts=n)
        out["p50_speedtest_mbps"] = weighted_quantile(speed_mbps, w, 0.50, counts=n)
        demand = (w * np.nan_to_num(d["demand_bps"])).sum()
        # no demand: the unmet share is undefined, not 0 (which met "unmet_demand<=0.05" with
        # nothing asked); NaN meets no target (targets.Condition.met), as for a metric not modelled
        # a share: clamped to [0, 1] (the sums' rounding gave -2.2e-16 where every bit was served)
        out["unmet_demand"] = (float(min(1.0, max(0.0, 1.0 - (w * down_mbps * 1e6).sum() / demand))) if demand > 0
                               else float("nan"))
    return out


def _region_links(store: ResultStore, groups: list[str] | None) -> "pd.DataFrame":
    """The downlink links that carry the region's dishes' traffic, step by step: one row per
    (t, kind, a, b) as ``load_steps`` keys them, with ``w``, the region's dish-time on it (dishes x
    the time its step stands for). A dish loads its serving satellite's beam over its cell and
    the satellite, each laser of its path (the feeder end towards the serving satellite), its
    gateway's feeder to the path's last satellite, and its PoP."""
    import pandas as pd
    import yaml

    from ..capacity.model import cells_of
    from ..results.store import SCENARIO_FILE

    sites = store.read("sites", columns=["kind", "group", "lat_deg", "lon_deg", "dishes"]).to_pandas()
    kind = sites["kind"].astype(str).to_numpy()
    group = sites["group"].astype(object).where(sites["group"].notna(), "").to_numpy()
    dishes = np.nan_to_num(sites["dishes"].to_numpy(dtype=np.float64), nan=1.0)
    # Cells as the run numbered them: the capacity grid over every dish site of the run
    # (leonet.sim.network_model), so that a dish's cell matches load_steps' beam ``b``.
    dish = np.flatnonzero(kind == "dish")
    scenario = yaml.safe_load((Path(store.root) / SCENARIO_FILE).read_text(encoding="utf-8")) or {}
    cell_km = (scenario.get("capacity") or {}).get("cell_size_km")
    if cell_km is None:  # the resolved scenario names it; the field's default otherwise
        from ..scenario.capacity import CapacitySpec

        cell_km = CapacitySpec.model_fields["cell_size_km"].default
    cell = np.full(len(sites), -1, dtype=np.int64)
    if len(dish):
        cell[dish] = cells_of(sites["lat_deg"].to_numpy()[dish], sites["lon_deg"].to_numpy()[dish], float(cell_km) * 1e3)
    cal = calendar(store)
    delivered = ["delivered"] if "delivered" in _schema(store) else []
    table = store.read("dish_steps", columns=["t", "site", "serving_sat", "gateway", "pop", "isl_hops", "path", *delivered])
    site = table.column("site").to_numpy().astype(np.int64)
    keep = (table.column("serving_sat").to_numpy() >= 0) & (kind[site] == "dish")
    if groups:
        keep &= np.isin(group[site], groups)
    table = table.filter(pa.array(keep))
    site = table.column("site").to_numpy().astype(np.int64)
    t = table.column("t").cast(pa.int64()).to_numpy()
    present = row_dishes(dishes, site, table.column("delivered").to_numpy(zero_copy_only=False) if delivered else None)
    w = np.asarray(present * (1.0 if cal.even else cal.weight_of(t)), dtype=np.float64)
    serving = table.column("serving_sat").to_numpy().astype(np.int64)
    parts = [pd.DataFrame({"t": t, "kind": "beam", "a": serving, "b": cell[site], "w": w}),
             pd.DataFrame({"t": t, "kind": "satellite", "a": serving, "b": -1, "w": w}),
             pd.DataFrame({"t": t, "kind": "pop", "a": table.column("pop").to_numpy().astype(np.int64), "b": -1, "w": w})]
    path = table.column("path").combine_chunks()
    if len(path):
        offsets = path.offsets.to_numpy().astype(np.int64)  # into path.values (absolute, slice or not)
        hop = path.values.to_numpy(zero_copy_only=False).astype(np.int64)
        length = np.diff(offsets)
        # the satellite on the feeder: the path's entry isl_hops (clipped to the path)
        at = np.clip(table.column("isl_hops").to_numpy().astype(np.int64), 0, np.maximum(length - 1, 0))
        last = np.full(len(path), -1, dtype=np.int64)
        has = length > 0
        last[has] = hop[offsets[:-1][has] + at[has]]
        parts.append(pd.DataFrame({"t": t, "kind": "feeder", "a": table.column("gateway").to_numpy().astype(np.int64),
                                   "b": last, "w": w}))
        # lasers: every consecutive pair within a path; downlink traffic runs from the feeder end
        # to the serving satellite (path[k+1] -> path[k]), as load_steps keys them
        row = np.repeat(np.arange(len(path)), length)
        flat = np.repeat(offsets[:-1], length) + (np.arange(len(row)) - np.repeat(np.cumsum(length) - length, length))
        pair = np.flatnonzero(row[1:] == row[:-1])
        parts.append(pd.DataFrame({"t": t[row[pair]], "kind": "laser", "a": hop[flat[pair + 1]], "b": hop[flat[pair]],
                                   "w": w[row[pair]]}))
    links = pd.concat(parts, ignore_index=True)
    links = links[(links["a"] >= 0)]
    return links.groupby(["t", "kind", "a", "b"], as_index=False, sort=False)["w"].sum()


def binding_links(results: str | Path | ResultStore, groups: list[str] | None = None, top: int = 3) -> list[dict]:
    """What holds the region's dishes back: first the cell limit where some of the region's dishes
    are SOLD_OUT (:func:`cell_limit`), then the links, most of the region's dish-time first: kind
    (beam, satellite, laser, feeder, pop) and the element (satellite and cell, gateway or PoP
    name), from the busiest-link records of the run (``load_steps``, downlink utilisation >= 99 %)
    kept to the links that carry the region's dishes (``groups``; default every dish) at that
    step: another region's full beam does not bind this one."""
    store = results if isinstance(results, ResultStore) else ResultStore(results)
    cell = cell_limit(store, groups)
    return ([cell] if cell else []) + _saturated_links(store, groups, top)


def cell_limit(results: str | Path | ResultStore, groups: list[str] | None = None) -> dict | None:
    """The cell limit as a binding entry where the region (``groups``; default every dish) has
    SOLD_OUT dish-time (``service.admission``: its cells admit only so many dishes): kind "cell
    limit", the element "N of M dishes admitted, the rest SOLD_OUT (service.admission)", the steps
    with a dish sold out, and ``text``, the line to show. None where no dish is sold out."""
    store = results if isinstance(results, ResultStore) else ResultStore(results)
    if "dish_steps" not in store.tables() or "dishes_admitted" not in _schema(store):
        return None
    sites = store.read("sites", columns=None)
    names = sites.column_names
    group = np.asarray(sites.column("group").to_pylist(), dtype=object) if "group" in names else np.full(sites.num_rows, "", object)
    dishes = (np.nan_to_num(sites.column("dishes").to_numpy(zero_copy_only=False).astype(np.float64), nan=1.0)
              if "dishes" in names else np.ones(sites.num_rows))
    table = store.read("dish_steps", columns=["t", "site", "state", "dishes_admitted"])
    site = table.column("site").to_numpy().astype(np.int64)
    keep = np.isin(group[site], groups) if groups else np.ones(len(site), bool)
    state = np.asarray(table.column("state").cast(pa.string()).to_pylist(), dtype=object)[keep]
    sold = state == "SOLD_OUT"
    if not sold.any():
        return None
    site, t = site[keep], table.column("t").cast(pa.int64()).to_numpy()[keep]
    admitted = table.column("dishes_admitted").to_numpy(zero_copy_only=False).astype(np.int64)[keep]
    first = np.unique(site, return_index=True)[1]   # a site's admitted count is the same at every step
    n, m = int(admitted[first].sum()), int(round(dishes[site[first]].sum()))
    element = f"{n:,} of {m:,} dishes admitted, the rest SOLD_OUT (service.admission)"
    return {"kind": "cell limit", "element": element, "saturated_steps": int(len(np.unique(t[sold]))),
            "text": f"cell limit: {element}"}


def _saturated_links(store: ResultStore, groups: list[str] | None, top: int) -> list[dict]:
    """The saturated links of :func:`binding_links`."""
    if "load_steps" not in store.tables() or "dish_steps" not in store.tables():
        return []
    loads = store.read("load_steps", columns=["t", "direction", "kind", "a", "b", "utilisation"]).to_pandas()
    loads = loads[(loads["utilisation"] >= 0.99) & (loads["direction"].astype(str) == "down")]
    if loads.empty:
        return []
    loads = loads.assign(t=loads["t"].astype("int64"), kind=loads["kind"].astype(str),
                         a=loads["a"].astype(np.int64), b=loads["b"].astype(np.int64))
    ours = loads.merge(_region_links(store, groups), on=["t", "kind", "a", "b"], how="inner")
    if ours.empty:
        return []
    names = store.read("sites", columns=["name"]).column("name").to_pylist()
    per = ours.groupby(["kind", "a", "b"], sort=False).agg(dish_time=("w", "sum"), steps=("t", "nunique"))
    per = per.sort_values(["dish_time", "steps"], ascending=False, kind="stable").head(top)
    out = []
    for (kind, a, b), row in per.iterrows():
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
        out.append({"kind": kind, "element": element, "saturated_steps": int(row["steps"])})
    return out
