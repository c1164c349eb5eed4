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


def sky_at(chunk: Chunk, t: int) -> Sky:
    """The sky at instant ``t`` (ns); positions and pairs come from the chunk, computed once each."""
    t = int(t)
    return Sky(t, chunk.ecef(t), chunk.pairs(t), chunk.clear(t), chunk.threats(t))
