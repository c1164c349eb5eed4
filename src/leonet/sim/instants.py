"""Everything a chunk needs per instant, computed once: satellite positions (with lost
satellites removed), visibility pairs, and what the scenario's events have broken.

Variants of one scenario that differ only in their events (a planning study's N-1 over gateways)
step through a chunk together and share a :class:`SharedInstants`: the satellites are propagated
once, and every per-instant result that depends only on the sky (visibility, the dishes' radio
links, the lasers, the gateways' view) is computed once per instant and set of lost satellites,
whichever variant asks first. Results further down the step are shared by content
(:meth:`Chunk.by_content`): a variant whose dishes' routes and dish-side events equal another's
at an instant gets that variant's allocation, computed once. A run on its own has a
:class:`SharedInstants` of its own, so both take the same code path.

Entries are dropped once a step is done (:meth:`Chunk.forget_until`), so memory does not grow with
chunk length x dishes.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..space.propagate import propagate
from .model import SimulationModel


def subset_pairs(pairs, site_index: np.ndarray, n_sites: int):
    """Pairs whose site is in ``site_index``, renumbered to positions in ``site_index``."""
    number = np.full(n_sites, -1, dtype=np.int64)
    number[site_index] = np.arange(len(site_index))
    local = number[pairs.site]
    keep = local >= 0
    return local[keep], pairs.sat[keep], pairs.elevation_deg[keep], pairs.range_m[keep]


def content_key(*parts) -> bytes:
    """A 256-bit digest (BLAKE2b) of ``parts``: arrays (dtype, shape and bytes), dataclasses
    (field by field), tuples and lists, pydantic models (their JSON), None and scalars (repr).
    Equal digests stand for equal content (a collision needs ~2**128 distinct inputs)."""
    h = hashlib.blake2b(digest_size=32)

    def feed(x) -> None:
        if isinstance(x, np.ndarray):
            h.update(b"A" + x.dtype.str.encode() + repr(x.shape).encode())
            h.update(np.ascontiguousarray(x).view(np.uint8).reshape(-1).data if x.size else b"")
        elif x is None:
            h.update(b"N")
        elif isinstance(x, (tuple, list)):
            h.update(b"T%d" % len(x))
            for item in x:
                feed(item)
        elif hasattr(x, "__dataclass_fields__"):
            h.update(b"D" + type(x).__qualname__.encode())
            for name in x.__dataclass_fields__:
                h.update(name.encode())
                feed(getattr(x, name))
        elif hasattr(x, "model_dump_json"):
            h.update(b"P" + type(x).__qualname__.encode() + x.model_dump_json().encode())
        elif isinstance(x, (bool, int, float, str, bytes, np.generic)):
            h.update(b"S" + type(x).__name__.encode() + repr(x).encode())
        else:
            raise TypeError(f"content_key: cannot digest a {type(x).__name__}")

    for p in parts:
        feed(p)
    return h.digest()


class SharedInstants:
    """Positions of every instant of a chunk, and the per-instant results the chunks of variants
    that differ only in events compute alike (keys name what a result depends on).

    ``sharers`` is the number of chunks stepping through it together (1: a run on its own)."""

    def __init__(self, model: SimulationModel, instants: np.ndarray, sharers: int = 1):
        self.instants = np.unique(instants)
        self.positions = propagate(model.constellation, self.instants)
        self.row = {int(t): k for k, t in enumerate(self.instants)}
        self.sharers = sharers
        self.hits = 0  # results one chunk reused from another (by content)
        self._memo: dict[tuple, object] = {}

    def memo(self, key: tuple, compute):
        """The result under ``key`` (its second item the instant), computed once."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def forget_until(self, t: int) -> None:
        for key in [k for k in self._memo if k[1] <= t]:
            del self._memo[key]


