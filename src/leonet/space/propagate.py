"""Batch SGP4 propagation of a whole constellation over many instants, into Earth-fixed metres.

One call to ``SatrecArray.sgp4`` propagates every satellite at every instant in C. A satellite that
fails at an instant (decayed, eccentricity out of range, ...) gets a NaN position and a non-zero
error code there; nothing raises mid-array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sgp4.api import SGP4_ERRORS

from ..timeutil import ns_to_jd_parts
from .constellation import Constellation
from .frames import teme_to_ecef

#: SGP4's error codes and their meanings (0 is success), from the ``sgp4`` package.
ERROR_REASONS: dict[int, str] = {0: "ok", **{int(k): v for k, v in SGP4_ERRORS.items()}}


@dataclass(frozen=True)
class Positions:
    """Satellite positions at a batch of instants.

    Attributes
    ----------
    t_ns : int64 (T,).
    ecef_m : float64 (T, N, 3), Earth-fixed metres; NaN where propagation failed.
    error_code : int8 (T, N); 0 is success, see :data:`ERROR_REASONS`.
    """

    t_ns: np.ndarray
    ecef_m: np.ndarray
    error_code: np.ndarray


def propagate_teme(constellation: Constellation, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TEME positions (T, N, 3) in metres and error codes (T, N), NaN where failed."""
    t_ns = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
    n = len(constellation)
    if n == 0:
        return np.zeros((len(t_ns), 0, 3)), np.zeros((len(t_ns), 0), dtype=np.int8)
    jd, fr = ns_to_jd_parts(t_ns)
    err, r_km, _v = constellation.satrec_array.sgp4(jd, fr)
    # Instant-major in memory (C order): each step reads its own (N, 3) block contiguously.
    r_m = np.multiply(np.transpose(r_km, (1, 0, 2)), 1000.0, order="C")
    code = np.ascontiguousarray(err.T).astype(np.int8)
    r_m[code != 0] = np.nan
    return r_m, code


#: Instants before this (1970-04-26 in ns since 1970) read as ns are almost surely seconds,
#: milliseconds or microseconds of a modern date (2024 in us is 1.7e15).
_PLAUSIBLE_NS = 10**16


def instants_ns(t) -> np.ndarray:
    """(T,) int64 UTC ns since the Unix epoch from ``t``: int64 ns (as leonet's tables hold them),
    numpy datetime64 of any unit, or datetime / pandas Timestamp objects (naive ones read as UTC).
    An integer that reads as an instant before 26 Apr 1970 (seconds given for ns: 1704067200 is
    1.7 s after 1970, not 2024) and anything but a 0-D or 1-D array are errors."""
    from ..errors import InputError

    arr = np.asarray(t)
    if arr.dtype == object:
        import pandas as pd

        arr = pd.to_datetime(arr.ravel(), utc=True).to_numpy("datetime64[ns]").reshape(arr.shape)
    if np.issubdtype(arr.dtype, np.datetime64):
        arr = arr.astype("datetime64[ns]").astype(np.int64)
    elif np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.int64)
        if len(arr.ravel()) and int(arr.min()) < _PLAUSIBLE_NS:
            raise InputError(f"instants are int64 UTC nanoseconds since 1970; {int(arr.min())} reads as "
                             f"{np.datetime64(int(arr.min()), 'ns')} (seconds? give ns, or numpy datetime64)", location="t_ns")
    else:
        raise InputError(f"instants are int64 UTC ns, numpy datetime64 or datetimes, got {arr.dtype}", location="t_ns")
    if arr.ndim > 1:
        raise InputError(f"instants are one list (shape (T,)), got shape {arr.shape}", location="t_ns")
    return np.atleast_1d(arr)


def propagate(constellation: Constellation, t_ns) -> Positions:
    """Earth-fixed positions of every satellite at every instant in ``t_ns``, in the
    constellation's frame convention (``constellation.frame``: GMST of UT1 by default).

    ``t_ns``: (T,) int64 UTC ns since the Unix epoch, or numpy datetime64 / datetimes
    (:func:`instants_ns`); positions (T, N, 3) in metres, Earth-fixed, NaN where SGP4 fails (its
    error codes (T, N) beside them)."""
    t_ns = instants_ns(t_ns)
    r_teme_m, code = propagate_teme(constellation, t_ns)
    return Positions(t_ns=t_ns, ecef_m=teme_to_ecef(r_teme_m, t_ns, constellation.frame), error_code=code)
