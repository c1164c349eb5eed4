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


def propagate(constellation: Constellation, t_ns: np.ndarray) -> Positions:
    """Earth-fixed positions of every satellite at every instant in ``t_ns`` (int64 UTC ns), in
    the constellation's frame convention (``constellation.frame``: GMST of UT1 by default)."""
    t_ns = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
    r_teme_m, code = propagate_teme(constellation, t_ns)
    return Positions(t_ns=t_ns, ecef_m=teme_to_ecef(r_teme_m, t_ns, constellation.frame), error_code=code)
