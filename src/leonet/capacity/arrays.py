"""Array arguments checked at the door, for the radio functions: numbers, positive, dB.

NaN passes through as "unknown" (a satellite not in view), so a batch never stops half way; a
value wrong whatever the geometry raises :class:`leonet.errors.InputError` naming the function
(``where``) and the argument.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def float_array(value, where: str, name: str) -> np.ndarray:
    """``value`` as a float64 array (numbers of any shape)."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"must be numbers, got {value!r}", where, name) from None


def positive_array(value, where: str, name: str, unit: str) -> np.ndarray:
    """Float array whose non-NaN entries are > 0 (NaN passes through as 'unknown')."""
    arr = float_array(value, where, name)
    if np.any(arr <= 0):
        bad = arr[arr <= 0].flat[0]
        raise InputError(f"must be > 0 {unit}, got {bad:g}", where, name)
    return arr


def db_array(value, where: str, name: str) -> np.ndarray:
    """Float array of dB values; +inf is refused (an infinite gain is a bug upstream)."""
    arr = float_array(value, where, name)
    if np.any(arr == np.inf):
        raise InputError("must not be +inf dB", where, name)
    return arr
