"""One dish over the run, read from the ``dish_steps`` chunk files: each chunk's per-site row
index (:class:`DishChunk`), one dish's rows (:class:`DishRows`), and the reading and caching of
both (:class:`DishRowsReader`, a part of :class:`~leonet.app.run.RunData`).

Chunk files are opened by integer chunk number, never by a path from a caller; both caches are
bounded in bytes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import states
from .bytecache import ByteBudgetLRU
from .errors import NotFound


def dish_states(leonet_states) -> np.ndarray:
    """leonet states -> the dish's states (object array), unknown ones verbatim."""
    return np.array([states.DISH_WORD.get(s, s) for s in leonet_states], dtype=object)


def ns_column(col: pa.ChunkedArray) -> np.ndarray:
    """A timestamp column as int64 ns."""
    return col.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)


#: At most this many bytes of dish_steps chunks are kept in memory by the app.
CHUNK_CACHE_BYTES = 1 << 30
#: At most this many bytes (estimated, :attr:`DishRows.nbytes`) of per-dish rows are kept in
#: memory by the app, least recently used evicted first: one dish over a day at 1 s is ~25 MB, so
#: a count bound alone would let a long run's cache grow to many GB.
DISH_CACHE_BYTES = 512 << 20


@dataclass(frozen=True)
class DishChunk:
    """One chunk of dish_steps, sorted by (site, t): ``cols`` name -> (R,) array, ``path`` (R,)
    lists of satellite indices, ``offsets`` (sites + 1,): site s has rows offsets[s]:offsets[s+1]."""

    cols: dict
    path: list
    offsets: np.ndarray
    nbytes: int

    @classmethod
    def from_table(cls, t: pa.Table, n_sites: int) -> DishChunk:
        t = t.take(pc.sort_indices(t, [("site", "ascending"), ("t", "ascending")]))
        cols = {}
        for name in t.column_names:
            if name == "path":
                continue
            col = t.column(name)
            if name in ("t", "slot_start"):
                cols[name] = ns_column(col)
            elif name == "state":
                cols[name] = np.asarray(col.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)
            elif name in ("rtt_ms", "downlink_bps", "uplink_bps", "drop_rate", "speedtest_down_bps", "speedtest_up_bps"):
                cols[name] = col.to_numpy(zero_copy_only=False).astype(np.float64)
            else:
                cols[name] = col.to_numpy(zero_copy_only=False)
        site = cols["site"]
        offsets = np.searchsorted(site, np.arange(n_sites + 1)).astype(np.int64)
        has_path = "path" in t.column_names
        nbytes = sum(a.nbytes for a in cols.values()) + (64 * t.num_rows + t.column("path").nbytes if has_path else 0)
        return cls(cols, t.column("path").to_pylist() if has_path else [], offsets, int(nbytes))


#: leonet states in which a dish is online (served): every state that is not an outage.
ONLINE_STATES: tuple[str, ...] = tuple(s.name for s in states.STATES if not s.outage)


