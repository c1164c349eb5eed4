"""A scenario against its baseline (the same scenario without events): what the events cost.

Per group (city or region) of dishes: availability with and without the events, the lost time
by cause, the RTT median of both and its change (ms), by what users were online (ground, satellite, both, none), what the
satellite saved during ground outages, and how long service took to come back after each event
ended (over the dishes the event struck, not every dish down then).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..errors import InputError
from ..states import OUTAGE_STATES
from .baseline import sites_mismatch
from .blocks import iter_blocks
from .calendar import calendar
from .contract import EVENTS_FILE, read_contract
from .quantiles import group_quantiles
from .store import ResultStore
from .summary import BUDGET_ROWS, dish_group_blocks, row_dishes, site_weights
from .timeline import online_shares

#: The states that count as lost time (leonet.states: CONGESTED is online, not lost).
LOST_STATES = OUTAGE_STATES
_EXTRA = ("online_by", "ground_online", "ground_level", "downlink_bps", "demand_down_bps")


class _Reader:
    """How the dish frames of one results folder are made: its columns, groups, weights, calendar."""

    def __init__(self, store: ResultStore):
        self.store = store
        sites = store.read("sites", columns=["name", "group"]).to_pandas()
        grp = sites["group"].to_numpy()
        self.group_of_site = np.where(grp == "", "dish", grp)
        self.parts = store.parts("dish_steps")
        names = pq.read_schema(self.parts[0]).names if self.parts else store.read("dish_steps").column_names
        # gateway and pop: which dishes a gateway or PoP loss touched (their route in the baseline)
        self.columns = (["t", "site", "state", "rtt_ms", "gateway", "pop"] + [c for c in _EXTRA if c in names]
                        + (["delivered"] if "delivered" in names else []))
        self.rows = sum(pq.ParquetFile(p).metadata.num_rows for p in self.parts)
        self.weights = site_weights(store)
        self.cal = calendar(store)

    def frame(self, d: pd.DataFrame) -> pd.DataFrame:
        """Rows of dish_steps as the comparison reads them: state names, group, dish and time weights."""
        d["state"] = d["state"].astype(str)
        if "online_by" in d:
            d["online_by"] = d["online_by"].astype(str)
        grp = self.group_of_site[d["site"].to_numpy()] if len(d) else np.zeros(0, dtype=object)
        d["group"] = grp
        d["dishes"] = self.weights[d["site"].to_numpy()] if len(d) else np.zeros(0)   # the site's dishes
        d["w"] = row_dishes(self.weights, d["site"].to_numpy(), d["delivered"] if "delivered" in d else None)
        # The time each row stands for, in coarse steps (1.0 for a step of step_s): dish-time weights.
        d["k"] = self.cal.weight_of(d["t"].astype("int64").to_numpy()) if len(d) else np.zeros(0)
        d["wk"] = d["w"] * d["k"]
        return d


def _dish_frame(store: ResultStore) -> pd.DataFrame:
    """The whole of dish_steps as one dish frame (for tests and small tables)."""
    r = _Reader(store)
    return r.frame(store.read("dish_steps", columns=r.columns).to_pandas())


def _dish_frames(stores: list[ResultStore], budget_rows: int = BUDGET_ROWS) -> Iterator[list[pd.DataFrame]]:
    """The dish frames of each of ``stores``, a block of whole dish groups at a time: the blocks of
    the first store's groups (:func:`leonet.results.summary.dish_group_blocks`), the same groups
    for every store (a baseline has its scenario's groups; a group the first store lacks is
    left out). Tables of at most ``budget_rows`` rows each are read whole (one block). Every
    figure per group comes from that group's rows in table order, so the figures are those of the
    whole tables, and memory stays flat in the length of the run."""
    readers = [_Reader(s) for s in stores]
    if all(r.rows <= budget_rows for r in readers):
        yield [r.frame(r.store.read("dish_steps", columns=r.columns).to_pandas()) for r in readers]
        return
    first = readers[0]
    blocks = dish_group_blocks(first.parts, first.group_of_site, budget_rows)
    seen = np.flatnonzero(blocks.block_of_site >= 0)  # sites with rows: every one of a group is in its block
    block_of_group = dict(zip(first.group_of_site[seen].astype(str).tolist(), blocks.block_of_site[seen].tolist()))

    def block_of(reader: _Reader):
        of_site = np.array([block_of_group.get(str(g), -1) for g in reader.group_of_site], dtype=np.int64)
        return lambda table: of_site[table.column("site").to_numpy()]

    iters = [iter_blocks(r.parts, r.columns, block_of(r), blocks.n_blocks) for r in readers]
    for tables in zip(*iters):
        yield [r.frame(t.to_pandas()) for r, t in zip(readers, tables)]


def _wmean(d: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """Dish- and duration-weighted share of the time where ``mask`` holds, per group."""
    return (d["wk"] * mask).groupby(d["group"], sort=False).sum() / d.groupby("group", sort=False)["wk"].sum()


def _rtt_quantile(d: pd.DataFrame, q: float) -> pd.Series:
    """The q-quantile (ms) of the finite RTTs per group, each dish-step weighted by its dishes and
    the time its step stands for (``wk``; :mod:`.quantiles`: the figures of the service summary),
    its dishes (``w``, where the frame has it) counted as that many dishes (frequency weights)."""
    ok = d[np.isfinite(d["rtt_ms"].to_numpy(dtype=np.float64))]
    return group_quantiles(ok["group"].to_numpy(), ok["rtt_ms"].to_numpy(), ok["wk"].to_numpy(), {"q": q},
                           median=True, counts=_dish_counts(ok))["q"].rename(None)


def _dish_counts(d: pd.DataFrame) -> np.ndarray | None:
    """The dishes each row's site stands for (``w``: frequency weights of the quantiles, N
    identical dishes being N observations; :mod:`.quantiles`), None where the frame lacks them."""
    return d["w"].to_numpy() if "w" in d else None


def resilience_by_group(store: ResultStore, step_s: float, budget_rows: int = BUDGET_ROWS) -> pd.DataFrame:
    """Per group: dishes, availability, lost dish-seconds by cause, online-by shares (as %).

    Every share and every lost time weights a dish-step by the time the step stands for
    (:mod:`leonet.results.calendar`), so windowed calendars count seconds, not steps. Computed a
    block of whole dish groups at a time (:func:`_dish_frames`)."""
    return pd.concat([_resilience(d, step_s) for (d,) in _dish_frames([store], budget_rows)])


def _resilience(d: pd.DataFrame, step_s: float) -> pd.DataFrame:
    """:func:`resilience_by_group` of the dish frame ``d`` (every row of its groups)."""
    by = d["group"]
    # the sites' dishes (a count, not their dish-time: with deliveries a site's first row holds few)
    dishes = d.drop_duplicates("site").groupby("group", sort=False)["dishes" if "dishes" in d else "w"].sum()
    out = pd.DataFrame({"dishes": dishes.round().astype(int), "availability": _wmean(d, ~d["state"].isin(LOST_STATES))})
    for cause in LOST_STATES:
        out[f"lost_s_{cause}"] = (d["wk"] * (d["state"] == cause)).groupby(by, sort=False).sum() * step_s
    if "ground_level" in d or "online_by" in d:
        if "ground_level" in d:
            # the share of each site's users with ground internet, as the report's day by day counts
            # it (an ISP outage at 15 % takes 85 % of its customers, not the majority's all or none)
            sat = ~d["state"].isin(LOST_STATES).to_numpy()
            shares = online_shares(sat, d["ground_level"].to_numpy(dtype=np.float64))
        else:  # results written before ground_level: the majority of each site's users
            shares = {how: (d["online_by"] == how).to_numpy() for how in ("both", "satellite", "ground", "none")}
        for how in ("both", "satellite", "ground", "none"):
            out[f"online_{how}"] = _wmean(d, shares[how])
        # Satellite saved: dish-seconds online by satellite only (ground down, dish connected).
        out["saved_by_satellite_s"] = (d["wk"] * shares["satellite"]).groupby(by, sort=False).sum() * step_s
    if "downlink_bps" in d:  # dish- and duration-weighted throughput and unmet demand
        w = d["wk"]
        out["down_mean_mbps"] = (w * d["downlink_bps"]).groupby(by, sort=False).sum() / d.groupby(by, sort=False)["wk"].sum() / 1e6
        demand = (w * d["demand_down_bps"]).groupby(by, sort=False).sum()
        # NaN where the group wanted nothing: unmet share of no demand is undefined, not 100 %
        out["unmet_down_share"] = 1.0 - (w * d["downlink_bps"]).groupby(by, sort=False).sum() / demand.where(demand > 0)
    out["rtt_p50_ms"] = _rtt_quantile(d, 0.5)
    out["rtt_p95_ms"] = _rtt_quantile(d, 0.95)
    return out


#: The state each event type leaves a dish in (for "time to recover after the event ends").
#: (An isp_outage or a terrestrial_outage takes ground internet, not a dish state: no recovery time.)
EVENT_STATE = {"core_outage": "NO_PATH", "gateway_loss": "NO_PATH", "pop_loss": "NO_PATH", "fibre_cut": "NO_PATH",
               "dish_bricking": "OFFLINE", "power_cut": "OFFLINE", "geofence": "GEOFENCED", "jamming": "JAMMED",
               "demand_surge": "CONGESTED"}
#: Event types whose targets in events.json (``sites``) are the dishes they act on.
DISH_TARGETS = ("dish_bricking", "power_cut", "geofence", "demand_surge")
#: Event types that strike ground sites (``sites``; a fibre cut's ``gateway_fibres`` and its
#: backbone links' PoPs): they act on the dishes routed through them.
GROUND_TARGETS = ("gateway_loss", "pop_loss", "fibre_cut")
#: Event types taken to act on every dish they leave in their state: a core outage (events.json
#: names every PoP) and jamming (its area's dishes are not listed; only a jammer leaves one JAMMED).
EVERY_DISH = ("core_outage", "jamming")


def rtt_change_by_group(scenario: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """RTT of a scenario against its baseline per group, every figure in ms.

    ``scenario`` and ``baseline`` are dish frames (columns t, site, group, rtt_ms: NaN RTT where a
    dish was not connected; wk: each dish-step's weight, dishes x its step's duration in coarse
    steps, :class:`_Reader`). Per group:

    * ``rtt_p50_ms`` / ``rtt_p50_ms_baseline``: the median RTT over the connected dish-time of
      each run (dish-steps weighted by ``wk``), and ``rtt_p50_change_ms`` = their difference
      (what "the median moved from 17.4 to 21.9 ms" says: +4.5);
    * ``rtt_matched_mean_change_ms`` / ``rtt_matched_p50_change_ms``: the mean and median, over the
      (step, dish) pairs connected in both runs, of scenario RTT - baseline RTT (the same dishes at
      the same instants, so dishes that dropped out do not move it). The median of differences is
      not the difference of medians: most steps of most dishes are unchanged, so it is often 0.
    """
    sa = _rtt_quantile(scenario, 0.5)
    sb = _rtt_quantile(baseline, 0.5)
    # every group connected in either run: one never online in the scenario keeps its baseline's median
    groups = sa.index.append(sb.index[~sb.index.isin(sa.index)])
    out = pd.DataFrame({"rtt_p50_ms": sa.reindex(groups), "rtt_p50_ms_baseline": sb.reindex(groups)})
    out["rtt_p50_change_ms"] = out["rtt_p50_ms"] - out["rtt_p50_ms_baseline"]
    cols = ["t", "site", "group", "rtt_ms", "wk"] + (["w"] if "w" in scenario else [])
    both = scenario[cols].merge(baseline[["t", "site", "rtt_ms"]], on=["t", "site"], suffixes=("", "_base"))
    both = both[np.isfinite(both["rtt_ms"]) & np.isfinite(both["rtt_ms_base"])]
    # weighted as every other figure: a dish-step by its dishes and the time its step stands for
    diff = both["rtt_ms"] - both["rtt_ms_base"]
    by = both["group"]
    mean = (both["wk"] * diff).groupby(by, sort=False).sum() / both["wk"].groupby(by, sort=False).sum()
    out["rtt_matched_mean_change_ms"] = mean.reindex(out.index)
    p50 = group_quantiles(by.to_numpy(), diff.to_numpy(), both["wk"].to_numpy(), {"q": 0.5}, median=True,
                          counts=_dish_counts(both))["q"]
    out["rtt_matched_p50_change_ms"] = p50.reindex(out.index)
    return out


def compare(scenario_store: ResultStore, baseline_store: ResultStore,
            event_ends: dict[str, tuple[int, str]] | None = None, budget_rows: int = BUDGET_ROWS) -> pd.DataFrame:
    """Scenario vs baseline per group: availability of both (shares, 0..1) and its change (a
    share: x100 for percentage points), RTT of both and its change in ms
    (:func:`rtt_change_by_group`), lost time by cause in the scenario, and the median time to
    recover after each event's end.

    ``event_ends`` maps an event name to (end instant ns, event type); recovery counts only the
    dishes the event touched (:func:`event_targets`). Both runs are read a block of whole dish
    groups at a time (the same groups from each, :func:`_dish_frames`), so memory stays flat in
    the length of the run; every figure of a group comes from its own rows.

    The two runs must have the same sites, row for row (dishes are paired by their row in each
    run's sites): other sites raise :class:`~leonet.errors.InputError` naming the first rows that
    differ (:func:`leonet.results.baseline.sites_mismatch`)."""
    other_sites = sites_mismatch(scenario_store, baseline_store)
    if other_sites:
        raise InputError(f"{other_sites}: its dishes would be compared with other dishes of the same row "
                         "(compare a run with the baseline of the same scenario: `leonet run SCENARIO --baseline`)",
                         source=str(baseline_store.root))
    step_s = scenario_store.manifest.step_s
    ends = {name: (end_ns, typ) for name, (end_ns, typ) in (event_ends or {}).items() if typ in EVENT_STATE}
    instants = _instants(scenario_store) if ends else np.zeros(0, dtype=np.int64)
    targets = event_targets(scenario_store, ends)
    pieces = []
    for da, db in _dish_frames([scenario_store, baseline_store], budget_rows):
        if not len(da):
            continue
        pieces.append(_compare_block(da, db, step_s, ends, instants, targets))
    return pd.concat(pieces) if pieces else _compare_block(_dish_frame(scenario_store), _dish_frame(baseline_store),
                                                            step_s, ends, instants, targets)


def event_targets(store: ResultStore, ends: dict[str, tuple[int, str]]) -> dict[str, np.ndarray | None]:
    """Per event of ``ends`` (name -> (end ns, type)): int64 site numbers (rows of sites.parquet)
    of what it struck, from the run's ``events.json``: the dishes of a :data:`DISH_TARGETS` event,
    the gateways and PoPs of a :data:`GROUND_TARGETS` one; None for an :data:`EVERY_DISH` event."""
    if not ends:
        return {}
    records = {e.name: e for e in read_contract(store).events}
    names = store.read("sites", columns=["name"]).column("name").to_pylist()
    number = {str(n): k for k, n in enumerate(names)}
    out: dict[str, np.ndarray | None] = {}
    for name, (_, typ) in ends.items():
        e = records.get(name)
        if e is None:  # recovery would be charged to dishes the event may never have touched
            raise InputError(f"has no event {name!r} (its targets tell which dishes recover from it)",
                             source=str(store.root / EVENTS_FILE))
        if typ in DISH_TARGETS:
            hit = list(e.sites)
        elif typ in GROUND_TARGETS:
            hit = [*e.sites, *e.gateway_fibres, *(p for link in e.backbone_links for p in link)]
        elif typ in EVERY_DISH:
            out[name] = None
            continue
        else:  # a type of EVENT_STATE nobody said the dishes of
            raise ValueError(f"event type {typ!r} has a recovery state but no rule for the dishes it struck")
        unknown = [h for h in hit if h not in number]
        if unknown:
            raise InputError(f"event {name!r} names sites the run does not have: {unknown[:5]}",
                             source=str(store.root / EVENTS_FILE))
        out[name] = np.unique(np.array([number[h] for h in hit], dtype=np.int64))
    return out


def _instants(store: ResultStore) -> np.ndarray:
    """int64 (sorted, unique) the instants (ns) of the rows of dish_steps, chunk file by chunk file."""
    seen = [np.unique(pq.read_table(p, columns=["t"]).column("t").cast("int64").to_numpy())
            for p in store.parts("dish_steps")]
    return np.unique(np.concatenate(seen)) if seen else np.zeros(0, dtype=np.int64)


def _compare_block(da: pd.DataFrame, db: pd.DataFrame, step_s: float, ends: dict, instants: np.ndarray,
                   targets: dict) -> pd.DataFrame:
    """:func:`compare` of the dish frames of some whole groups of both runs (``targets``:
    :func:`event_targets`)."""
    a = _resilience(da, step_s)
    b = _resilience(db, step_s)
    out = pd.DataFrame({
        "dishes": a["dishes"],
        "availability": a["availability"],
        "availability_baseline": b["availability"].reindex(a.index),
    })
    out["availability_change"] = out["availability"] - out["availability_baseline"]
    rtt = rtt_change_by_group(da, db).reindex(a.index)
    for c in rtt.columns:
        out[c] = rtt[c]
    for c in a.columns:
        if c.startswith("lost_s_") or c.startswith("online_") or c == "saved_by_satellite_s":
            out[c] = a[c]
    for c in ("down_mean_mbps", "unmet_down_share"):
        if c in a and c in b:
            out[c] = a[c]
            out[f"{c}_baseline"] = b[c].reindex(a.index)
    for name, (end_ns, typ) in ends.items():
        before, after = instants[instants < end_ns], instants[instants >= end_ns]
        last_t = int(before[-1]) if len(before) and len(after) else None
        hit = None if last_t is None else _touched(db, last_t, typ, targets[name])
        out[f"recover_s_{name}"] = _recovery_s(da, end_ns, EVENT_STATE[typ], last_t, hit)
    return out


def _touched(db: pd.DataFrame, last_t: int, typ: str, struck: np.ndarray | None) -> np.ndarray:
    """int64 site numbers of the dishes an event touched (:func:`event_targets`; None: every
    dish): the dishes it names; for a gateway or PoP loss, those whose route in the baseline
    (``db``, the run without events) at ``last_t`` goes through a struck gateway or PoP (what the
    event took from them). Either way without the dishes that were out in the baseline then too
    (a sold-out part shares its site's power cut, but the cut did not take its service: it read
    'not recovered' for ever)."""
    at = db[(db["t"].astype("int64").to_numpy() == last_t)]
    sites = at["site"].to_numpy()
    keep = ~at["state"].isin(LOST_STATES).to_numpy()
    if struck is not None:
        keep &= (np.isin(at["gateway"].to_numpy(), struck) | np.isin(at["pop"].to_numpy(), struck)
                 if typ in GROUND_TARGETS else np.isin(sites, struck))
    return np.unique(sites[keep]).astype(np.int64)


def _recovery_s(d: pd.DataFrame, end_ns: int, state: str, last_t: int | None,
                touched: np.ndarray | None) -> pd.Series:
    """Median, over the dishes the event touched (``touched``: site numbers, :func:`_touched`) and had left in ``state`` at ``last_t`` (the run's last instant before its
    end; None: the run has no step before it or none after), of the time (s) from the end until
    each is back: online again (not in an outage state), or, for a state that is not an outage
    (CONGESTED), CONNECTED (inf if one never recovers within the run). A dish with no dish-time
    at ``last_t`` (``w`` 0: not yet delivered) was not left down. A group with no such dish has
    no entry (another cause may have left its dishes in the same state: not this event's)."""
    if last_t is None:
        return pd.Series(dtype=float)
    t_ns = d["t"].astype("int64").to_numpy()
    after = d[t_ns >= end_ns]
    down = (t_ns == last_t) & (d["state"] == state).to_numpy()
    if "w" in d:  # a dish not yet delivered then (no dish-time) was not down: it was not there
        down &= d["w"].to_numpy() > 0
    if touched is not None:
        down &= np.isin(d["site"].to_numpy(), touched)
    down_at_end = d[down]["site"]
    res = {}
    for group, g in after[after["site"].isin(down_at_end)].groupby("group", sort=False):
        times = []
        for _, s in g.groupby("site"):
            back = ~s["state"].isin(LOST_STATES) if state in LOST_STATES else s["state"] == "CONNECTED"
            ok = s[back]["t"].astype("int64")
            times.append((ok.min() - end_ns) / 1e9 if len(ok) else np.inf)
        res[group] = float(np.median(times))
    return pd.Series(res, dtype=float)
