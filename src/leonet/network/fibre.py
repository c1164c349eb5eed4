"""Terrestrial fibre: latency of a ground link from its great-circle length.

One-way delay = great-circle length x route factor / (c / n). Fibre routes are longer than the
great circle (route factor ~1.5 is a common planning figure) and light in silica travels at c/n
with group index n ~1.468 (standard single-mode fibre at 1550 nm). Both are scenario parameters.
"""

from __future__ import annotations

import numpy as np

from ..constants import SPEED_OF_LIGHT_M_PER_S
from ..ground.geodesy import great_circle_distance_m

DEFAULT_ROUTE_FACTOR = 1.5
DEFAULT_REFRACTIVE_INDEX = 1.468


def fibre_delay_s(lat1_deg, lon1_deg, lat2_deg, lon2_deg,
                  route_factor: float = DEFAULT_ROUTE_FACTOR,
                  refractive_index: float = DEFAULT_REFRACTIVE_INDEX) -> np.ndarray:
    """One-way fibre delay in seconds between points (arrays broadcast)."""
    length_m = great_circle_distance_m(lat1_deg, lon1_deg, lat2_deg, lon2_deg) * route_factor
    return length_m / (SPEED_OF_LIGHT_M_PER_S / refractive_index)
