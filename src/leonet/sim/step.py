"""The step function: what happens at instants t, as a pure function of the model and t.

This module assembles the result tables; the per-instant work lives in
:mod:`leonet.sim.instants` (positions, visibility, events per instant) and
:mod:`leonet.sim.service` (each dish's and pair's service).

A chunk of instants is computed together (SGP4 propagates all of them in one call), but the
result for each instant depends on that instant alone (and on the start of its 15 s slot, and on
the step before it for "did the path change"), so chunks can run in any order on any worker and
give the same rows.

Tables produced (pyarrow, one row per ...):

- ``site_steps``: (step, site): t, site, n_visible, n_clear (not behind an obstruction mask),
  best_sat, best_elevation_deg, best_range_m (the highest clear satellite).
- ``visibility``: (step, site, satellite in view): t, site, sat, elevation_deg, azimuth_deg,
  range_m, obstructed. Optional (``outputs.visibility_pairs``).
- ``dish_steps``: (step, dish): t, site, slot_start, serving_sat, state, rtt_ms, gateway, pop,
  isl_hops, hops, path (satellites), path_changed, rerouted_mid_slot, ground_online,
  ground_rtt_ms (fibre to the nearest internet exchange), online_by (both/satellite/ground/none).
- ``pair_steps``: (step, station pair): t, src, dst, rtt_ms, hops, path, path_changed.
- ``network_steps``: (step): t, isl_active, isl_dropped_grazing, isl_dropped_range,
  isl_dropped_failed, feeder_links.
- ``load_steps`` (with capacity): (step, direction, busy link): t, direction (down/up), kind
  (beam/satellite/laser/feeder/pop), a, b (beam: sat, cell; satellite: sat; laser: from, to sat;
  feeder: gateway site, sat; pop: PoP site), load_bps, utilisation.
- ``positions``: (step, satellite): t, sat, x_m, y_m, z_m, error_code. Optional.

With capacity, ``dish_steps`` also has downlink_bps, uplink_bps, demand_down_bps, demand_up_bps,
unmet_down_bps, speedtest_down_bps, speedtest_up_bps (what a speed test would measure: the rate
plus the spare capacity of the tightest link), bottleneck, sinr_down_db, sinr_up_db,
efficiency_down_bps_per_hz, queue_ms.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..network.slots import best_row_per_site
from .instants import Chunk
from .model import SimulationModel
from .service import ONLINE_BY, STATES, ground_columns, network_at

_TS = pa.timestamp("ns", tz="UTC")


def _site_step_columns(all_pairs, pairs, n_sites: int) -> dict[str, np.ndarray]:
    """Per-site aggregates of one instant's pairs: counts in view (and clear of obstructions), and
    the highest clear satellite."""
    n_visible = np.bincount(all_pairs.site, minlength=n_sites).astype(np.int16)
    n_clear = np.bincount(pairs.site, minlength=n_sites).astype(np.int16)
    best_sat = np.full(n_sites, -1, dtype=np.int32)
    best_el = np.full(n_sites, np.nan, dtype=np.float32)
    best_range = np.full(n_sites, np.nan, dtype=np.float32)
    if len(pairs):
        rows = best_row_per_site(pairs.site, pairs.elevation_deg, n_sites)
        has = rows >= 0
        r = rows[has]
        best_sat[has] = pairs.sat[r]
        best_el[has] = pairs.elevation_deg[r]
        best_range[has] = pairs.range_m[r]
    return {"n_visible": n_visible, "n_clear": n_clear, "best_sat": best_sat, "best_elevation_deg": best_el,
            "best_range_m": best_range}


def _list_column(matrix: np.ndarray) -> pa.Array:
    """(M, L) int32 padded with -1 -> pyarrow list<int32> without the padding."""
    valid = matrix >= 0
    counts = valid.sum(axis=1)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(matrix[valid].astype(np.int32)))


def _same_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    width = max(a.shape[1], b.shape[1])
    pa_ = np.full((a.shape[0], width), -1, dtype=np.int32)
    pb_ = np.full((b.shape[0], width), -1, dtype=np.int32)
    pa_[:, : a.shape[1]] = a
    pb_[:, : b.shape[1]] = b
    return (pa_ == pb_).all(axis=1)


def compute_chunk(model: SimulationModel, t_ns: np.ndarray, prev_t_ns: int | None = None) -> dict[str, pa.Table]:
    """Results for the instants ``t_ns`` (int64, shape (T,)) as pyarrow tables (see module doc).

    ``prev_t_ns`` is the step before ``t_ns[0]`` (None for a run's first step); it is recomputed
    here so that "path changed" needs nothing from another chunk.
    """
    t_ns = np.asarray(t_ns, dtype=np.int64)
    sc = model.scenario
    outputs = sc.outputs
    n_sites = len(model.sites)
    do_net = sc.network.enabled
    net = model.network if do_net else None
    steps = t_ns if prev_t_ns is None else np.r_[np.int64(prev_t_ns), t_ns]
    instants = steps
    if do_net:
        slot_of = net.clock.slot_start(steps)
        instants = np.r_[steps, slot_of]
    chunk = Chunk(model, instants)

    site_cols: dict[str, list] = {}
    vis_cols: dict[str, list] = {k: [] for k in ("t", "site", "sat", "elevation_deg", "azimuth_deg", "range_m", "obstructed")}
    dish_cols: dict[str, list] = {}
    pair_cols: dict[str, list] = {}
    net_cols: dict[str, list] = {}
    load_cols: dict[str, list] = {}
    assigned: dict[int, object] = {}  # slot start -> the slot's dish paths
    prev_dish = prev_pair = None
    for k, t in enumerate(steps):
        is_output = not (prev_t_ns is not None and k == 0)
        pairs = chunk.pairs(t)
        if is_output:
            cols = {"t": np.full(n_sites, t, dtype=np.int64), "site": np.arange(n_sites, dtype=np.int32)}
            cols.update(_site_step_columns(pairs, chunk.clear(t), n_sites))
            for name, col in cols.items():
                site_cols.setdefault(name, []).append(col)
            if outputs.visibility_pairs:
                vis_cols["t"].append(np.full(len(pairs), t, dtype=np.int64))
                vis_cols["site"].append(pairs.site)
                vis_cols["sat"].append(pairs.sat)
                vis_cols["elevation_deg"].append(pairs.elevation_deg.astype(np.float32))
                vis_cols["azimuth_deg"].append(pairs.azimuth_deg.astype(np.float32))
                vis_cols["range_m"].append(pairs.range_m.astype(np.float32))
                vis_cols["obstructed"].append(pairs.obstructed)
        if not do_net:
            chunk.forget_until(int(t))
            continue
        slot = int(slot_of[k])
        res = network_at(chunk, t, slot, assigned)
        chunk.forget_until(int(t))  # a chunk of many dishes would otherwise hold every step's pairs
        d = res["dish"]
        dish_sig = np.c_[d["serving"], d["gateway"], d["pop"], d["path"]] if len(d["serving"]) else np.zeros((0, 3), dtype=np.int32)
        changed = np.zeros(len(d["serving"]), dtype=bool) if prev_dish is None else ~_same_rows(prev_dish, dish_sig)
        prev_dish = dish_sig
        if "pairs" in res:
            psig = res["pairs"]["path"]
            pchanged = np.zeros(len(psig), dtype=bool) if prev_pair is None else ~_same_rows(prev_pair, psig)
            prev_pair = psig
        if not is_output:
            continue
        n_d = len(d["serving"])
        for name, col in {
            "t": np.full(n_d, t, dtype=np.int64), "site": net.dish_sites.astype(np.int32),
            "slot_start": np.full(n_d, slot, dtype=np.int64), "serving_sat": d["serving"],
            "state": d["state"], "rtt_ms": d["rtt_ms"].astype(np.float32), "gateway": d["gateway"],
            "pop": d["pop"], "isl_hops": d["isl_hops"], "hops": d["hops"], "path": d["path"],
            "path_changed": changed, "rerouted_mid_slot": d["reassigned"],
            **ground_columns(chunk, t, d["state"] == 0),
            **d.get("capacity", {}),
        }.items():
            dish_cols.setdefault(name, []).append(col)
        if res.get("loads"):
            for direction, r in res["loads"]:
                busy = r.link_load_bps > 0
                n_l = int(busy.sum())
                for name, col in {
                    "t": np.full(n_l, t, dtype=np.int64), "direction": np.full(n_l, direction, dtype=np.int8),
                    "kind": r.link_kind[busy], "a": r.link_a[busy].astype(np.int32), "b": r.link_b[busy].astype(np.int32),
                    "load_bps": r.link_load_bps[busy], "utilisation": r.link_utilisation[busy].astype(np.float32),
                }.items():
                    load_cols.setdefault(name, []).append(col)
        for name, value in res["network"].items():
            net_cols.setdefault(name, []).append(np.array([value], dtype=np.int32))
        net_cols.setdefault("t", []).append(np.array([t], dtype=np.int64))
        if "pairs" in res:
            p = res["pairs"]
            m = len(net.pair_src)
            for name, col in {
                "t": np.full(m, t, dtype=np.int64), "src": net.pair_src.astype(np.int32),
                "dst": net.pair_dst.astype(np.int32), "rtt_ms": p["rtt_ms"].astype(np.float32),
                "hops": p["hops"].astype(np.int16), "path": p["path"], "path_changed": pchanged,
            }.items():
                pair_cols.setdefault(name, []).append(col)

    tables = {"site_steps": _table(site_cols)}
    if outputs.visibility_pairs:
        tables["visibility"] = _table(vis_cols)
    if do_net:
        tables["dish_steps"] = _table(dish_cols, states=True)
        tables["network_steps"] = _table(net_cols)
        if len(net.pair_src):
            tables["pair_steps"] = _table(pair_cols)
        if sc.capacity.enabled:
            tables["load_steps"] = _table(load_cols) if load_cols else _empty_loads()
    if outputs.positions:
        n_sats = len(model.constellation)
        xyz = np.concatenate([chunk.ecef(t) for t in t_ns])
        codes = np.concatenate([chunk.positions.error_code[chunk._row[int(t)]] for t in t_ns])
        tables["positions"] = _table({
            "t": [np.repeat(t_ns, n_sats)], "sat": [np.tile(np.arange(n_sats, dtype=np.int32), len(t_ns))],
            "x_m": [xyz[:, 0]], "y_m": [xyz[:, 1]], "z_m": [xyz[:, 2]], "error_code": [codes],
        })
    return tables


def _empty_loads() -> pa.Table:
    return _table({"t": [np.zeros(0, dtype=np.int64)], "direction": [np.zeros(0, dtype=np.int8)],
                   "kind": [np.zeros(0, dtype=np.int8)], "a": [np.zeros(0, dtype=np.int32)],
                   "b": [np.zeros(0, dtype=np.int32)], "load_bps": [np.zeros(0)],
                   "utilisation": [np.zeros(0, dtype=np.float32)]})


def _table(cols: dict[str, list], states: bool = False) -> pa.Table:
    arrays = {}
    for name, parts in cols.items():
        if name == "path":
            width = max((p.shape[1] for p in parts), default=0)
            padded = [np.pad(p, ((0, 0), (0, width - p.shape[1])), constant_values=-1) for p in parts]
            arrays[name] = _list_column(np.concatenate(padded) if padded else np.zeros((0, 0), dtype=np.int32))
            continue
        data = np.concatenate(parts) if parts else np.zeros(0)
        if name in ("t", "slot_start"):
            arrays[name] = pa.array(data.astype(np.int64), type=pa.int64()).cast(_TS)
        elif name == "state" and states:
            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(list(STATES), pa.string()))
        elif name == "bottleneck":
            from ..capacity.model import BOTTLENECKS

            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(list(BOTTLENECKS), pa.string()))
        elif name == "kind" and "load_bps" in cols:
            from ..capacity.model import BOTTLENECKS

            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(list(BOTTLENECKS), pa.string()))
        elif name == "direction":
            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(["down", "up"], pa.string()))
        elif name == "online_by":
            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(list(ONLINE_BY), pa.string()))
        else:
            arrays[name] = pa.array(data)
    return pa.table(arrays)
