"""What a satellite can offer one more cell: its beam time per occupied cell and the rate that gives.

With equal-slot beam hopping (:mod:`.background`), a satellite with ``B`` beams that also serves
``n`` occupied background cells gives each cell ``min(1, B / n)`` of a beam's time. A beam carries
at most ``bandwidth x eta`` (the link's spectral efficiency at the dish's range) and at most the
satellite's capacity per beam (``capacity / B``: a V1.5's 20 Gbps over 24 beams, a V2 Mini's 96 over
48). So the rate a satellite offers a cell is::

    min(1, B / n) x min(bandwidth x eta, capacity / B)

the same terms as the beam and satellite links of the capacity model (:mod:`leonet.capacity.model`)
for a cell alone on its beam. The ``max-rate`` slot policy (``network.slots.policy``) gives each
dish the satellite that offers its cell the most (an operator balancing load over the satellites in
view; **assumption**: Starlink's choice is not public).
"""

from __future__ import annotations

import numpy as np

from .background import SubscriberGrid, satellite_background_near
from .traffic import DEFAULT_DIURNAL


def beam_time_per_cell(grid: SubscriberGrid | None, sat_xyz_m, wanted, sat_beams, sat_down_bps,
                       min_elevation_deg: float, t_ns: int, busy_down_bps: float, cell_area_m2: float,
                       diurnal=DEFAULT_DIURNAL) -> np.ndarray:
    """(N,) share of a beam's time each satellite gives one occupied cell, in (0, 1]: ``min(1,
    beams / occupied background cells it serves)`` (the cells shared among the satellites that see
    them as in :func:`.background.satellite_background_near`, by beams). Satellites not in
    ``wanted`` (W,) and every satellite without a grid (no background) get 1."""
    beams = np.asarray(sat_beams, dtype=float)
    out = np.ones(len(beams))
    if grid is None:
        return out
    _, cells = satellite_background_near(grid, sat_xyz_m, wanted, min_elevation_deg, t_ns, busy_down_bps,
                                         cell_area_m2, diurnal, weight=sat_down_bps, cell_weight=sat_beams)
    wanted = np.asarray(wanted, dtype=np.int64)
    out[wanted] = np.minimum(1.0, beams[wanted] / np.maximum(cells[wanted], 1.0))
    return out


def offered_rate_bps(beam_time, eta_bps_per_hz, bandwidth_hz: float, sat_down_bps, sat_beams) -> np.ndarray:
    """Rate (bps) a satellite offers a cell: ``beam_time x min(bandwidth_hz x eta, sat_down_bps /
    sat_beams)``; arrays broadcast (one value per dish-satellite pair)."""
    per_beam = np.minimum(float(bandwidth_hz) * np.asarray(eta_bps_per_hz, dtype=float),
                          np.asarray(sat_down_bps, dtype=float) / np.asarray(sat_beams, dtype=float))
    return np.asarray(beam_time, dtype=float) * per_beam
