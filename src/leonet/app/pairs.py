"""Ground-station pairs (a station-pair run's ``pair_steps``): the list of pairs with their
service over the run, one pair's RTT over time, and the routes the pairs took at one step.

A pair is named by its two station names (``src``, ``dst``: query parameters, never a path); each
direction is its own pair, as in the run. Every answer is bounded: the pair list is computed once
per run (over ``pair_steps`` a chunk file at a time, a block of pairs at a time when it is long),
a history reads only the chunk files of its window (at most ``MAX_SPAN_STEPS`` steps) filtered to
one pair, and routes read one chunk file filtered to one instant.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import schemas
from ..timeutil import ns_to_iso
from ..results.quantiles import weighted_quantile
from .dish_rows import ns_column
from .errors import NotFound
from .run import RunData, finite_or_none, round_list

PAIR_TABLE = "pair_steps"


def need_pairs(run: RunData) -> None:
    if PAIR_TABLE not in run.tables:
        raise NotFound("this run has no station pairs (table pair_steps): give network.pairs or "
                       "network.all_station_pairs in the scenario")


def _station(run: RunData, name: str, param: str) -> int:
    hit = np.flatnonzero((run.sites["kind"].to_numpy() == "station") & (run.site_names == name))
    if not len(hit):
        raise NotFound(f"no station {name!r} ({param}) in this run; list the pairs at /api/v1/pairs")
    return int(hit[0])


#: Most pair-steps held at once while the pair list is computed (a pair key, an RTT and, in a
#: windowed calendar, a duration each: 12 to 20 bytes, so 36 to 60 MB).
BUDGET_ROWS = 3_000_000


def _pair_stats(run: RunData, budget_rows: int = BUDGET_ROWS) -> dict:
    """Per pair over the run (in order of pair key): steps, steps with a route, and the RTT median
    and 95th percentile of the steps with a route (as shares of time in a windowed calendar).

    A table of at most ``budget_rows`` rows is taken whole; a longer one a block of pairs
    (consecutive keys, about ``budget_rows`` rows) at a time, after one pass that counts the rows
    of each pair: memory is bounded by the block and one chunk file whatever the length of the
    run. Each pair's figures come from its own rows in table order, so they are the same either
    way."""
    n = len(run.sites)
    parts = run.store.parts(PAIR_TABLE)
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
    if rows <= budget_rows:
        return _stats_of(run, *_pair_rows(run, parts, None))
    keys, counts = np.zeros(0, np.int64), np.zeros(0, np.int64)
    for part in parts:  # rows per pair key
        t = pq.read_table(part, columns=["src", "dst"])
        u, c = np.unique(t.column("src").to_numpy(zero_copy_only=False).astype(np.int64) * n
                         + t.column("dst").to_numpy(zero_copy_only=False).astype(np.int64), return_counts=True)
        keys, inv = np.unique(np.r_[keys, u], return_inverse=True)
        counts = np.bincount(inv, weights=np.r_[counts, c], minlength=len(keys)).astype(np.int64)
    blocks = []
    lo = 0
    while lo < len(keys):  # consecutive keys, about budget_rows rows (at least one pair)
        hi = lo + max(1, int(np.searchsorted(np.cumsum(counts[lo:]), budget_rows, side="right")))
        blocks.append(_stats_of(run, *_pair_rows(run, parts, (keys[lo], keys[hi - 1]))))
        lo = hi
    return {k: (np.concatenate([b[k] for b in blocks]) if blocks[0][k] is not None else None) for k in blocks[0]}


def _pair_rows(run: RunData, parts: list, keys: tuple[int, int] | None):
    """(pair key, RTT float32, duration s or None) of the rows whose key lies in ``keys`` (lowest,
    highest; None: every row), in table order, a chunk file at a time."""
    n = len(run.sites)
    out_keys, rtts, secs = [], [], []
    for part in parts:
        t = pq.read_table(part, columns=["src", "dst", "rtt_ms"] + ([] if run.cal.even else ["t"]))
        src = t.column("src").to_numpy(zero_copy_only=False).astype(np.int64)
        dst = t.column("dst").to_numpy(zero_copy_only=False).astype(np.int64)
        key = src * n + dst
        mine = slice(None) if keys is None else (key >= keys[0]) & (key <= keys[1])
        out_keys.append(key[mine])
        rtts.append(t.column("rtt_ms").to_numpy(zero_copy_only=False).astype(np.float32)[mine])
        if not run.cal.even:  # uneven steps (windows, a short last step): each row weighs its step's time
            secs.append(run.cal.duration_of(ns_column(t.column("t")))[mine])
    key = np.concatenate(out_keys) if out_keys else np.zeros(0, np.int64)
    rtt = np.concatenate(rtts) if rtts else np.zeros(0, np.float32)
    sec = (np.concatenate(secs) if secs else np.zeros(0)) if not run.cal.even else None
    return key, rtt, sec


def _stats_of(run: RunData, key: np.ndarray, rtt: np.ndarray, sec: np.ndarray | None) -> dict:
    """:func:`_pair_stats` of the rows (pair key, RTT, duration) of whole pairs."""
    n = len(run.sites)
    order = np.lexsort((rtt, key))           # by pair, then RTT (NaN and inf last within a pair)
    key, rtt = key[order], rtt[order]
    sec = sec[order] if sec is not None else None
    del order
    uniq, first, steps = np.unique(key, return_index=True, return_counts=True)
    ok = np.isfinite(rtt)
    routed = np.add.reduceat(ok, first) if len(first) else np.zeros(0, np.int64)
    p50 = np.full(len(uniq), np.nan)
    p95 = np.full(len(uniq), np.nan)
    for j in np.flatnonzero(routed):
        vals = rtt[first[j]:first[j] + routed[j]].astype(np.float64)   # the finite RTTs of this pair, sorted
        if sec is None:
            p50[j], p95[j] = np.percentile(vals, [50, 95])
        else:
            w = sec[first[j]:first[j] + routed[j]]
            p50[j], p95[j] = weighted_quantile(vals, w, 0.5), weighted_quantile(vals, w, 0.95)
    if sec is not None and len(first):  # shares of time, not of steps
        routed_s = np.add.reduceat(np.where(ok, sec, 0.0), first)
        total_s = np.add.reduceat(sec, first)
        share = np.divide(routed_s, total_s, out=np.zeros(len(first)), where=total_s > 0)
    else:
        share = None
    return {"src": uniq // n, "dst": uniq % n, "steps": steps, "routed": routed, "p50": p50, "p95": p95,
            "share": share}


def pair_list(run: RunData, offset: int, limit: int, station: str | None, order: str) -> schemas.PairList:
    need_pairs(run)
    s = run.aggregate("pairs", lambda: _pair_stats(run))
    idx = np.arange(len(s["src"]))
    if station is not None:
        k = _station(run, station, "station")
        idx = idx[(s["src"][idx] == k) | (s["dst"][idx] == k)]
    if order == "rtt_p50_desc":
        idx = idx[np.argsort(-np.nan_to_num(s["p50"][idx], nan=np.inf), kind="stable")]
    page = idx[offset:offset + limit]
    return schemas.PairList(
        total=int(len(idx)), offset=offset, limit=limit,
        stations=int((run.sites["kind"] == "station").sum()),
        pairs=[schemas.PairRef(
            src=str(run.site_names[s["src"][j]]), dst=str(run.site_names[s["dst"][j]]),
            steps=int(s["steps"][j]),
            availability=(float(s["share"][j]) if s["share"] is not None else float(s["routed"][j] / s["steps"][j]))
            if s["steps"][j] else None,
            rtt_p50_ms=finite_or_none(s["p50"][j]), rtt_p95_ms=finite_or_none(s["p95"][j]),
        ) for j in page],
    )


def _read(run: RunData, chunks, columns, filters) -> pa.Table:
    tables = []
    for c in chunks:
        path = run.store.chunk_path(PAIR_TABLE, c)
        if path.exists():
            tables.append(pq.read_table(path, columns=columns, filters=filters))
    if not tables:
        raise NotFound("no pair_steps chunk of that window was computed (the run is incomplete)")
    return pa.concat_tables(tables)


def history(run: RunData, src: str, dst: str, start_step: int | None, end_step: int | None) -> schemas.PairHistory:
    """One pair's RTT, hops and path changes over a window of at most MAX_SPAN_STEPS steps."""
    need_pairs(run)
    a, b = _station(run, src, "src"), _station(run, dst, "dst")
    start, end = run.span(start_step, end_step)
    run.store.parts(PAIR_TABLE)  # verified (once)
    lo = pa.scalar(run.t_ns(start), pa.timestamp("ns", tz="UTC"))
    hi = pa.scalar(run.t_ns(end), pa.timestamp("ns", tz="UTC"))
    chunks = range(start // run.chunk_steps, (end - 1) // run.chunk_steps + 1)
    t = _read(run, chunks, ["t", "rtt_ms", "hops", "path_changed"],
              [("src", "=", a), ("dst", "=", b), ("t", ">=", lo), ("t", "<", hi)])
    if t.num_rows == 0:
        raise NotFound(f"no pair {src!r} -> {dst!r} in this run; list the pairs at /api/v1/pairs")
    tn = ns_column(t.column("t"))
    order = np.argsort(tn, kind="stable")
    steps = ((tn - run.start_ns) // run.step_ns if run.uniform else run.cal.index_of(tn))[order]
    rtt = t.column("rtt_ms").to_numpy(zero_copy_only=False).astype(np.float64)[order]
    hops = t.column("hops").to_numpy(zero_copy_only=False).astype(np.int64)[order]
    finite = rtt[np.isfinite(rtt)]
    if not run.cal.even and len(rtt):  # uneven steps: shares and percentiles of time
        w = run.cal.durations_s[steps]
        ok = np.isfinite(rtt)
        availability = float((w * ok).sum() / w.sum())
        p50, p95 = (weighted_quantile(rtt[ok], w[ok], q) if ok.any() else None for q in (0.5, 0.95))
    else:
        availability = float(np.isfinite(rtt).mean()) if len(rtt) else None
        p50 = np.percentile(finite, 50) if len(finite) else None
        p95 = np.percentile(finite, 95) if len(finite) else None
    return schemas.PairHistory(
        src=src, dst=dst, start_step=start, end_step=end, start=ns_to_iso(run.t_ns(start)), step_s=run.step_s,
        steps=steps.astype(int).tolist(), t_s=run.t_s(steps).tolist(),
        rtt_ms=round_list(rtt, 3), hops=[int(h) if h >= 0 else None for h in hops],
        path_changed=t.column("path_changed").to_numpy(zero_copy_only=False)[order].astype(bool).tolist(),
        availability=availability,
        rtt_p50_ms=finite_or_none(p50) if p50 is not None else None,
        rtt_p95_ms=finite_or_none(p95) if p95 is not None else None,
    )


def routes(run: RunData, step: int | None, t, src: str | None, dst: str | None, limit: int) -> schemas.PairRoutes:
    """The routes of the pairs at one step: station -> satellites -> station, with each
    satellite's position then (so the page draws them on the globe). ``src``/``dst`` narrow
    the pairs; at most ``limit`` routes, in (src, dst) order."""
    need_pairs(run)
    step = run.step_of(step, t)
    filters = []
    if src is not None:
        filters.append(("src", "=", _station(run, src, "src")))
    if dst is not None:
        filters.append(("dst", "=", _station(run, dst, "dst")))
    table = run.chunk_table(PAIR_TABLE, step, columns=["src", "dst", "rtt_ms", "path"], extra_filters=filters)
    if table is None:
        raise NotFound(f"step {step} was not computed (the run is incomplete)")
    src_i = table.column("src").to_numpy(zero_copy_only=False).astype(np.int64)
    dst_i = table.column("dst").to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.lexsort((dst_i, src_i))
    total = len(order)
    order = order[:limit]
    rtt = table.column("rtt_ms").to_numpy(zero_copy_only=False).astype(np.float64)
    paths = table.column("path").take(pa.array(order, type=pa.int64())).to_pylist()
    sky = run.sky.at(run.t_ns(step))
    out = []
    for j, path in zip(order, paths):
        path = [int(x) for x in (path or [])]
        sa, sb = run.sites.iloc[src_i[j]], run.sites.iloc[dst_i[j]]
        lon = [float(sa.lon_deg)] + [float(sky.lon_deg[x]) for x in path] + [float(sb.lon_deg)]
        lat = [float(sa.lat_deg)] + [float(sky.lat_deg[x]) for x in path] + [float(sb.lat_deg)]
        out.append(schemas.PairRoute(src=str(run.site_names[src_i[j]]), dst=str(run.site_names[dst_i[j]]),
                                     rtt_ms=finite_or_none(rtt[j]), path=path,
                                     lon_deg=round_list(np.array(lon), 3), lat_deg=round_list(np.array(lat), 3)))
    return schemas.PairRoutes(step=step, t=ns_to_iso(run.t_ns(step)), total=int(total), shown=len(out), routes=out)
