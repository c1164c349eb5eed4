"""The realism check's tolerances (the goal of issue 11) and the verdict they give a figure."""

from __future__ import annotations

import numpy as np

#: Latency p50 within this many ms of Starlink's.
LATENCY_TOLERANCE_MS = 5.0
#: Download p50 within this share of Starlink's.
DOWNLOAD_TOLERANCE = 0.20


def within(metric: str, published: float, value: float) -> tuple[bool | None, str | None]:
    """Tolerance verdict for a figure: (verdict or None where no tolerance applies, tolerance text).
    ``value`` is leonet's (or any prediction's) figure; NaN is never within."""
    if metric == "latency_p50":
        return (bool(np.isfinite(value) and abs(value - published) <= LATENCY_TOLERANCE_MS),
                f"+-{LATENCY_TOLERANCE_MS:g} ms")
    if metric == "download_p50":
        return (bool(np.isfinite(value) and abs(value - published) <= DOWNLOAD_TOLERANCE * published),
                f"+-{DOWNLOAD_TOLERANCE:.0%}")
    return None, None
