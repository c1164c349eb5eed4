"""The step function: what happens at instants t, as a pure function of the model and t.

A chunk of instants is computed together (SGP4 propagates all of them in one call), but the
result for each instant depends on that instant alone, so chunks can run in any order on any
worker and give the same rows.

Tables produced (pyarrow, one row per ...):

- ``site_steps``: (step, site). Columns: t, site, n_visible, best_sat, best_elevation_deg,
  best_range_m. Later stages (routing, capacity, threats) add columns here.
- ``visibility``: (step, site, satellite in view): t, site, sat, elevation_deg, azimuth_deg,
  range_m. Optional (``outputs.visibility_pairs``).
- ``positions``: (step, satellite): t, sat, x_m, y_m, z_m, error_code. Optional.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..space.propagate import propagate
from .model import SimulationModel

_TS = pa.timestamp("ns", tz="UTC")


def _site_step_columns(pairs, n_sites: int) -> dict[str, np.ndarray]:
    """Per-site aggregates of one instant's visible pairs (sorted by site)."""
    n_visible = np.bincount(pairs.site, minlength=n_sites).astype(np.int16)
    best_sat = np.full(n_sites, -1, dtype=np.int32)
    best_el = np.full(n_sites, np.nan, dtype=np.float32)
    best_range = np.full(n_sites, np.nan, dtype=np.float32)
    if len(pairs):
        # Highest elevation per site: sort by (site, -elevation) and take each site's first row.
        order = np.lexsort((-pairs.elevation_deg, pairs.site))
        site_sorted = pairs.site[order]
        first = np.flatnonzero(np.r_[True, site_sorted[1:] != site_sorted[:-1]])
        rows = order[first]
        best_sat[pairs.site[rows]] = pairs.sat[rows]
        best_el[pairs.site[rows]] = pairs.elevation_deg[rows]
        best_range[pairs.site[rows]] = pairs.range_m[rows]
    return {"n_visible": n_visible, "best_sat": best_sat, "best_elevation_deg": best_el,
            "best_range_m": best_range}


def compute_chunk(model: SimulationModel, t_ns: np.ndarray) -> dict[str, pa.Table]:
    """Results for the instants ``t_ns`` (int64, shape (T,)) as pyarrow tables (see module doc)."""
    t_ns = np.asarray(t_ns, dtype=np.int64)
    outputs = model.scenario.outputs
    n_sites = len(model.sites)
    positions = propagate(model.constellation, t_ns)
    site_cols: dict[str, list[np.ndarray]] = {}
    vis_cols: dict[str, list[np.ndarray]] = {k: [] for k in ("t", "site", "sat", "elevation_deg", "azimuth_deg", "range_m")}
    for k, t in enumerate(t_ns):  # one instant at a time: visibility is a per-instant query
        pairs = model.visibility.query(positions.ecef_m[k])
        cols = {"t": np.full(n_sites, t, dtype=np.int64), "site": np.arange(n_sites, dtype=np.int32)}
        cols.update(_site_step_columns(pairs, n_sites))
        for name, col in cols.items():
            site_cols.setdefault(name, []).append(col)
        if outputs.visibility_pairs:
            vis_cols["t"].append(np.full(len(pairs), t, dtype=np.int64))
            vis_cols["site"].append(pairs.site)
            vis_cols["sat"].append(pairs.sat)
            vis_cols["elevation_deg"].append(pairs.elevation_deg.astype(np.float32))
            vis_cols["azimuth_deg"].append(pairs.azimuth_deg.astype(np.float32))
            vis_cols["range_m"].append(pairs.range_m.astype(np.float32))

    tables = {"site_steps": _table(site_cols)}
    if outputs.visibility_pairs:
        tables["visibility"] = _table(vis_cols)
    if outputs.positions:
        n_sats = len(model.constellation)
        xyz = positions.ecef_m.reshape(-1, 3)
        tables["positions"] = _table({
            "t": [np.repeat(t_ns, n_sats)], "sat": [np.tile(np.arange(n_sats, dtype=np.int32), len(t_ns))],
            "x_m": [xyz[:, 0]], "y_m": [xyz[:, 1]], "z_m": [xyz[:, 2]],
            "error_code": [positions.error_code.reshape(-1)],
        })
    return tables


def _table(cols: dict[str, list[np.ndarray]]) -> pa.Table:
    arrays = {}
    for name, parts in cols.items():
        data = np.concatenate(parts) if parts else np.zeros(0)
        arrays[name] = pa.array(data.astype(np.int64), type=pa.int64()).cast(_TS) if name == "t" else pa.array(data)
    return pa.table(arrays)
