"""Everything a chunk needs per instant, computed once: satellite positions (with lost
satellites removed), visibility pairs, and what the scenario's events have broken.

Entries are dropped once a step is done (:meth:`Chunk.forget_until`), so memory does not grow with
chunk length x dishes.
"""

from __future__ import annotations

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


class Chunk:
    """Positions and visibility for every instant a chunk needs, computed once each."""

    def __init__(self, model: SimulationModel, instants: np.ndarray):
        self.model = model
        self.instants = np.unique(instants)
        self.positions = propagate(model.constellation, self.instants)
        self._row = {int(t): k for k, t in enumerate(self.instants)}
        self._pairs: dict[int, object] = {}
        self._threats: dict[int, object] = {}
        self._kept: dict[str, object] = {}
        self.has_events = bool(model.scenario.events) and model.scenario.network.enabled
        if self.has_events:
            # Lost satellites vanish: no visibility, no lasers, never on a path.
            for t in self.instants:
                lost = self.threats(t).sat_lost
                if lost.any():
                    self.positions.ecef_m[self._row[int(t)], lost] = np.nan

    def memo(self, key: tuple, compute):
        """A per-instant result computed once (``key`` = (name, t)); forgotten with that instant."""
        if key not in self._pairs:
            self._pairs[key] = compute()
        return self._pairs[key]

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
        for key in [k for k in self._pairs if (k[1] if isinstance(k, tuple) else k) <= t]:
            del self._pairs[key]

    def threats(self, t: int):
        """What the scenario's events have broken at t (None without events)."""
        if not self.has_events:
            return None
        t = int(t)
        if t not in self._threats:
            self._threats[t] = self.model.timeline.state_at(t)
        return self._threats[t]

    def ecef(self, t: int) -> np.ndarray:
        """(N, 3) satellite positions at t, m, ECEF; NaN rows for lost satellites."""
        return self.positions.ecef_m[self._row[int(t)]]

    def error_code(self, t: int) -> np.ndarray:
        """(N,) SGP4 error codes at t (0: fine)."""
        return self.positions.error_code[self._row[int(t)]]

    def pairs(self, t: int):
        """Every pair in view by the visibility rule (obstructed ones flagged)."""
        t = int(t)
        if t not in self._pairs:
            self._pairs[t] = self.model.visibility.query(self.ecef(t))
        return self._pairs[t]

    def clear(self, t: int):
        """Pairs in view and not blocked by an obstruction mask."""
        key = ("clear", int(t))
        if key not in self._pairs:
            p = self.pairs(t)
            self._pairs[key] = p.clear() if p.obstructed.any() else p
        return self._pairs[key]


