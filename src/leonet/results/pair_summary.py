"""Per-pair service over a run, computed chunk file by chunk file (memory flat in run length).

``pair_steps`` holds one row per station pair and step: 9,900 pairs x 2,000 steps is 19.8 M rows
for the Hypatia paper workload, which pandas needs about 2 GB to group. Here the counts (steps,
steps with a finite RTT, path changes) are accumulated in one pass over the chunk files, and the
exact percentiles in further passes over blocks of pairs, each block holding at most
``budget_values`` RTT values (float32, each packed with its pair id into one uint64 key, so one
integer sort orders a block by pair, then by value); hop counts, small integers, are counted per
pair and value instead (a histogram gives their exact median). Memory is then
bounded by the block budget and one chunk file, whatever the length of the run.

The figures equal the pandas reference (``groupby(sort=False)`` then ``quantile``/``median``/
``mean``) exactly: the percentiles use pandas' own rule (linear interpolation
``v[i] + (v[i+1] - v[i]) * frac`` with ``i = int(q * (n - 1))``), rows come in order of first
appearance, and the tests compare both on whole runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .order_stats import sortable_keys, values_of_keys

#: Largest number of RTT values held at once while computing percentiles (8 bytes each: 24 MB).
BUDGET_VALUES = 3_000_000

RTT_QUANTILES = (0.05, 0.5, 0.95)

#: Sites x sites up to which pair keys map to pair numbers through a dense int32 table (64 MB);
#: above it, a binary search over the sorted keys.
LUT_MAX_ENTRIES = 1 << 24


def group_quantiles(sorted_values: np.ndarray, counts: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """(G, len(qs)) float64 quantiles of groups laid end to end in ``sorted_values`` (each group
    sorted ascending, ``counts[g]`` values long), by pandas' groupby rule (linear interpolation);
    NaN for an empty group."""
    return _group_quantiles_at(lambda i: sorted_values[i].astype(np.float64), counts, qs)


def _group_quantiles_at(value_at, counts: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """:func:`group_quantiles` with the sorted values given as ``value_at(indices) -> float64``
    (so that a block's values need not be decoded all at once)."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    out = np.full((len(counts), len(qs)), np.nan)
    has = counts > 0
    n, s = counts[has], starts[has]
    for k, q in enumerate(qs):
        q_idx = q * (n - 1).astype(np.float64)
        idx = q_idx.astype(np.int64)  # truncation, as pandas' cast to int64
        frac = np.fmod(q_idx, 1.0)
        val = value_at(s + idx)
        nxt = value_at(s + np.minimum(idx + 1, n - 1))
        out[has, k] = np.where(frac == 0.0, val, val + (nxt - val) * frac)
    return out


class _Keys:
    """Pair keys (src * n_sites + dst) seen so far, sorted, with per-key running counts."""

    def __init__(self):
        self.keys = np.zeros(0, dtype=np.int64)
        self.stats = np.zeros((0, 4), dtype=np.int64)  # steps, finite RTT, path changes, hops >= 0
        self.first = np.zeros(0, dtype=np.int64)  # row number (over the whole table) first seen

    def add(self, keys: np.ndarray, stats: np.ndarray, first: np.ndarray) -> None:
        all_keys = np.concatenate([self.keys, keys])
        u, inv = np.unique(all_keys, return_inverse=True)
        merged = np.zeros((len(u), stats.shape[1]), dtype=np.int64)
        np.add.at(merged, inv, np.concatenate([self.stats, stats]))
        first_all = np.full(len(u), np.iinfo(np.int64).max)
        np.minimum.at(first_all, inv, np.concatenate([self.first, first]))
        self.keys, self.stats, self.first = u, merged, first_all


def _group_value_keys(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """uint64 keys sorting by pair id, then by value (float32-exact values: RTT, hops)."""
    return (ids.astype(np.uint64) << np.uint64(32)) | sortable_keys(values.astype(np.float32)).astype(np.uint64)


def _value_at_rank(cum: np.ndarray, counts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """float64 values at ``positions`` of the groups laid end to end in value order, each group
    given by its cumulative histogram ``cum[g]`` over the values 0..V-1 (``counts[g]`` values)."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    group = np.searchsorted(starts, positions, side="right") - 1
    rank = positions - starts[group]
    return (cum[group] <= rank[:, None]).sum(axis=1).astype(np.float64)


def _read(part: Path, columns: list[str]) -> dict[str, np.ndarray]:
    table = pq.read_table(part, columns=columns)
    return {c: table.column(c).to_numpy() for c in columns}


def pair_summary(parts: list[Path], n_sites: int, names: np.ndarray, budget_values: int = BUDGET_VALUES,
                 cal=None) -> pd.DataFrame:
    """The per-pair table of :class:`leonet.results.summary.NetworkSummary` from the chunk files
    of ``pair_steps`` (in chunk order): src, dst (names), availability, path_changes,
    rtt_p5_ms, rtt_p50_ms, rtt_p95_ms, hops_p50; one row per pair in order of first appearance.

    ``cal``: the run's :class:`~leonet.results.calendar.Calendar`. When its steps stand for
    different times (windows, a short last step), availability and percentiles weigh each step by
    its time, as the dish figures do (:func:`_weighted_pair_summary`); otherwise the exact
    unweighted passes below, equal to pandas."""
    if cal is not None and not cal.even:
        return _weighted_pair_summary(parts, n_sites, names, cal, budget_values)
    seen = _Keys()
    offset, max_hops = 0, -1
    for part in parts:  # pass 1: counts per pair
        c = _read(part, ["src", "dst", "rtt_ms", "hops", "path_changed"])
        key = c["src"].astype(np.int64) * n_sites + c["dst"]
        u, first, inv = np.unique(key, return_index=True, return_inverse=True)
        cols = (np.ones(len(key), dtype=np.int64), np.isfinite(c["rtt_ms"]), c["path_changed"], c["hops"] >= 0)
        stats = np.stack([np.bincount(inv, weights=x, minlength=len(u)) for x in cols], axis=1).astype(np.int64)
        seen.add(u, stats, first + offset)
        max_hops = max(max_hops, int(c["hops"].max(initial=-1)))
        offset += len(key)
    n_pairs = len(seen.keys)
    steps, n_rtt, changes, n_hops = seen.stats.T if n_pairs else (np.zeros(0, dtype=np.int64),) * 4
    rtt_q = np.full((n_pairs, len(RTT_QUANTILES)), np.nan)
    hops_q = np.full((n_pairs, 1), np.nan)
    # passes 2..: exact percentiles, a block of pairs (consecutive keys) at a time
    per_pair_values = n_rtt
    if n_sites * n_sites <= LUT_MAX_ENTRIES:  # a dense table key -> pair number
        lut = np.full(n_sites * n_sites, -1, dtype=np.int32)
        lut[seen.keys] = np.arange(n_pairs, dtype=np.int32)
        pair_id = lut.__getitem__
    else:
        def pair_id(keys: np.ndarray) -> np.ndarray:
            return np.searchsorted(seen.keys, keys)
    lo = 0
    while lo < n_pairs:
        total = np.cumsum(per_pair_values[lo:])
        hi = lo + max(1, int(np.searchsorted(total, budget_values, side="right")))
        # one uint64 key per value, written in place into buffers of the block's exact size
        rtt_keys = np.empty(int(n_rtt[lo:hi].sum()), dtype=np.uint64)
        hops_hist = np.zeros((hi - lo) * (max_hops + 1), dtype=np.int64)
        at_r = 0
        for part in parts:
            c = _read(part, ["src", "dst", "rtt_ms", "hops"])
            ids = pair_id(c["src"].astype(np.int64) * n_sites + c["dst"])
            inside = (ids >= lo) & (ids < hi)
            ok = inside & np.isfinite(c["rtt_ms"])
            k = _group_value_keys(ids[ok], c["rtt_ms"][ok])
            rtt_keys[at_r: at_r + len(k)] = k
            at_r += len(k)
            ok = inside & (c["hops"] >= 0)
            hops_hist += np.bincount((ids[ok] - lo).astype(np.int64) * (max_hops + 1) + c["hops"][ok],
                                     minlength=len(hops_hist))
        if at_r != len(rtt_keys):
            raise RuntimeError("pair_steps changed while it was summarised")
        rtt_keys.sort()  # by pair, then by value: one integer sort, in place
        rtt_q[lo:hi] = _group_quantiles_at(
            lambda i: values_of_keys((rtt_keys[i] & np.uint64(0xFFFFFFFF)).astype(np.uint32)).astype(np.float64),
            n_rtt[lo:hi], RTT_QUANTILES)
        cum = np.cumsum(hops_hist.reshape(hi - lo, max_hops + 1), axis=1)
        hops_q[lo:hi] = _group_quantiles_at(lambda i: _value_at_rank(cum, n_hops[lo:hi], i), n_hops[lo:hi], (0.5,))
        del rtt_keys, hops_hist, cum
        lo = hi
    order = np.argsort(seen.first, kind="stable")
    src, dst = np.divmod(seen.keys[order], n_sites)
    with np.errstate(invalid="ignore", divide="ignore"):
        availability = n_rtt[order].astype(np.float64) / steps[order]
    per_pair = pd.DataFrame({
        "availability": availability, "path_changes": changes[order].astype(int),
        "rtt_p5_ms": rtt_q[order, 0], "rtt_p50_ms": rtt_q[order, 1], "rtt_p95_ms": rtt_q[order, 2],
        "hops_p50": hops_q[order, 0],
    })
    per_pair.insert(0, "src", names[src])
    per_pair.insert(1, "dst", names[dst])
    return per_pair


def _weighted_pair_summary(parts: list[Path], n_sites: int, names: np.ndarray, cal, budget_values: int) -> pd.DataFrame:
    """:func:`pair_summary` of a run whose steps stand for different times: each pair-step weighs
    its step's duration (``cal.weight_of``). Pass 1 counts per pair; then a block of pairs at a
    time (about ``budget_values / 4`` values, as each value is held with its pair and weight in a
    frame) gets its weighted percentiles (:func:`leonet.results.quantiles.group_quantiles`, equal
    to the unweighted ones for a pair whose steps all weigh alike)."""
    from .quantiles import group_quantiles

    seen = _Keys()
    offset = 0
    chunk_keys, chunk_up, chunk_all = [], [], []   # per chunk: pair keys, time up, time in all
    for part in parts:  # pass 1: counts per pair, and the time each pair was up
        c = _read(part, ["t", "src", "dst", "rtt_ms", "hops", "path_changed"])
        key = c["src"].astype(np.int64) * n_sites + c["dst"]
        u, first, inv = np.unique(key, return_index=True, return_inverse=True)
        cols = (np.ones(len(key), dtype=np.int64), np.isfinite(c["rtt_ms"]), c["path_changed"], c["hops"] >= 0)
        stats = np.stack([np.bincount(inv, weights=x, minlength=len(u)) for x in cols], axis=1).astype(np.int64)
        seen.add(u, stats, first + offset)
        w = cal.weight_of(c["t"].astype("datetime64[ns]").astype(np.int64))
        chunk_keys.append(u)
        chunk_up.append(np.bincount(inv, weights=w * np.isfinite(c["rtt_ms"]), minlength=len(u)))
        chunk_all.append(np.bincount(inv, weights=w, minlength=len(u)))
        offset += len(key)
    n_pairs = len(seen.keys)
    steps, n_rtt, changes, n_hops = seen.stats.T if n_pairs else (np.zeros(0, dtype=np.int64),) * 4
    rtt_q = np.full((n_pairs, len(RTT_QUANTILES)), np.nan)
    hops_q = np.full(n_pairs, np.nan)
    qs = {f"q{k}": q for k, q in enumerate(RTT_QUANTILES)}
    lo, block_budget = 0, max(1, budget_values // 4)
    while lo < n_pairs:
        total = np.cumsum(np.maximum(steps[lo:], 1))
        hi = lo + max(1, int(np.searchsorted(total, block_budget, side="right")))
        ids, rtt, hops, wts = [], [], [], []
        for part in parts:
            c = _read(part, ["t", "src", "dst", "rtt_ms", "hops"])
            pid = np.searchsorted(seen.keys, c["src"].astype(np.int64) * n_sites + c["dst"])
            inside = (pid >= lo) & (pid < hi)
            ids.append(pid[inside])
            r = c["rtt_ms"][inside].astype(np.float64)
            rtt.append(np.where(np.isfinite(r), r, np.nan))  # no path (inf): left out, as above
            hops.append(np.where(c["hops"][inside] >= 0, c["hops"][inside], np.nan).astype(np.float64))
            wts.append(cal.weight_of(c["t"][inside].astype("datetime64[ns]").astype(np.int64)))
        ids, rtt, hops, wts = (np.concatenate(x) for x in (ids, rtt, hops, wts))
        rq = group_quantiles(ids, rtt, wts, qs)
        rtt_q[rq.index.to_numpy(dtype=np.int64)] = rq[list(qs)].to_numpy()
        hq = group_quantiles(ids, hops, wts, {"h": 0.5}, median=True)
        hops_q[hq.index.to_numpy(dtype=np.int64)] = hq["h"].to_numpy()
        lo = hi
    order = np.argsort(seen.first, kind="stable")
    src, dst = np.divmod(seen.keys[order], n_sites)
    at = np.searchsorted(seen.keys, np.concatenate(chunk_keys)) if chunk_keys else np.zeros(0, dtype=np.int64)
    up = np.bincount(at, weights=np.concatenate(chunk_up) if chunk_up else None, minlength=n_pairs)
    alltime = np.bincount(at, weights=np.concatenate(chunk_all) if chunk_all else None, minlength=n_pairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        availability = up[order] / alltime[order]
    per_pair = pd.DataFrame({
        "availability": availability, "path_changes": changes[order].astype(int),
        "rtt_p5_ms": rtt_q[order, 0], "rtt_p50_ms": rtt_q[order, 1], "rtt_p95_ms": rtt_q[order, 2],
        "hops_p50": hops_q[order],
    })
    per_pair.insert(0, "src", names[src])
    per_pair.insert(1, "dst", names[dst])
    return per_pair
