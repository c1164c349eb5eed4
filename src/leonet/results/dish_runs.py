"""Runs of each dish's state and serving satellite over consecutive steps, chunk file by chunk file.

A run is a stretch of consecutive steps of one site with one key (a state, or a serving
satellite): (site, key, first step, last step). The CZML export draws one coloured interval per
state run and one link per serving run. They are found one chunk file at a time (its rows sorted
by site, then step) and joined across chunk boundaries (a chunk holds a run of consecutive steps,
and the files come in step order): what is held is one chunk's rows and the runs, never the
dish_steps table, so memory grows with the number of changes, not with the length of the run.
The runs are those of the whole table sorted by (site, step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .calendar import Calendar
from .store import ResultStore


@dataclass(frozen=True)
class Runs:
    """site, key, first, last: int64 (R,) each (first and last step, inclusive); sorted by
    (site, first)."""

    site: np.ndarray
    key: np.ndarray
    first: np.ndarray
    last: np.ndarray


@dataclass(frozen=True)
class DishRuns:
    """states : runs of the state code (an index into ``state_names``; -1 for a missing state).
    links : runs of the serving satellite (rows with a satellite in 0..n_sats-1 only).
    state_names : object (K + 1,) the state names in order of first appearance, then "?" (code -1).
    serving_counts : int64 (n_sats,) dish-steps served by each satellite."""

    states: Runs
    links: Runs
    state_names: np.ndarray
    serving_counts: np.ndarray


def runs_of(keys: list[np.ndarray], step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) row of each run of rows with equal keys and consecutive steps."""
    n = len(step)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    brk = np.zeros(n, dtype=bool)
    brk[0] = True
    brk[1:] |= np.diff(step) != 1
    for k in keys:
        brk[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(brk)
    return starts, np.r_[starts[1:], n]


class _Joiner:
    """Runs of successive chunks (each sorted by site, then first step; chunks in step order),
    joined where a site's last run of the chunks so far goes on in the next chunk."""

    def __init__(self, n_sites: int):
        self.has = np.zeros(n_sites, dtype=bool)  # the site's last run so far (still open)
        self.key = np.zeros(n_sites, dtype=np.int64)
        self.first = np.zeros(n_sites, dtype=np.int64)
        self.last = np.zeros(n_sites, dtype=np.int64)
        self.done: list[tuple[np.ndarray, ...]] = []

    def add(self, site: np.ndarray, key: np.ndarray, first: np.ndarray, last: np.ndarray) -> None:
        if not len(site):
            return
        head = np.r_[True, site[1:] != site[:-1]]  # each site's first run in this chunk
        tail = np.r_[site[1:] != site[:-1], True]  # and its last
        hs = site[head]
        join = self.has[hs] & (self.key[hs] == key[head]) & (self.last[hs] + 1 == first[head])
        first = first.copy()
        first[np.flatnonzero(head)[join]] = self.first[hs[join]]
        closed = hs[self.has[hs] & ~join]  # open runs that end before this chunk's
        self.done.append((closed, self.key[closed], self.first[closed], self.last[closed]))
        self.done.append((site[~tail], key[~tail], first[~tail], last[~tail]))
        ts = site[tail]
        self.has[ts] = True
        self.key[ts], self.first[ts], self.last[ts] = key[tail], first[tail], last[tail]

    def runs(self) -> Runs:
        s = np.flatnonzero(self.has)
        parts = [*self.done, (s, self.key[s], self.first[s], self.last[s])]
        site, key, first, last = (np.concatenate([p[k] for p in parts]).astype(np.int64) for k in range(4))
        order = np.lexsort((first, site))
        return Runs(site=site[order], key=key[order], first=first[order], last=last[order])


def dish_runs(store: ResultStore, cal: Calendar, n_sites: int, n_sats: int) -> DishRuns | None:
    """The state and serving runs of ``dish_steps`` (None when it has no row)."""
    names: list[str] = []
    states, links = _Joiner(n_sites), _Joiner(n_sites)
    serving_counts = np.zeros(n_sats, dtype=np.int64)
    rows = 0
    for part in store.parts("dish_steps"):
        table = pq.read_table(part, columns=["t", "site", "state", "serving_sat"])
        if not table.num_rows:
            continue
        rows += table.num_rows
        step = cal.index_of(table.column("t").cast(pa.int64()).to_numpy())
        site = table.column("site").to_numpy().astype(np.int64)
        serving = table.column("serving_sat").fill_null(-1).to_numpy().astype(np.int64)
        state = np.concatenate([_codes(chunk, names) for chunk in table.column("state").chunks])
        order = np.lexsort((step, site))
        step, site, serving, state = step[order], site[order], serving[order], state[order]
        a, b = runs_of([site, state], step)
        states.add(site[a], state[a], step[a], step[b - 1])
        ok = (serving >= 0) & (serving < n_sats)
        serving_counts += np.bincount(serving[ok], minlength=n_sats)
        a, b = runs_of([site[ok], serving[ok]], step[ok])
        links.add(site[ok][a], serving[ok][a], step[ok][a], step[ok][b - 1])
    if not rows:
        return None
    return DishRuns(states=states.runs(), links=links.runs(), state_names=np.array(names + ["?"], dtype=object),
                    serving_counts=serving_counts)


def _codes(chunk: pa.Array, names: list[str]) -> np.ndarray:
    """int64 codes (indices into ``names``, which grows with each new state; -1: missing) of a
    chunk of the state column."""
    if pa.types.is_dictionary(chunk.type):
        local = [str(v) for v in chunk.dictionary.to_pylist()]
        idx = chunk.indices.fill_null(-1).to_numpy().astype(np.int64)
    else:
        local, idx_ = np.unique(np.asarray(chunk.fill_null("").to_pylist(), dtype=object).astype(str),
                                return_inverse=True)
        local, idx = list(local), idx_.astype(np.int64)
    for name in local:
        if name not in names:
            names.append(name)
    remap = np.array([names.index(n) for n in local] + [-1], dtype=np.int64)
    return remap[idx]
