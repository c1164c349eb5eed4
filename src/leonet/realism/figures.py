"""leonet's side of the published figures, from a run's ``dish_steps``: which dish-steps count
(the connected ones) and the nine quality percentiles of latency, download and upload."""

from __future__ import annotations

import numpy as np

from .metrics import FIELDS, HIGHER_IS_BETTER
from .quality import quality_percentile


def online(steps) -> np.ndarray:
    """(S,) bool: the dish-step is not an outage (CONNECTED or CONGESTED; leonet.states)."""
    from ..states import STATES

    not_outage = {st.name for st in STATES if not st.outage}
    return steps["state"].astype(str).isin(not_outage).to_numpy()


def leonet_figures(dish_steps, dishes_per_site: np.ndarray) -> dict[str, float]:
    """leonet's nine figures (quality percentiles, weighted by dishes) from a dish_steps table.

    Latency: ``rtt_ms`` (dish to the PoP the route reaches); speeds: ``speedtest_down_bps`` and
    ``speedtest_up_bps`` in Mbps. Only connected dish-steps count (the published figures are
    measurements of connected dishes).
    """
    site = dish_steps["site"].to_numpy()
    w = dishes_per_site[site].astype(float)
    connected = online(dish_steps)
    series = {"latency": dish_steps["rtt_ms"].to_numpy(dtype=float),
              "download": dish_steps["speedtest_down_bps"].to_numpy(dtype=float) / 1e6,
              "upload": dish_steps["speedtest_up_bps"].to_numpy(dtype=float) / 1e6}
    out = {}
    for f in FIELDS:
        metric, p = f.split("_")
        out[f] = quality_percentile(np.where(connected, series[metric], np.nan), w, float(p[1:]),
                                    HIGHER_IS_BETTER[metric])
    return out
