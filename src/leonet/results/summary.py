"""Summaries of a results folder: how many satellites each site sees and coverage gaps; the
dishes' network service (the most loaded satellites and gateways: :mod:`.loads`).

The numbers are computed from the stored tables (not from the run's memory), so the summary of
a folder is the same whether it was just run, resumed, or copied from elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..states import OUTAGE_STATES
from ..memory import release_free_memory
from .blocks import BUDGET_ROWS, blocks_by_count, count_keys, iter_blocks
from .pair_summary import pair_summary
from .calendar import calendar
from .loads import most_loaded
from .quantiles import group_quantiles, weighted_quantile
from .store import ResultStore


@dataclass(frozen=True)
class CoverageSummary:
    """Per-site visibility statistics over the run.

    ``per_site`` has one row per site: name, kind, group, visible_min, visible_median (satellites
    in view; the median over the run's time, each step weighted by the time it stands for),
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


def _longest_gap_s(zero: np.ndarray, durations_s: np.ndarray) -> float:
    """The longest run of True in ``zero`` (T,), in seconds (each step weighs its duration)."""
    if not zero.any():
        return 0.0
    run_id = np.cumsum(~zero)  # steps of one run of True share an id
    return float(np.bincount(run_id[zero], weights=durations_s[zero]).max())


def site_weights(store: ResultStore) -> np.ndarray:
    """(S,) how many identical dishes each site stands for (``dishes_per_site``; 1 otherwise)."""
    table = store.read("sites")
    if "dishes" not in table.column_names:
        return np.ones(table.num_rows)
    return np.nan_to_num(table.column("dishes").to_numpy(zero_copy_only=False).astype(np.float64), nan=1.0)


def row_dishes(site_w: np.ndarray, site: np.ndarray, delivered=None) -> np.ndarray:
    """(R,) float64: the dishes each ``dish_steps`` row stands for: its site's dishes
    (:func:`site_weights`) times the row's ``delivered`` share where the run has one (a
    ``deliveries`` event brings dishes in over time: a dish not yet delivered has no dish-time)."""
    w = site_w[np.asarray(site, dtype=np.int64)] if len(site) else np.zeros(0)
    if delivered is None:
        return w
    return w * np.nan_to_num(np.asarray(delivered, dtype=np.float64), nan=1.0)


def coverage_summary(store: ResultStore, budget_rows: int | None = None) -> CoverageSummary:
    """Per-site visibility over the run from ``site_steps``; a table longer than ``budget_rows``
    (default :data:`BUDGET_ROWS`) rows is read a block of consecutive sites at a time (every
    figure of a site comes from its own rows), so memory stays flat in the length of the run."""
    budget_rows = BUDGET_ROWS if budget_rows is None else budget_rows
    manifest = store.manifest
    sites = store.read("sites", columns=["name", "kind", "group"]).to_pandas()
    n_sites = len(sites)
    step_s = manifest.step_s
    cal = calendar(store)
    parts = store.parts("site_steps")
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
    if rows <= budget_rows or not n_sites:
        stats, n_steps = _coverage_of(store.read("site_steps", columns=["t", "site", "n_visible"]).to_pandas(),
                                      n_sites, cal, step_s)
    else:
        block_of_site = blocks_by_count(np.full(n_sites, max(rows // n_sites, 1)), budget_rows, min_units=1)
        n_blocks = int(block_of_site.max()) + 1
        pieces, n_steps = [], 0
        blocks = iter_blocks(parts, ["t", "site", "n_visible"],
                             lambda t: block_of_site[t.column("site").to_numpy()], n_blocks)
        for b, table in enumerate(blocks):
            mine = int((block_of_site == b).sum())
            piece, n_steps = _coverage_of(table.to_pandas(), mine, cal, step_s)
            pieces.append(piece)
        stats = {k: (np.concatenate([p[k] for p in pieces]) if not np.isscalar(pieces[0][k])
                     else pieces[0][k]) for k in pieces[0]}
    per_site = sites.assign(**stats)
    return CoverageSummary(per_site=per_site, n_steps=n_steps, step_s=step_s)


def _coverage_of(steps: pd.DataFrame, n_sites: int, cal, step_s: float) -> tuple[dict, int]:
    """The per-site columns of :class:`CoverageSummary` for the rows ``steps`` of ``n_sites``
    consecutive sites (every step of each), and the number of steps."""
    steps = steps.sort_values(["site", "t"], kind="stable")
    nv = steps["n_visible"].to_numpy().reshape(n_sites, -1) if n_sites else np.zeros((0, 0), dtype=np.int16)
    gaps = [_gaps(row == 0) for row in nv]
    median = np.median(nv, axis=1) if nv.size else 0.0
    if not cal.even and nv.size:  # uneven steps: each step weighs the time it stands for (s)
        durations = cal.durations_s[: nv.shape[1]]
        gaps = [(g[0], _longest_gap_s(row == 0, durations) / step_s) for g, row in zip(gaps, nv)]
        # a window's 10 s steps must not outvote the hours around them
        median = np.array([weighted_quantile(row, durations, 0.5) for row in nv])
    stats = dict(
        visible_min=nv.min(axis=1) if nv.size else 0,
        visible_median=median,
        visible_max=nv.max(axis=1) if nv.size else 0,
        gap_steps=(nv == 0).sum(axis=1) if nv.size else 0,
        gap_count=[g[0] for g in gaps],
        longest_gap_s=[g[1] * step_s for g in gaps],
    )
    return stats, (nv.shape[1] if nv.size else 0)


@dataclass(frozen=True)
class NetworkSummary:
    """Per-dish service over the run, from ``dish_steps``.

    ``per_dish``: name, group, steps, availability (share of the time not in an outage state of
    :mod:`leonet.states`: CONNECTED and CONGESTED count as available), rtt_p5_ms,
    rtt_p50_ms, rtt_p95_ms (over the connected time), path_changes, top_gateway, top_pop (the
    ones used for the most connected dish-time; a tie names them all, "FRA = MAD"; "" when there
    is none), and one column of step counts per non-connected state (path changes and step
    counts count site-steps with dish-time: a row of no dish delivered yet counts for nothing),
    with its dish-seconds (``lost_s_STATE``); with capacity, down_p10/p50_mbps, up_p50_mbps
    and speedtest_p50_mbps over the online time, demand_served over all of it. Every share and
    percentile weights a dish-step by the time its step stands for (:mod:`.calendar`) and, per
    group, by the dishes its site stands for (:func:`site_weights`); percentiles as
    :mod:`.quantiles` takes them, a group's site of N dishes counting as N dishes (frequency
    weights; a per-dish row is one dish of its site). ``per_pair``: src, dst,
    availability, rtt_p5/50/95_ms, hops_p50, path_changes (empty without ``pair_steps``).
    """

    per_dish: pd.DataFrame
    per_pair: pd.DataFrame
    states: tuple[str, ...]

    def by_group(self) -> pd.DataFrame:
        """Dishes aggregated per group (city), with RTT percentiles (ms) over their connected
        dish-time (and, with capacity, downlink p10/p50 and uplink and speed-test p50 in Mbps over
        their online dish-time, and the share of demand served over all of it), each dish-step
        weighted by its dishes and its step's duration."""
        return self._groups

    def most_loaded(self) -> pd.DataFrame:
        """The most loaded satellites and gateways (empty without capacity)."""
        return self._loaded


def _dish_counts(df: pd.DataFrame, keys: list[str]) -> np.ndarray | None:
    """The frequency weights of ``df``'s rows for the quantiles per ``keys``
    (:mod:`.quantiles`): per dish group, the dishes each row's site stands for (N identical dishes
    are N observations, not one); per site (one dish of it), None."""
    return df["counts_w"].to_numpy() if keys != ["site"] and "counts_w" in df else None


def _rtt_percentiles(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """p5/p50/p95 (ms) of rtt_ms per group over its finite values, each dish-step weighted by
    ``w`` (dishes x the time its step stands for, :func:`_dish_frame`; its dishes counted as
    dishes, :func:`_dish_counts`; :mod:`.quantiles`)."""
    finite = df[np.isfinite(df["rtt_ms"].to_numpy(dtype=np.float64))]
    return group_quantiles(finite[keys[0]].to_numpy(), finite["rtt_ms"].to_numpy(), finite["w"].to_numpy(),
                           {"rtt_p5_ms": 0.05, "rtt_p50_ms": 0.5, "rtt_p95_ms": 0.95},
                           counts=_dish_counts(finite, keys))


def _weighted_quantile_column(df: pd.DataFrame, keys: list[str], column: str, q: float) -> pd.Series:
    """The q-quantile of ``column`` per group (NaN left out), dish-steps weighted by ``w`` (dishes
    counted as dishes, :func:`_dish_counts`); a median of equal weights is pandas' ``median``, as
    before weighting (:func:`group_quantiles`)."""
    return group_quantiles(df[keys[0]].to_numpy(), df[column].to_numpy(), df["w"].to_numpy(), {column: q},
                           median=True, counts=_dish_counts(df, keys))[column]


#: Dish-times within this share of each other are a tie (equal times summed in another order
#: differ in their last bits).
TIE_REL = 1e-9
#: Joins the sites of a tie: " = " (site names hold "/" and "," themselves: "LON/LHR", "Frankfurt, DE").
TIE_JOIN = " = "


def _mode_name(df: pd.DataFrame, keys: list[str], column: str, names: np.ndarray) -> pd.Series:
    """The site of ``column`` (gateway, PoP) each group of ``df`` used for the most dish-time
    (its rows' ``w``: dishes x the time the step stands for), as a site name; a tie names every
    tied site, sorted, joined by :data:`TIE_JOIN` ("FRA = LON/LHR = MAD": no arbitrary first row
    wins). A group without such a site, or whose rows with one have no dish-time (no dish
    delivered yet: every site would tie at 0), has no entry (the caller writes "")."""
    ok = df[(df[column].to_numpy() >= 0) & (df["w"].to_numpy() > 0)]
    if ok.empty:
        return pd.Series(dtype=object)
    time = ok.groupby([*keys, column], sort=False)["w"].sum().reset_index()
    best = time.groupby(keys, sort=False)["w"].transform("max").to_numpy()
    top = time[time["w"].to_numpy() >= best * (1.0 - TIE_REL)]
    top = top.assign(name=names[top[column].to_numpy()].astype(str))
    tied = top.duplicated(keys, keep=False).to_numpy()
    out = top[~tied].set_index(keys)["name"]
    if tied.any():
        out = pd.concat([out, top[tied].groupby(keys, sort=False)["name"].agg(lambda s: TIE_JOIN.join(sorted(s)))])
    return out


_DISH_COLUMNS = ["t", "site", "state", "rtt_ms", "gateway", "pop", "path_changed"]
_CAPACITY_COLUMNS = ("downlink_bps", "uplink_bps", "demand_down_bps", "speedtest_down_bps")


def network_summary(store: ResultStore, budget_rows: int = BUDGET_ROWS) -> NetworkSummary | None:
    """None when the run has no network results.

    ``dish_steps`` is summarised whole when it has at most ``budget_rows`` rows; a longer one is
    taken apart by dish group into blocks of whole groups (each about ``budget_rows`` rows, or one
    group where a group is larger) and each block is summarised as the whole table would be
    (every figure of a dish or a group comes from its own rows, in table order), so memory stays
    flat in the length of the run and the figures are the same."""
    if "dish_steps" not in store.tables():
        return None
    sites = store.read("sites", columns=["name", "kind", "group"]).to_pandas()
    name = sites["name"].to_numpy()
    group_of_site = sites["group"].to_numpy().astype(object)
    group_of_site = np.where(group_of_site == "", "dish", group_of_site)
    weights = site_weights(store)
    cal = calendar(store)
    parts = store.parts("dish_steps")
    schema = pq.read_schema(parts[0]) if parts else store.read("dish_steps").schema
    cap_cols = [c for c in _CAPACITY_COLUMNS if c in schema.names]
    columns = [*_DISH_COLUMNS, *cap_cols, *(["delivered"] if "delivered" in schema.names else [])]
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)

    # With two steps or more every block of two dishes (groups) or more has its keys in a
    # decreasing order somewhere, as the whole table has: pandas sums both by the same path (see
    # blocks_by_count). A run of one step is held whole (its memory does not grow with time).
    if rows <= budget_rows or store.manifest.n_steps < 2:
        d = store.read("dish_steps", columns=columns).to_pandas()
        states = tuple(str(s) for s in d["state"].cat.categories) if hasattr(d["state"], "cat") else ()
        per_dish, groups = _dish_service(_dish_frame(d, group_of_site, weights, cal), states, name)
    else:
        states = _state_names(parts)
        per_dish, groups = _dish_service_in_blocks(parts, columns, group_of_site, weights, cal, states, name,
                                                   budget_rows)
    per_pair = pd.DataFrame()
    if "pair_steps" in store.tables():  # chunk by chunk: 19.8 M rows for the paper workload
        per_pair = pair_summary(store.parts("pair_steps"), len(sites), name, cal=cal)
        release_free_memory()  # the passes' read buffers: what follows (the report) starts lower
    out = NetworkSummary(per_dish=per_dish, per_pair=per_pair, states=states)
    object.__setattr__(out, "_groups", groups)
    object.__setattr__(out, "_loaded", most_loaded(store, name, budget_rows=budget_rows))
    return out


def dish_time_text(seconds: float) -> str:
    """Dish-time lost, in units a reader takes in at a glance (dish-s, dish-min, dish-h); a time
    under a dish-second keeps one significant digit ("0.1 dish-s", not "0 dish-s": a lost
    time that is not nil never reads as nil); "-" when there is none (NaN)."""
    if not math.isfinite(seconds):
        return "-"
    if 0 < abs(seconds) < 1:  # (":.0f" would print 0.3, and 0.5, as 0)
        return f"{seconds:.{-math.floor(math.log10(abs(seconds)))}f} dish-s"
    if seconds < 600:
        return f"{seconds:,.0f} dish-s"
    if seconds < 36_000:
        return f"{seconds / 60:,.0f} dish-min"
    return f"{seconds / 3600:,.0f} dish-h"


def _state_names(parts: list) -> tuple[str, ...]:
    """The categories pandas gives the ``state`` column of the whole table: the chunk files'
    dictionaries, unified as pyarrow unifies them (read one file at a time, dictionaries only)."""
    dictionaries = []
    for part in parts:
        column = pq.read_table(part, columns=["state"]).column("state")
        for chunk in column.chunks:
            n = len(chunk.dictionary)
            dictionaries.append(pa.DictionaryArray.from_arrays(pa.array(np.arange(n, dtype=np.int8)), chunk.dictionary))
    if not dictionaries:
        return ()
    cats = pa.chunked_array(dictionaries).to_pandas().cat.categories
    return tuple(str(s) for s in cats)


def _dish_frame(d: pd.DataFrame, group_of_site: np.ndarray, weights: np.ndarray, cal) -> pd.DataFrame:
    """The dish_steps rows as the summary groups them: state names, connected, group, weights."""
    d["state"] = d["state"].astype(str)
    d["connected"] = ~d["state"].isin(OUTAGE_STATES)  # CONGESTED is online (leonet.states)
    d["group"] = group_of_site[d["site"].to_numpy()] if len(d) else np.zeros(0, dtype=object)
    # A site may stand for many identical dishes: availability counts dishes, not sites.
    d["dishes_w"] = weights[d["site"].to_numpy()] if len(d) else np.zeros(0)  # dishes a row's site stands for
    # those of them delivered at the row's time (all without a deliveries event): the row's dishes
    # in dish-time and, as frequency weights, in the quantiles
    d["w"] = row_dishes(weights, d["site"].to_numpy(), d.pop("delivered") if "delivered" in d else None)
    d["counts_w"] = d["w"]
    # Each step weighs the time it stands for (1.0 for a step of step_s, so an even calendar's
    # weights stay the dish counts exactly): windows, sample windows, a short last step.
    if len(d):
        d["w"] = d["w"] * cal.weight_of(d["t"].astype("int64").to_numpy())
    d = d.drop(columns=["t"])
    d["w_connected"] = d["w"] * d["connected"]
    # rows that stand for some dish-time (not a dish not yet delivered): only these count steps
    # and path changes (a group without dishes has none, as it has no lost time)
    d["present"] = d["w"].to_numpy() > 0
    d["path_changed"] = d["path_changed"].to_numpy(dtype=bool) & d["present"].to_numpy()
    d["dish_s"] = d["w"] * cal.step_s  # dish-seconds a row stands for
    return d


def _dish_service(d: pd.DataFrame, states: tuple[str, ...], name: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per dish, per group) of the rows ``d`` (:func:`_dish_frame`), in order of first row."""

    def service(keys: list[str]) -> pd.DataFrame:
        g = d.groupby(keys, sort=False)
        out = pd.DataFrame({
            "steps": g.size(), "availability": g["w_connected"].sum() / g["w"].sum(),
            "path_changes": g["path_changed"].sum().astype(int),
        })
        out = out.join(_rtt_percentiles(d, keys))
        conn = d[d["connected"]]
        out["top_gateway"] = _mode_name(conn, keys, "gateway", name)
        out["top_pop"] = _mode_name(conn, keys, "pop", name)
        if len(states) > 1:  # steps and dish-seconds per state and group, in one pass
            by_state = d.groupby([*keys, "state"], sort=False)
            counts = by_state["present"].sum().unstack(fill_value=0)  # site-steps with dishes
            dish_s = by_state["dish_s"].sum().unstack(fill_value=0)
            for s in states:
                if s != "CONNECTED":
                    out[s] = (counts[s] if s in counts else pd.Series(0, index=counts.index)).reindex(out.index).fillna(0).astype(int)
                    out[f"lost_s_{s}"] = (dish_s[s] if s in dish_s else pd.Series(0.0, index=dish_s.index)) \
                        .reindex(out.index).fillna(0.0)
        # throughput percentiles: quality, over the online time only (docs/service-model.md §6:
        # availability counts the outages; an outage's 0 Mbps would read as a slow link), each
        # dish-step weighing its dishes x the time its step stands for, as availability
        if "downlink_bps" in d:  # both quantiles from one sort of the groups
            down = group_quantiles(conn[keys[0]].to_numpy(), conn["downlink_bps"].to_numpy(), conn["w"].to_numpy(),
                                   {"down_p10_mbps": 0.10, "down_p50_mbps": 0.5}, median=True,
                                   counts=_dish_counts(conn, keys)) / 1e6
            out["down_p10_mbps"], out["down_p50_mbps"] = down["down_p10_mbps"], down["down_p50_mbps"]
        if "uplink_bps" in d:
            out["up_p50_mbps"] = _weighted_quantile_column(conn, keys, "uplink_bps", 0.5) / 1e6
        if "demand_down_bps" in d and "downlink_bps" in d:  # all the time: an outage serves no demand
            served = (d["w"] * d["downlink_bps"]).groupby(d[keys[0]], sort=False).sum()
            wanted = (d["w"] * d["demand_down_bps"]).groupby(d[keys[0]], sort=False).sum()
            # NaN where the group wanted nothing: a share of no demand is undefined, not 0 % served
            out["demand_served"] = served / wanted.where(wanted > 0)
        if "speedtest_down_bps" in d:  # the speed test a dish runs while online
            out["speedtest_p50_mbps"] = _weighted_quantile_column(conn, keys, "speedtest_down_bps", 0.5) / 1e6
        return out.fillna({"top_gateway": "", "top_pop": ""})

    per_dish = pd.DataFrame()
    groups = pd.DataFrame()
    if len(d):
        per_dish = service(["site"]).reset_index()
        per_dish.insert(0, "name", name[per_dish["site"].to_numpy()])
        groups = service(["group"]).reset_index()
        first = d.drop_duplicates("site")
        # dishes are counted, not weighted by the time their first step stands for (a windowed run
        # whose first step is a 15 s window step would count 15 / 3,600 of a dish)
        groups.insert(1, "dishes", first.groupby("group", sort=False)["dishes_w"].sum().reindex(groups["group"])
                      .round().to_numpy().astype(int))
        lost = [c for c in states if c in OUTAGE_STATES]
        # dish-time, as the resilience table and the report count it (a site's step stands for its
        # dishes and its step's time), not site-steps
        groups["outage_causes"] = [
            ", ".join(f"{c} {dish_time_text(r[f'lost_s_{c}'])}" for c in lost if r[f"lost_s_{c}"] > 0) or "-"
            for _, r in groups.iterrows()
        ]
    return per_dish, groups


@dataclass(frozen=True)
class DishBlocks:
    """dish_steps taken apart into blocks of whole dish groups (:func:`dish_group_blocks`).

    block_of_site : int64 (S,) block of each site (-1: no row). n_blocks : number of blocks.
    first_row : int64 (S,) each site's first row in the table (-1: none). group_names : (G,) the
    groups with rows (sorted). group_first : int64 (G,) each group's first row."""

    block_of_site: np.ndarray
    n_blocks: int
    first_row: np.ndarray
    group_names: np.ndarray
    group_first: np.ndarray

    def block_of(self, table: pa.Table) -> np.ndarray:
        """Block of each row of a chunk of dish_steps (for :func:`iter_blocks`)."""
        return self.block_of_site[table.column("site").to_numpy()]


def dish_group_blocks(parts: list, group_of_site: np.ndarray, budget_rows: int) -> DishBlocks:
    """Blocks of whole dish groups of the chunk files ``parts`` of dish_steps, consecutive groups
    in order of first row, each of about ``budget_rows`` rows (one group where a group is larger;
    at least two groups a block, see :func:`blocks_by_count`). One pass over the ``site`` column."""
    n_sites = len(group_of_site)
    rows_per_site, first_row = count_keys(parts, "site", n_sites)
    seen = np.flatnonzero(first_row >= 0)
    group_names, group_of = np.unique(group_of_site[seen].astype(str), return_inverse=True)
    group_first = np.full(len(group_names), np.iinfo(np.int64).max)
    np.minimum.at(group_first, group_of, first_row[seen])
    group_rows = np.bincount(group_of, weights=rows_per_site[seen], minlength=len(group_names)).astype(np.int64)
    order = np.argsort(group_first, kind="stable")  # groups in order of first row
    block_of_group = np.empty(len(group_names), dtype=np.int64)
    block_of_group[order] = blocks_by_count(group_rows[order], budget_rows)
    block_of_site = np.full(n_sites, -1, dtype=np.int64)
    block_of_site[seen] = block_of_group[group_of]
    n_blocks = int(block_of_group.max()) + 1 if len(group_names) else 0
    return DishBlocks(block_of_site=block_of_site, n_blocks=n_blocks, first_row=first_row,
                      group_names=group_names, group_first=group_first)


def _dish_service_in_blocks(parts: list, columns: list[str], group_of_site: np.ndarray, weights: np.ndarray, cal,
                            states: tuple[str, ...], name: np.ndarray, budget_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_dish_service` of the whole table, a block of whole dish groups at a time; rows of
    the result in order of each dish's (group's) first row in the table, as groupby gives them."""
    blocks = dish_group_blocks(parts, group_of_site, budget_rows)
    dishes, groups = [], []
    for table in iter_blocks(parts, columns, blocks.block_of, blocks.n_blocks):
        d = table.to_pandas()
        if not len(d):
            continue
        per_dish, per_group = _dish_service(_dish_frame(d, group_of_site, weights, cal), states, name)
        dishes.append(per_dish)
        groups.append(per_group)
        del d, table
    per_dish = _in_first_row_order(dishes, "site", blocks.first_row)
    per_group = _in_first_row_order(groups, "group", dict(zip(blocks.group_names, blocks.group_first)))
    return per_dish, per_group


def _in_first_row_order(frames: list[pd.DataFrame], key: str, first) -> pd.DataFrame:
    """The blocks' rows joined, ordered by the first table row of their ``key`` (``first``: an
    array by site number, or a dict by group name)."""
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    firsts = (first[out[key].to_numpy()] if isinstance(first, np.ndarray)
              else np.array([first[k] for k in out[key]], dtype=np.int64))
    return out.iloc[np.argsort(firsts, kind="stable")].reset_index(drop=True)
