"""Stage 1, the sky: where the satellites are at an instant, which sites see which of them, and what
the scenario's events have broken."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...network.visibility import VisiblePairs
from ...threats.timeline import ThreatState
from ..instants import Chunk


@dataclass(frozen=True)
class Sky:
    """The sky at one instant.

    Attributes
    ----------
    t_ns : int, the instant (ns since the Unix epoch, UTC).
    sat_ecef_m : (N, 3) float64 satellite positions, m, Earth-fixed; NaN rows for satellites lost
        to events (they are in no pair, no laser and no path).
    in_view : VisiblePairs (K,), every site-satellite pair the visibility rule admits, sorted by
        (site, sat); those behind the site's obstruction mask have ``obstructed`` set.
    clear : VisiblePairs (K' <= K,), the pairs of ``in_view`` not behind an obstruction mask.
    events : ThreatState or None, what the scenario's events have broken at t (None: no events).
    """

    t_ns: int
    sat_ecef_m: np.ndarray
    in_view: VisiblePairs
    clear: VisiblePairs
    events: ThreatState | None

    def refused(self, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of the sites ``sites`` (D,), those off or refused service by an event now (bricked, no
        power, geofenced) and, of them, the geofenced: two (D,) bool arrays."""
        ev = self.events
        if ev is None:
            return np.zeros(len(sites), dtype=bool), np.zeros(len(sites), dtype=bool)
        geofenced = ev.geofenced[sites] if ev.geofenced is not None else np.zeros(len(sites), dtype=bool)
        return ev.dish_offline[sites] | geofenced, geofenced


def sky_at(chunk: Chunk, t: int) -> Sky:
    """The sky at instant ``t`` (ns); positions and pairs come from the chunk, computed once each."""
    t = int(t)
    return Sky(t, chunk.ecef(t), chunk.pairs(t), chunk.clear(t), chunk.threats(t))