class Chunk:
    """Positions and visibility for every instant a chunk needs, computed once each.

    ``shared``: the :class:`SharedInstants` of the variants stepping through these instants
    together (same constellation, sites, instants and everything else but the events); None for a
    run on its own."""

    def __init__(self, model: SimulationModel, instants: np.ndarray, shared: SharedInstants | None = None):
        self.model = model
        self.instants = np.unique(instants)
        self.own_shared = shared is None
        self.shared = SharedInstants(model, self.instants) if shared is None else shared
        if not np.array_equal(self.shared.instants, self.instants):
            raise ValueError("Chunk: the shared instants are not this chunk's")
        self.positions = self.shared.positions
        self._row = self.shared.row
        self._pairs: dict = {}
        self._threats: dict[int, object] = {}
        self._lost: dict[int, bytes] = {}
        self._kept: dict[str, object] = {}
        self.has_events = model.settings.events and model.settings.network
        if self.has_events:
            # Lost satellites vanish: no visibility, no lasers, never on a path. Only which are
            # lost is kept here (the states are not: one per instant and variant adds up).
            for t in self.instants:
                lost = self.model.timeline.state_at(int(t)).sat_lost
                if lost.any():
                    self._lost[int(t)] = np.packbits(lost).tobytes()

    def sky_key(self, t: int) -> bytes:
        """What the sky at t depends on beyond t itself: the satellites lost by then, as packed
        bits (b"": none)."""
        return self._lost.get(int(t), b"")

    def memo(self, key: tuple, compute):
        """A per-instant result of this chunk's own (``key`` = (name, t)); forgotten with that instant."""
        if key not in self._pairs:
            self._pairs[key] = compute()
        return self._pairs[key]

    def sky_memo(self, name: str, t: int, compute):
        """A per-instant result that depends only on the sky at t (positions, visibility) and the
        scenario's event-free parts: shared with every chunk of the same sky."""
        return self.shared.memo((name, int(t), self.sky_key(t)), compute)

    def by_content(self, name: str, t: int, inputs: tuple, compute):
        """A per-instant result that depends on the sky at t and on ``inputs`` alone: computed once
        for all the sharing chunks whose ``inputs`` have the same content (:func:`content_key`)."""
        if self.shared.sharers <= 1:
            return compute()
        key = (name, int(t), self.sky_key(t), content_key(*inputs))
        if key in self.shared._memo:
            self.shared.hits += 1
        return self.shared.memo(key, compute)

    def kept(self, key: str, compute, holds) -> object:
        """A result computed at the first step that asks for it and kept for the chunk's other
        steps when ``holds(result)`` says it does not depend on the step (else computed anew at
        every step)."""
        if key in self._kept:
            return self._kept[key]
        result = compute()
        if holds(result):
            self._kept[key] = result
        return result

    def forget_until(self, t: int) -> None:
        """Drop the visibility of instants up to t: later steps need only their own (and their
        slot's, whose assignment is cached by then)."""
        for key in [k for k in self._pairs if k[1] <= t]:
            del self._pairs[key]
        for key in [k for k in self._threats if k <= t]:
            del self._threats[key]
        if self.own_shared:
            self.shared.forget_until(t)

    def threats(self, t: int):
        """What the scenario's events have broken at t (None without events)."""
        if not self.has_events:
            return None
        t = int(t)
        if t not in self._threats:
            self._threats[t] = self.model.timeline.state_at(t)
        return self._threats[t]

    def orbit_ecef(self, t: int) -> np.ndarray:
        """(N, 3) where every satellite is at t, m, ECEF, lost ones included (a failed or destroyed
        satellite still orbits; NaN only where SGP4 fails: ``error_code``)."""
        return self.positions.ecef_m[self._row[int(t)]]

    def ecef(self, t: int) -> np.ndarray:
        """(N, 3) satellite positions at t, m, ECEF; NaN rows for lost satellites (a copy made
        once per instant and set of lost satellites; the shared positions stay whole)."""
        row = self.positions.ecef_m[self._row[int(t)]]
        key = self.sky_key(t)
        if not key:
            return row

        def without_lost():
            lost = np.unpackbits(np.frombuffer(key, dtype=np.uint8), count=len(row)).astype(bool)
            out = row.copy()
            out[lost] = np.nan
            return out

        return self.sky_memo("ecef", t, without_lost)

    def error_code(self, t: int) -> np.ndarray:
        """(N,) SGP4 error codes at t (0: fine)."""
        return self.positions.error_code[self._row[int(t)]]

    def pairs(self, t: int):
        """Every pair in view by the visibility rule (obstructed ones flagged)."""
        return self.sky_memo("pairs", t, lambda: self.model.visibility.query(self.ecef(t)))

    def clear(self, t: int):
        """Pairs in view and not blocked by an obstruction mask."""
        def compute():
            p = self.pairs(t)
            return p.clear() if p.obstructed.any() else p

        return self.sky_memo("clear", t, compute)
