"""The report's figures that need all the rows of a dish group (or of a dish) together, in one
pass over ``dish_steps`` a block of whole dish groups at a time.

- the RTT CDF of each group (the first :data:`MAX_GROUP_LINES`) and of each picked dish;
- the throughput CDF of each group, for each throughput column the run has;
- in a windowed calendar, availability and RTT p5/p50/p95 of each group and each dish as shares of
  time (each dish-step weighted by its step's duration, and dishes by how many each site stands
  for), not of steps (the summary module counts steps; see :mod:`leonet.results.calendar`).

A table of at most ``budget_rows`` rows is read whole; a longer one is taken apart by dish group
(:func:`leonet.results.summary.dish_group_blocks`, :func:`leonet.results.blocks.iter_blocks`), so
memory is bounded by one chunk file and one block whatever the length of the run. Each figure of
a group or a dish is computed from its own rows in table order, as on the whole table, so every
figure is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ...states import OUTAGE_STATES
from ..blocks import iter_blocks
from ..calendar import weighted_quantile
from ..summary import dish_group_blocks, site_weights
from .markup import CDF_POINTS, DISH_CDF_POINTS, MAX_GROUP_LINES, THROUGHPUT_COLUMNS, ecdf, table_columns

#: The quantiles of the service table, and their columns.
QUANTILES = ((0.05, "rtt_p5_ms"), (0.5, "rtt_p50_ms"), (0.95, "rtt_p95_ms"))

Curve = tuple[np.ndarray, np.ndarray]  # (values, shares), float32 (n,) each
#: The CDF of no value.
NO_CURVE: Curve = (np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32))


@dataclass
class DishFigures:
    """rtt_cdf: group -> RTT CDF (ms). dish_cdf: site -> RTT CDF (ms) of a picked dish.
    throughput: column -> group -> throughput CDF (Mbit/s). throughput_columns: (column, label)
    of the throughput columns the run has. service: in a windowed calendar, "group" and "site" ->
    key -> (availability, rtt p5, p50, p95) as shares of time; None in a uniform one."""

    rtt_cdf: dict[str, Curve] = field(default_factory=dict)
    dish_cdf: dict[int, Curve] = field(default_factory=dict)
    throughput: dict[str, dict[str, Curve]] = field(default_factory=dict)
    throughput_columns: list[tuple[str, str]] = field(default_factory=list)
    service: dict[str, dict] | None = None

    def weigh_service_by_time(self, groups: pd.DataFrame, per_dish: pd.DataFrame) -> None:
        """Replace availability and the RTT percentiles of the group and dish tables (in place)
        by their shares of time (:attr:`service`)."""
        for table, key in ((groups, "group"), (per_dish, "site")):
            values = self.service[key]
            table["availability"] = table[key].map({k: v[0] for k, v in values.items()}).astype(np.float64)
            for i, (_, col) in enumerate(QUANTILES):
                if col in table:
                    table[col] = table[key].map({k: v[i + 1] for k, v in values.items()}).astype(np.float64)


def dish_figures(run, picked: list[int]) -> DishFigures:
    """:class:`DishFigures` of a :class:`~leonet.results.report.run.ReportRun` (its store,
    calendar, groups, ``dish_group`` and ``budget_rows``), with a CDF for each dish of ``picked``."""
    store = run.store
    parts = store.parts("dish_steps")
    have = table_columns(store, "dish_steps")
    out = DishFigures(throughput_columns=[(c, label) for c, label in THROUGHPUT_COLUMNS if c in have])
    columns = ["t", "site", "state", "rtt_ms", *[c for c, _ in out.throughput_columns]]
    weighted = not run.cal.uniform
    weights = site_weights(store) if weighted else None
    if weighted:
        out.service = {"group": {}, "site": {}}
    wanted = set(list(run.groups["group"])[:MAX_GROUP_LINES])
    picked = set(int(s) for s in picked)
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
    if rows <= run.budget_rows:
        blocks = [store.read("dish_steps", columns=columns)]
    else:
        b = dish_group_blocks(parts, run.dish_group, run.budget_rows)
        blocks = iter_blocks(parts, columns, b.block_of, b.n_blocks)
    for table in blocks:
        if table.num_rows:
            _add_block(out, table, run, wanted, picked, weights)
        del table
    return out


def _runs(keys: np.ndarray) -> list[tuple[object, np.ndarray]]:
    """(key, row numbers in table order) of each key of ``keys`` (in order of the sorted keys)."""
    u, code = np.unique(keys, return_inverse=True)
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(len(u) + 1))
    return [(u[i], order[bounds[i]: bounds[i + 1]]) for i in range(len(u))]


def _add_block(out: DishFigures, table: pa.Table, run, wanted: set, picked: set, weights: np.ndarray | None) -> None:
    """Add the figures of the groups and dishes of one block (all their rows) to ``out``."""
    d = table.to_pandas()
    state = d["state"].astype(str)
    site = d["site"].to_numpy()
    # the time each dish-step stands for, in coarse steps (1.0 throughout a uniform run)
    k = run.cal.weight_of(d["t"].astype("int64").to_numpy())
    up = (~state.isin(OUTAGE_STATES)).to_numpy()
    rtt = d["rtt_ms"].to_numpy(dtype=np.float64)
    rtt = np.where(np.isfinite(rtt) & up, rtt, np.nan)
    speeds = {c: d[c].to_numpy(dtype=np.float64) for c, _ in out.throughput_columns}
    del d, state
    kw = k if out.service is not None else None
    w = weights[site] * k if out.service is not None else None
    for g, rows in _runs(run.dish_group[site]):
        g = str(g)
        if g in wanted:
            out.rtt_cdf[g] = ecdf(rtt[rows], CDF_POINTS, weights=kw[rows] if kw is not None else None)
            for c, v in speeds.items():
                out.throughput.setdefault(c, {})[g] = ecdf(v[rows] / 1e6, CDF_POINTS,
                                                           weights=kw[rows] if kw is not None else None)
        if out.service is not None:
            out.service["group"][g] = _service(rows, w, up, rtt, k)
    for s, rows in _runs(site):
        s = int(s)
        if s in picked:
            out.dish_cdf[s] = ecdf(rtt[rows], DISH_CDF_POINTS, weights=kw[rows] if kw is not None else None)
        if out.service is not None:
            out.service["site"][s] = _service(rows, w, up, rtt, k)


def _service(rows: np.ndarray, w: np.ndarray, up: np.ndarray, rtt: np.ndarray, k: np.ndarray) -> tuple[float, ...]:
    """(availability, rtt p5, p50, p95) of the rows ``rows`` (table order) as shares of time."""
    ws = w[rows]
    avail = float((ws * up[rows]).sum() / ws.sum()) if ws.sum() > 0 else float("nan")
    ok = rows[np.isfinite(rtt[rows])]
    return (avail, *(weighted_quantile(rtt[ok], k[ok], p) for p, _ in QUANTILES))