@dataclass(frozen=True)
class DishRows:
    """One dish over the run, from ``dish_steps``, sorted by step; every array is (R,)."""

    step: np.ndarray          # int64 step numbers present (all of them for a finished run)
    state: np.ndarray         # object, leonet states
    dish_state: np.ndarray    # object, the dish's states (leonet.states.DISH_WORD)
    rtt_ms: np.ndarray        # float64, NaN when not connected
    serving_sat: np.ndarray   # int32, -1 for none
    gateway: np.ndarray       # int32 site index, -1
    pop: np.ndarray           # int32 site index, -1
    slot_start_ns: np.ndarray  # int64
    isl_hops: np.ndarray
    hops: np.ndarray
    path: list                # list of lists of satellite indices
    path_changed: np.ndarray
    rerouted_mid_slot: np.ndarray
    downlink_bps: np.ndarray | None  # float64, None when the run did not model capacity
    uplink_bps: np.ndarray | None
    drop_rate: np.ndarray | None = None  # float64 0..1, the service model's share of pings lost
    speedtest_down_bps: np.ndarray | None = None  # float64, the speed test (capacity only); None without it
    speedtest_up_bps: np.ndarray | None = None

    @property
    def connected(self) -> np.ndarray:
        return self.dish_state == "CONNECTED"

    @property
    def online(self) -> np.ndarray:
        """bool (R,): rows in an online state (not an outage, :mod:`leonet.states`): only there is a
        dish served, whatever satellite the engine stored in ``serving_sat`` (the one in view)."""
        return np.isin(self.state.astype(str), ONLINE_STATES)

    @property
    def served_sat(self) -> np.ndarray:
        """int32 (R,): the serving satellite where the dish is online, -1 elsewhere (a SOLD_OUT,
        OFFLINE or NO_PATH dish is served by none, though the engine stores the one in view)."""
        return np.where(self.online, self.serving_sat, -1).astype(self.serving_sat.dtype)

    def row_of(self, step: int) -> int:
        k = int(np.searchsorted(self.step, step))
        if k >= len(self.step) or self.step[k] != step:
            raise NotFound(f"step {step} was not computed for this dish (the run is incomplete)")
        return k

    def window(self, start: int, end: int) -> slice:
        return slice(int(np.searchsorted(self.step, start)), int(np.searchsorted(self.step, end)))

    @cached_property
    def nbytes(self) -> int:
        """Estimated memory held: the arrays' buffers, plus the Python objects an object array or
        the ``path`` lists point to (``ndarray.nbytes`` counts only the pointers)."""
        total = 0
        for v in vars(self).values():
            if isinstance(v, np.ndarray):
                # an object array's elements (state strings) are Python objects of ~56 bytes each
                total += v.nbytes + (56 * v.size if v.dtype == object else 0)
        # a list: ~56 bytes of header plus an 8-byte pointer and a ~28-byte int per satellite
        total += 8 * len(self.path) + sum(56 + 36 * len(p) for p in self.path if p is not None)
        return int(total)


