"""The most loaded satellites and gateways of a results folder (``load_steps``): mean and peak
utilisation over the run, read a block of satellites or gateways at a time when the table is
long, with the same figures as the whole table. The mean is over the run's time: each step
weighs the time it stands for (:mod:`.calendar`), so a window's fine steps do not outweigh the
coarse hours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .blocks import BUDGET_ROWS, blocks_by_count, iter_blocks
from .calendar import Calendar, calendar
from .store import ResultStore


def most_loaded(store: ResultStore, names: np.ndarray, top: int = 5, budget_rows: int = BUDGET_ROWS) -> pd.DataFrame:
    """The most loaded satellites (user downlink) and gateways (feeders summed over antennas),
    ``top`` of each by mean: ``mean_utilisation`` / ``peak_utilisation`` (shares, 0..1) of a
    satellite, ``mean_load_gbps`` / ``peak_load_gbps`` of a gateway. The mean is over the run's
    time (each step weighted by the time it stands for, a step without a row counting 0), the
    peak the highest step. A ``load_steps`` longer than ``budget_rows`` rows is read a block of
    satellites and gateways (consecutive numbers) at a time; each keeps its rows whole, so the
    figures are the same."""
    if "load_steps" not in store.tables():
        return pd.DataFrame()
    cal = calendar(store)
    parts = store.parts("load_steps")
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
    if rows <= budget_rows:
        sat, feeder = _loads(store.read("load_steps").to_pandas(), cal)
    else:
        sat, feeder = _loads_in_blocks(parts, cal, budget_rows)
    out = []
    if sat is not None:
        mean, peak = sat
        for k, m in mean.nlargest(top).items():
            out.append({"element": "satellite", "id": int(k), "mean_utilisation": m, "peak_utilisation": peak[k]})
    if feeder is not None:
        mean, peak = feeder
        for gw, m in mean.nlargest(top).items():
            out.append({"element": "gateway", "id": str(names[gw]), "mean_load_gbps": m / 1e9,
                        "peak_load_gbps": peak[gw] / 1e9})
    return pd.DataFrame(out)


def _loads_in_blocks(parts: list, cal: Calendar, budget_rows: int):
    """:func:`_loads` of the whole table, a block of satellites (gateways) at a time: satellite
    and feeder rows go to separate blocks, each holding every row of its numbers."""
    def kind_key(table) -> tuple[np.ndarray, np.ndarray]:
        down = np.asarray(pc.equal(table.column("direction").cast(pa.string()), "down").to_numpy(zero_copy_only=False))
        kind = table.column("kind").cast(pa.string())
        sat = down & np.asarray(pc.equal(kind, "satellite").to_numpy(zero_copy_only=False))
        feeder = down & np.asarray(pc.equal(kind, "feeder").to_numpy(zero_copy_only=False))
        return np.where(sat, 0, np.where(feeder, 1, -1)), table.column("a").to_numpy().astype(np.int64)

    counts: list[np.ndarray] = [np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)]
    # Whether the whole table's group keys come in increasing order (pandas then sums by another
    # path, see blocks_by_count): satellites' numbers in row order; feeders' (t, number) in row
    # order, and their numbers in (t, number) order (the second groupby).
    order = _Monotonic()
    for part in parts:
        table = pq.read_table(part, columns=["t", "direction", "kind", "a"])
        which, a = kind_key(table)
        t = table.column("t").cast(pa.int64()).to_numpy()
        for k in (0, 1):
            c = np.bincount(a[which == k], minlength=len(counts[k]))
            c[: len(counts[k])] += counts[k]
            counts[k] = c
        order.add(a[which == 0], t[which == 1], a[which == 1])
    block_of = []
    n_blocks = 0
    for k in (0, 1):
        present = np.flatnonzero(counts[k])
        b = np.full(len(counts[k]), -1, dtype=np.int64)
        if len(present):
            b[present] = n_blocks + blocks_by_count(counts[k][present], budget_rows)
            n_blocks = int(b.max()) + 1
        block_of.append(b)

    def block(table) -> np.ndarray:
        which, a = kind_key(table)
        out = np.full(len(a), -1, dtype=np.int64)
        for k in (0, 1):
            mine = which == k
            out[mine] = block_of[k][a[mine]]
        return out

    sats, feeders = [], []
    for table in iter_blocks(parts, None, block, n_blocks):
        s, f = _loads(table.to_pandas(), cal, breakers=order.broken)
        if len(s[0]):
            sats.append(s)
        if f is not None:
            feeders.append(f)
    # Blocks hold consecutive numbers in ascending order: joined, the Series are in the order
    # one groupby over the whole table gives (nlargest breaks ties by it).
    sat = tuple(pd.concat([s[k] for s in sats]) for k in range(2)) if sats else (pd.Series(dtype=np.float64),) * 2
    feeder = tuple(pd.concat([f[k] for f in feeders]) for k in range(2)) if feeders else None
    return sat, feeder


class _Monotonic:
    """Tracks, over chunk files in order, whether three key sequences ever decrease: satellite
    numbers (rows), feeder (t, number) pairs (rows), feeder numbers in sorted (t, number) order."""

    def __init__(self):
        self.last_sat = None
        self.last_pair = None
        self.last_gw = None
        self.broken = [False, False, False]

    def add(self, sat: np.ndarray, t: np.ndarray, gw: np.ndarray) -> None:
        if len(sat):
            seq = sat if self.last_sat is None else np.r_[self.last_sat, sat]
            self.broken[0] |= bool((np.diff(seq) < 0).any())
            self.last_sat = sat[-1]
        if len(gw):
            tt = t if self.last_pair is None else np.r_[self.last_pair[0], t]
            aa = gw if self.last_pair is None else np.r_[self.last_pair[1], gw]
            down = (np.diff(tt) < 0) | ((np.diff(tt) == 0) & (np.diff(aa) < 0))
            self.broken[1] |= bool(down.any())
            self.last_pair = (t[-1], gw[-1])
            pairs = np.unique(np.c_[t, gw], axis=0)  # (t, number) sorted, as the groupby orders them
            seq = pairs[:, 1] if self.last_gw is None else np.r_[self.last_gw, pairs[:, 1]]
            self.broken[2] |= bool((np.diff(seq) < 0).any())
            self.last_gw = pairs[-1, 1]


#: A group number above every satellite's and gateway's, for the rows that break a block's order.
_BREAKER = np.iinfo(np.int32).max


def _loads(lo: pd.DataFrame, cal: Calendar, breakers=(False, False, False)):
    """((mean, peak) utilisation per satellite (shares), (mean, peak) load per gateway (bps) or
    None) of the rows ``lo`` of load_steps, each a Series by number (ascending). A mean weighs
    each step by the time it stands for (``cal``'s weights, in coarse steps: exactly 1.0 each in a
    calendar of equal steps, so the mean is then the plain sum over ``n_steps``).

    ``breakers`` (from :class:`_Monotonic`, for a block of the table): where the whole table's
    keys decrease somewhere, rows of an extra group (number :data:`_BREAKER`, dropped from the
    result) make the block's keys decrease too, so that pandas sums the block by the same path as
    it would the whole table; the extra group changes no other group's sums."""
    lo = lo[lo["direction"].astype(str) == "down"]
    total = float(cal.weights.sum())  # the run's time in coarse steps (n_steps when they are equal)
    sat_rows = lo[lo["kind"].astype(str) == "satellite"][["t", "a", "utilisation"]]
    # each row's utilisation x the time its step stands for (a window's 10 s step: 10 / 3,600)
    sat_rows = sat_rows.assign(timed=sat_rows["utilisation"].to_numpy(dtype=np.float64)
                               * cal.weight_of(sat_rows["t"].astype("int64").to_numpy()))
    if breakers[0] and len(sat_rows):
        first = sat_rows.iloc[:1].copy()
        first["a"] = np.array([_BREAKER], dtype=sat_rows["a"].dtype)
        sat_rows = pd.concat([first, sat_rows], ignore_index=True)
    sats = sat_rows.groupby("a")
    sat = (_drop_breaker(sats["timed"].sum() / total), _drop_breaker(sats["utilisation"].max()))
    feeders = lo[lo["kind"].astype(str) == "feeder"][["t", "a", "load_bps"]]
    feeder = None
    if len(feeders):
        extra = []
        if breakers[1]:  # a first row after which the (t, number) pairs decrease
            row = feeders.iloc[:1].copy()
            row["t"], row["a"] = feeders["t"].max() + pd.Timedelta(1, "ns"), _BREAKER
            extra.append(row)
        if breakers[2]:  # the earliest pair: in (t, number) order, the numbers then decrease
            row = feeders.iloc[:1].copy()
            row["t"], row["a"] = feeders["t"].min() - pd.Timedelta(1, "ns"), _BREAKER
            extra.append(row)
        if extra:
            feeders = pd.concat([*extra, feeders], ignore_index=True)
            feeders["a"] = feeders["a"].astype(lo["a"].dtype)
        per_t = feeders.groupby(["t", "a"])["load_bps"].sum()
        t_ns = per_t.index.get_level_values("t").astype("int64").to_numpy()
        # the breakers' made-up instants are no step of the run: their group is dropped anyway
        real = per_t.index.get_level_values("a").to_numpy() != _BREAKER
        weight = np.ones(len(per_t))
        weight[real] = cal.weight_of(t_ns[real])
        timed = (per_t * weight).groupby(level="a")
        feeder = (_drop_breaker(timed.sum() / total), _drop_breaker(per_t.groupby(level="a").max()))
    return sat, feeder


def _drop_breaker(series: pd.Series) -> pd.Series:
    return series[series.index != _BREAKER] if len(series) and series.index[-1] == _BREAKER else series
