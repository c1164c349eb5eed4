"""Availability as the dish counts it, quality reported apart, and Starlink's percentiles.

- **Availability** counts outages only: the share of time a dish is in no state that
  :mod:`leonet.states` marks as an outage. A congested dish is online (``CONGESTED`` is a quality
  flag, not an outage), as the dish itself says ``CONNECTED``.
- **Quality** is reported apart, over the time a dish is online: the share of that time below a
  rate, and low percentiles of its speed.
- **Quality percentiles** follow Starlink's published convention (its per-country figures, e.g.
  Ukraine Jan 2024 latency p20/p50/p80 74.6 / 60.4 / 52.7 ms): "p20" is the *worse* value, i.e.
  the 80th percentile of a latency (more is worse) and the 20th percentile of a speed (less is
  worse). :func:`quality_percentile` is the one function everyone uses for it.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import InputError
from ..states import STATES

#: bool lookup by state code: True where the state counts as an outage.
OUTAGE_BY_CODE = np.array([s.outage for s in sorted(STATES, key=lambda s: s.code)], dtype=bool)

#: Metrics where a higher value is worse (latency, loss); everything else is better higher.
HIGHER_IS_WORSE = frozenset({"latency", "rtt", "jitter", "loss", "drop_rate"})


def is_outage_code(state_code) -> np.ndarray:
    """bool array: whether each state code counts as an outage (unknown codes are an error)."""
    codes = np.asarray(state_code, dtype=np.int64)
    if ((codes < 0) | (codes >= len(OUTAGE_BY_CODE))).any():
        raise InputError(f"state codes must be in 0..{len(OUTAGE_BY_CODE) - 1}", location="state")
    return OUTAGE_BY_CODE[codes]


def availability(state_code, axis=0) -> np.ndarray:
    """Share of steps not in an outage state, along ``axis`` (e.g. (T, D) codes, axis 0 -> (D,))."""
    return 1.0 - is_outage_code(state_code).mean(axis=axis)


def share_below(rate_bps, threshold_bps, state_code=None, axis=0) -> np.ndarray:
    """Share of the online time (steps not in an outage) with ``rate_bps`` below
    ``threshold_bps``, along ``axis``; NaN where a dish was never online."""
    rate = np.asarray(rate_bps, dtype=float)
    online = np.ones(rate.shape, dtype=bool) if state_code is None else ~is_outage_code(state_code)
    below = (rate < threshold_bps) & online
    with np.errstate(invalid="ignore", divide="ignore"):
        return below.sum(axis=axis) / online.sum(axis=axis)


def quality_percentile(values, p: float, metric: str, axis=None) -> np.ndarray:
    """Starlink's quality percentile ``p`` (0..100) of ``values``, ignoring NaN.

    ``p`` counts from the worse end: for a metric where more is worse (``latency``, ``rtt``,
    ``jitter``, ``loss``, ``drop_rate``) it is the ``100 - p`` th percentile; for any other
    metric (``download``, ``upload``, ``speed``...) the ``p`` th. So p20 of latency is its 80th
    percentile (a high value) and p20 of download its 20th (a low value); p50 is the median
    either way.
    """
    if not 0 <= p <= 100:
        raise InputError(f"must be in [0, 100], got {p}", location="percentile")
    q = 100.0 - p if metric in HIGHER_IS_WORSE else p
    with warnings.catch_warnings():        # all-NaN (a dish never online): NaN is the answer
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(np.asarray(values, dtype=float), q, axis=axis)


def p10_speed_bps(rate_bps, state_code=None, axis=None) -> np.ndarray:
    """The 10th percentile of a speed over the online steps (outage steps left out), bps."""
    rate = np.asarray(rate_bps, dtype=float)
    if state_code is not None:
        rate = np.where(is_outage_code(state_code), np.nan, rate)
    return quality_percentile(rate, 10, "speed", axis=axis)
