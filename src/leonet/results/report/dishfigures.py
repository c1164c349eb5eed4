"""The report's figures that need all the rows of a dish group (or of a dish) together, in one
pass over ``dish_steps`` a block of whole dish groups at a time.

- the RTT CDF of each group (the first :data:`MAX_GROUP_LINES`) and of each picked dish;
- the throughput CDF of each group over its online time (quality, as the summary's throughput
  percentiles: availability counts the outages), for each throughput column the run has.

In a calendar of uneven steps (windows, a short last step) each point of a CDF is a share of
time: a dish-step weighs the time its step stands for (:mod:`leonet.results.calendar`). The
service table's availability and percentiles are the summary's
(:func:`leonet.results.summary.network_summary`, which weighs time and dishes itself).

A table of at most ``budget_rows`` rows is read whole; a longer one is taken apart by dish group
(:func:`leonet.results.summary.dish_group_blocks`, :func:`leonet.results.blocks.iter_blocks`), so
memory is bounded by one chunk file and one block whatever the length of the run. Each figure of
a group or a dish is computed from its own rows in table order, as on the whole table, so every
figure is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ...states import OUTAGE_STATES
from ..blocks import iter_blocks
from ..summary import dish_group_blocks
from .markup import CDF_POINTS, DISH_CDF_POINTS, MAX_GROUP_LINES, THROUGHPUT_COLUMNS, ecdf, table_columns

Curve = tuple[np.ndarray, np.ndarray]  # (values, shares), float32 (n,) each
#: The CDF of no value.
NO_CURVE: Curve = (np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32))


@dataclass
class DishFigures:
    """rtt_cdf: group -> RTT CDF (ms). dish_cdf: site -> RTT CDF (ms) of a picked dish.
    throughput: column -> group -> throughput CDF (Mbit/s). throughput_columns: (column, label)
    of the throughput columns the run has."""

    rtt_cdf: dict[str, Curve] = field(default_factory=dict)
    dish_cdf: dict[int, Curve] = field(default_factory=dict)
    throughput: dict[str, dict[str, Curve]] = field(default_factory=dict)
    throughput_columns: list[tuple[str, str]] = field(default_factory=list)


def dish_figures(run, picked: list[int]) -> DishFigures:
    """:class:`DishFigures` of a :class:`~leonet.results.report.run.ReportRun` (its store,
    calendar, groups, ``dish_group`` and ``budget_rows``), with a CDF for each dish of ``picked``."""
    store = run.store
    parts = store.parts("dish_steps")
    have = table_columns(store, "dish_steps")
    out = DishFigures(throughput_columns=[(c, label) for c, label in THROUGHPUT_COLUMNS if c in have])
    columns = ["t", "site", "state", "rtt_ms", *[c for c, _ in out.throughput_columns],
               *(["delivered"] if "delivered" in have else [])]
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
            _add_block(out, table, run, wanted, picked)
        del table
    return out


def _runs(keys: np.ndarray) -> list[tuple[object, np.ndarray]]:
    """(key, row numbers in table order) of each key of ``keys`` (in order of the sorted keys)."""
    u, code = np.unique(keys, return_inverse=True)
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(len(u) + 1))
    return [(u[i], order[bounds[i]: bounds[i + 1]]) for i in range(len(u))]


def _add_block(out: DishFigures, table: pa.Table, run, wanted: set, picked: set) -> None:
    """Add the figures of the groups and dishes of one block (all their rows) to ``out``."""
    d = table.to_pandas()
    state = d["state"].astype(str)
    site = d["site"].to_numpy()
    # the time each dish-step stands for, in coarse steps (an even calendar's CDFs count steps),
    # times the share of the site's dishes delivered by then where dishes arrive over time (as the
    # service table weighs dish-time: a dish not yet there has no curve to add to)
    kw = None if run.cal.even else run.cal.weight_of(d["t"].astype("int64").to_numpy())
    if "delivered" in d:
        share = np.nan_to_num(d["delivered"].to_numpy(dtype=np.float64), nan=1.0)
        kw = share if kw is None else kw * share
    up = (~state.isin(OUTAGE_STATES)).to_numpy()
    rtt = d["rtt_ms"].to_numpy(dtype=np.float64)
    rtt = np.where(np.isfinite(rtt) & up, rtt, np.nan)
    # online steps only: an outage's 0 Mbps is availability's to count, not a slow link's
    speeds = {c: np.where(up, d[c].to_numpy(dtype=np.float64), np.nan) for c, _ in out.throughput_columns}
    del d, state
    for g, rows in _runs(run.dish_group[site]):
        g = str(g)
        if g in wanted:
            out.rtt_cdf[g] = ecdf(rtt[rows], CDF_POINTS, weights=kw[rows] if kw is not None else None)
            for c, v in speeds.items():
                out.throughput.setdefault(c, {})[g] = ecdf(v[rows] / 1e6, CDF_POINTS,
                                                           weights=kw[rows] if kw is not None else None)
    for s, rows in _runs(site):
        s = int(s)
        if s in picked:
            out.dish_cdf[s] = ecdf(rtt[rows], DISH_CDF_POINTS, weights=kw[rows] if kw is not None else None)