class DishRowsReader:
    """The reading of ``dish_steps`` (and ``site_steps``) chunk files, with their caches: a part of
    :class:`~leonet.app.run.RunData`, which gives it the opened run (``store``, ``manifest``,
    ``sites``, ``tables``, the time grid, ``has_network``, ``site_of_dish``) and calls
    :meth:`_open_dish_caches` when it opens."""

    def _open_dish_caches(self) -> None:
        """The empty caches of dish rows and chunk files (and their locks)."""
        self._lock = threading.Lock()          # the per-dish cache
        self._dish_cache: ByteBudgetLRU[DishRows] = ByteBudgetLRU(DISH_CACHE_BYTES)   # by site
        self._chunks: ByteBudgetLRU[DishChunk] = ByteBudgetLRU(CHUNK_CACHE_BYTES)   # by (table, chunk)
        self._chunk_locks: dict[tuple[str, int], threading.Lock] = {}

    def dish_site(self, dish_id: str) -> int:
        site = self.site_of_dish.get(dish_id)
        if site is None:
            raise NotFound(f"no dish {dish_id!r} in this run ({len(self.dish_sites):,} dish sites; "
                           "list them at /api/v1/dishes)")
        return site

    def need_network(self) -> None:
        if not self.has_network:
            raise NotFound("this run has no network results (table dish_steps); run it with network.enabled: true")

    def dish_rows(self, site: int) -> DishRows:
        """All steps of one dish (cached), gathered from the per-chunk site indexes
        (:meth:`dish_chunk`): each chunk file of dish_steps is read once, for every dish."""
        self.need_network()
        with self._lock:
            cached = self._dish_cache.get(site)
            if cached is not None:
                return cached
        pieces = []
        for c in range(self.manifest.chunks_total):
            ch = self.dish_chunk(c)
            if ch is not None:
                a, b = int(ch.offsets[site]), int(ch.offsets[site + 1])
                if b > a:
                    pieces.append((ch, a, b))

        def cat(name):
            arrays = [ch.cols[name][a:b] for ch, a, b in pieces]
            return np.concatenate(arrays) if arrays else self._empty_column(name)

        tn = cat("t")
        state = cat("state")
        rows = DishRows(
            step=(tn - self.start_ns) // self.step_ns if self.uniform else self.cal.index_of(tn),
            state=state, dish_state=dish_states(state),
            rtt_ms=cat("rtt_ms"), serving_sat=cat("serving_sat"), gateway=cat("gateway"), pop=cat("pop"),
            slot_start_ns=cat("slot_start"), isl_hops=cat("isl_hops"), hops=cat("hops"),
            path=[p for ch, a, b in pieces for p in ch.path[a:b]],
            path_changed=cat("path_changed"), rerouted_mid_slot=cat("rerouted_mid_slot"),
            downlink_bps=cat("downlink_bps") if "downlink_bps" in self._dish_columns else None,
            uplink_bps=cat("uplink_bps") if "uplink_bps" in self._dish_columns else None,
            drop_rate=cat("drop_rate") if "drop_rate" in self._dish_columns else None,
            speedtest_down_bps=cat("speedtest_down_bps") if "speedtest_down_bps" in self._dish_columns else None,
            speedtest_up_bps=cat("speedtest_up_bps") if "speedtest_up_bps" in self._dish_columns else None,
        )
        with self._lock:
            self._dish_cache.put(site, rows)     # another thread may have gathered it too: replaced
        return rows

    def _empty_column(self, name: str) -> np.ndarray:
        kinds = {"t": np.int64, "slot_start": np.int64, "state": object, "rtt_ms": np.float64,
                 "downlink_bps": np.float64, "uplink_bps": np.float64, "drop_rate": np.float64,
                 "speedtest_down_bps": np.float64, "speedtest_up_bps": np.float64,
                 "path_changed": bool, "rerouted_mid_slot": bool}
        return np.zeros(0, dtype=kinds.get(name, np.int32))

    def dish_chunk(self, chunk: int, table: str = "dish_steps") -> DishChunk | None:
        """One chunk file of dish_steps (or site_steps), the columns the app reads, sorted by
        (site, t) with each site's row range (cached, at most ``CHUNK_CACHE_BYTES`` of chunks;
        concurrent callers of one chunk wait for the first reader). None for a chunk the run did
        not compute."""
        key = (table, chunk)
        with self._lock:
            cached = self._chunks.get(key)
            if cached is not None:
                return cached
            lock = self._chunk_locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._chunks:
                    return self._chunks.get(key)
            self.store.parts(table)  # verified against the manifest (once)
            path = self.store.chunk_path(table, chunk)
            if not path.exists():
                return None
            columns = self._dish_columns if table == "dish_steps" else self._site_columns
            t = pq.read_table(path, columns=columns)
            ch = DishChunk.from_table(t, len(self.sites))
            with self._lock:
                self._chunks.put(key, ch)
            return ch

    @cached_property
    def _site_columns(self) -> list[str]:
        have = set(pq.read_schema(self.store.parts("site_steps")[0]).names)
        return [c for c in ("t", "site", "n_visible", "n_clear") if c in have]

    def sats_in_view(self, site: int, step: int) -> tuple[int | None, int | None] | None:
        """(satellites in view, of them clear of the horizon mask) of a site at a step, from the
        cached site_steps chunk; None when the run has no such row."""
        if "site_steps" not in self.tables:
            return None
        ch = self.dish_chunk(int(step) // self.chunk_steps, "site_steps")
        if ch is None:
            return None
        a, b = int(ch.offsets[site]), int(ch.offsets[site + 1])
        k = a + int(np.searchsorted(ch.cols["t"][a:b], self.t_ns(step)))
        if k >= b or ch.cols["t"][k] != self.t_ns(step):
            return None
        clear = ch.cols.get("n_clear")
        return int(ch.cols["n_visible"][k]), (int(clear[k]) if clear is not None and np.isfinite(clear[k]) else None)

    @cached_property
    def _dish_columns(self) -> list[str]:
        """The dish_steps columns the app reads (throughput and the speed test only where the run
        modelled capacity)."""
        want = ["t", "site", "state", "rtt_ms", "serving_sat", "gateway", "pop", "slot_start", "isl_hops", "hops",
                "path", "path_changed", "rerouted_mid_slot", "downlink_bps", "uplink_bps", "drop_rate",
                "speedtest_down_bps", "speedtest_up_bps"]
        have = set(pq.read_schema(self.store.parts("dish_steps")[0]).names)
        return [c for c in want if c in have]

    @cached_property
    def has_deliveries(self) -> bool:
        """Whether dish_steps holds each row's delivered share (a ``deliveries`` event)."""
        parts = self.store.parts("dish_steps") if self.has_network else []
        return bool(parts) and "delivered" in pq.read_schema(parts[0]).names
