"""Summaries of a results folder: how many satellites each site sees, and coverage gaps.

The numbers are computed from the stored tables (not from the run's memory), so the summary of
a folder is the same whether it was just run, resumed, or copied from elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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


def coverage_summary(store: ResultStore) -> CoverageSummary:
    manifest = store.read_manifest()
    sites = store.read("sites", columns=["name", "kind", "group"]).to_pandas()
    steps = store.read("site_steps", columns=["t", "site", "n_visible"]).to_pandas()
    n_sites = len(sites)
    steps = steps.sort_values(["site", "t"], kind="stable")
    nv = steps["n_visible"].to_numpy().reshape(n_sites, -1) if n_sites else np.zeros((0, 0), dtype=np.int16)
    step_s = manifest["step_ns"] / 1e9
    gaps = [_gaps(row == 0) for row in nv]
    per_site = sites.assign(
        visible_min=nv.min(axis=1) if nv.size else 0,
        visible_median=np.median(nv, axis=1) if nv.size else 0.0,
        visible_max=nv.max(axis=1) if nv.size else 0,
        gap_steps=(nv == 0).sum(axis=1) if nv.size else 0,
        gap_count=[g[0] for g in gaps],
        longest_gap_s=[g[1] * step_s for g in gaps],
    )
    return CoverageSummary(per_site=per_site, n_steps=nv.shape[1] if nv.size else 0, step_s=step_s)
