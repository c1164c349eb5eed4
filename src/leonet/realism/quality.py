"""Quality percentiles, the convention of Starlink's published figures: p20 is the worse value.

For a metric where higher is better (download, upload) the quality p20 is the numeric 20th
percentile; where lower is better (latency) it is the numeric 80th percentile. So a country's
"latency p20" is the latency that 20 % of measurements are worse than (higher than).
"""

from __future__ import annotations

import numpy as np


def weighted_percentile(values, weights, q: float) -> float:
    """Numeric percentile ``q`` (0..100) of ``values`` with non-negative ``weights`` (NaNs dropped).

    The inverse of the weighted empirical distribution, interpolated linearly between the
    midpoints of each value's weight (equal weights give numpy's "hazen" rule). NaN when no
    weight is left.
    """
    v = np.asarray(values, dtype=float).ravel()
    w = np.broadcast_to(np.asarray(weights, dtype=float), v.shape).ravel()
    keep = np.isfinite(v) & (w > 0)
    v, w = v[keep], w[keep]
    if not v.size:
        return float("nan")
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    centre = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q / 100.0, centre, v))


def quality_percentile(values, weights, q: float, higher_is_better: bool) -> float:
    """Quality percentile ``q``: p20 is the worse value (see the module docstring)."""
    return weighted_percentile(values, weights, q if higher_is_better else 100.0 - q)
