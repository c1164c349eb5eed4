"""Time handling: UTC instants as int64 nanoseconds since the Unix epoch.

leonet never stores time as one float Julian date (too coarse: ~20 us at today's JD). Instants are
``int64`` nanoseconds since 1970-01-01T00:00:00 UTC (``t_ns``); where SGP4 needs Julian dates, they
are split into a whole day and a fraction. Leap seconds are ignored, as in SGP4 practice.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from .constants import JD_UNIX_EPOCH, NS_PER_DAY, NS_PER_S


def utc_to_ns(value: datetime | str) -> int:
    """Convert a timezone-aware datetime (or ISO 8601 string) to int64 ns since the Unix epoch.

    Naive datetimes are refused: a scenario must say that its times are UTC.
    """
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("time has no timezone; write it in UTC, e.g. 2022-03-01T12:00:00Z")
    value = value.astimezone(timezone.utc)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    delta = value - epoch
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000


def ns_to_datetime64(t_ns: np.ndarray | int) -> np.ndarray:
    """int64 ns since the Unix epoch -> numpy ``datetime64[ns]`` (UTC, naive by numpy convention)."""
    return np.asarray(t_ns, dtype=np.int64).astype("datetime64[ns]")


_NS_PER_UNIT = (("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000), ("ns", 1))


def ns_to_iso_array(t_ns: np.ndarray) -> np.ndarray:
    """int64 ns since the Unix epoch, shape (N,) -> ISO 8601 UTC strings (object array, (N,)),
    ``Z`` suffix: ``2022-03-01T12:00:00Z``, ``2022-03-01T12:00:00.500Z``.

    Seconds are always written; a fraction only as fine as the values need (all values of one
    call share the unit: s, ms, us or ns). Missing instants (NaT / int64 min) give ``None``.
    """
    t_ns = np.asarray(t_ns, dtype=np.int64)
    missing = t_ns == np.iinfo(np.int64).min
    valid = t_ns[~missing]
    unit = "ns"
    for name, per in _NS_PER_UNIT:
        if np.all(valid % per == 0):
            unit = name
            break
    text = np.datetime_as_string(t_ns.astype("datetime64[ns]"), unit=unit).astype(object) + "Z"
    text[missing] = None
    return text


def ns_to_iso(t_ns: int) -> str:
    """One instant (int64 ns since the Unix epoch) as ISO 8601 UTC with a ``Z`` suffix; a fraction
    of a second only when it has one, as fine as it needs (:func:`ns_to_iso_array`)."""
    return ns_to_iso_array(np.array([int(t_ns)], dtype=np.int64))[0]


def ns_to_jd_parts(t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split instants into Julian date whole part and fraction, as SGP4 wants them.

    Parameters
    ----------
    t_ns : int64 array, shape (T,)

    Returns
    -------
    jd, fr : float64 arrays, shape (T,). ``jd`` ends in .5 (midnight), ``fr`` in [0, 1).
    """
    t_ns = np.asarray(t_ns, dtype=np.int64)
    days, rem_ns = np.divmod(t_ns, NS_PER_DAY)
    jd = JD_UNIX_EPOCH + days.astype(np.float64)
    fr = rem_ns.astype(np.float64) / NS_PER_DAY
    return jd, fr


def jd_to_ns(jd: float, fr: float = 0.0) -> int:
    """Julian date (whole + fraction) -> int64 ns since the Unix epoch (rounded to 1 us)."""
    # Keep the whole days and the fraction apart: one float JD is only good to ~50 us.
    days = jd - JD_UNIX_EPOCH
    whole = float(np.floor(days))
    frac = (days - whole) + fr
    extra = float(np.floor(frac))
    whole += extra
    frac -= extra
    return int(whole) * NS_PER_DAY + int(round(frac * 86_400e6)) * 1_000
