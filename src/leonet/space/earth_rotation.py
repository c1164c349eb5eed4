"""Earth orientation from the IERS: UT1-UTC and polar motion (x, y) at any instant, offline.

The Earth does not turn at the rate of atomic time: UT1, the angle it has turned through, drifts
from UTC by up to 0.9 s before a leap second brings them back together. At LEO radius (~6,900 km)
the ground under a satellite moves ~505 m/s, so rotating by UTC instead of UT1 puts satellites up
to ~450 m off. Polar motion (the crust wobbling about the rotation axis, a few tenths of an
arcsecond) moves them a further ~10-20 m.

Source: the IERS Rapid Service/Prediction Centre's ``finals2000A.all`` (IERS Bulletin A: one row
per day at 0h UTC since 1973-01-02, measured values, then about a year of predictions), read from
the ``astropy-iers-data`` package (data files only; astropy itself is not used). Values are
interpolated linearly between days; UT1-UTC is interpolated across leap seconds as UT1-TAI (the
table's whole-second jumps are taken out, interpolated over, and put back from the day an instant
falls in), so an instant next to a leap second is not smeared by a second.

Instants before the table's first day are refused (:class:`~leonet.errors.InputError`); instants
after its measured values use its predictions and instants past its last prediction its last
predicted value, each with an :class:`EarthOrientationWarning` that says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..constants import NS_PER_DAY
from ..errors import InputError

#: arcseconds -> radians.
_ARCSEC_RAD = np.pi / (180.0 * 3600.0)
#: MJD of 1970-01-01 (the Unix epoch of leonet's int64 ns instants).
_MJD_UNIX_EPOCH = 40_587


class EarthOrientationWarning(UserWarning):
    """Instants outside the IERS table's measured values: predicted or held values are used."""


@dataclass(frozen=True)
class EopTable:
    """Daily Earth orientation parameters (rows at 0h UTC, in time order).

    Attributes
    ----------
    day_ns : int64 (D,), UTC midnight of each row, ns since the Unix epoch.
    ut1_minus_tai_s : float64 (D,), UT1-UTC with the table's leap seconds taken out (smooth), s.
    leaps_s : float64 (D,), the whole seconds taken out at each row (UT1-UTC = the two summed).
    x_rad, y_rad : float64 (D,), pole coordinates, radians.
    measured_until_ns : int64, the last row whose UT1-UTC is measured ('I'); later rows predict.
    source : str, which file of which package the table came from.
    """

    day_ns: np.ndarray
    ut1_minus_tai_s: np.ndarray
    leaps_s: np.ndarray
    x_rad: np.ndarray
    y_rad: np.ndarray
    measured_until_ns: int
    source: str

    @property
    def first_ns(self) -> int:
        return int(self.day_ns[0])

    @property
    def last_ns(self) -> int:
        return int(self.day_ns[-1])


def parse_finals2000a(text: str, source: str) -> EopTable:
    """Parse ``finals2000A.all`` text (fixed columns, see its ReadMe): Bulletin A pole x, y (cols
    19-27, 38-46, arcsec) and UT1-UTC (cols 59-68, s) with its I/P flag (col 58). Rows without a
    UT1-UTC value (the file's empty tail) are skipped."""
    mjd, x, y, dut1, measured = [], [], [], [], []
    for line in text.splitlines():
        if len(line) < 68 or line[57] not in "IP" or not line[58:68].strip():
            continue
        mjd.append(float(line[7:15]))
        x.append(float(line[18:27]))
        y.append(float(line[37:46]))
        dut1.append(float(line[58:68]))
        measured.append(line[57] == "I")
    if len(mjd) < 2:
        raise InputError("holds no Earth orientation rows (UT1-UTC)", source=source)
    mjd_a = np.asarray(mjd)
    if np.any(np.diff(mjd_a) != 1.0) or np.any(mjd_a != np.round(mjd_a)):
        raise InputError("rows are not consecutive whole days", source=source)
    dut1_a = np.asarray(dut1)
    # A leap second makes UT1-UTC jump by a whole second between two days; nothing else comes close.
    jumps = np.diff(dut1_a)
    steps = np.where(np.abs(jumps) > 0.5, np.round(jumps), 0.0)
    leaps = np.concatenate([[0.0], np.cumsum(steps)])
    is_measured = np.asarray(measured)
    last_measured = int(np.flatnonzero(is_measured)[-1]) if is_measured.any() else 0
    day_ns = (mjd_a.astype(np.int64) - _MJD_UNIX_EPOCH) * NS_PER_DAY
    return EopTable(
        day_ns=day_ns, ut1_minus_tai_s=dut1_a - leaps, leaps_s=leaps,
        x_rad=np.asarray(x) * _ARCSEC_RAD, y_rad=np.asarray(y) * _ARCSEC_RAD,
        measured_until_ns=int(day_ns[last_measured]), source=source,
    )


@lru_cache(maxsize=1)
def eop_table() -> EopTable:
    """The IERS table shipped by ``astropy-iers-data`` (read once per process, ~50 ms)."""
    try:
        import astropy_iers_data
    except ImportError:  # a dependency in pyproject; say what is missing rather than fail obscurely
        raise InputError(
            "Earth rotation on UT1 needs the astropy-iers-data package (pip install astropy-iers-data); "
            "or set frames: {earth_rotation: utc}", location="frames.earth_rotation") from None
    path = astropy_iers_data.IERS_A_FILE
    source = f"finals2000A.all (IERS Bulletin A) from astropy-iers-data {astropy_iers_data.__version__}"
    with open(path, encoding="ascii") as f:
        return parse_finals2000a(f.read(), source)


def _day(t: int) -> str:
    return str(np.datetime64(int(t), "ns").astype("datetime64[D]"))


def _check_range(table: EopTable, t_ns: np.ndarray) -> None:
    lo, hi = int(t_ns.min()), int(t_ns.max())
    if lo < table.first_ns:
        raise InputError(
            f"instant {_day(lo)} is before {_day(table.first_ns)}, the first day of the Earth orientation "
            f"table ({table.source}); set frames: {{earth_rotation: utc}} to rotate the Earth on UTC "
            "(satellites then up to ~450 m off along the equator)", location="frames.earth_rotation")
    if hi > table.last_ns:
        warnings.warn(
            f"instants after {_day(table.last_ns)}, the last day of the Earth orientation table ({table.source}), "
            "use its last predicted UT1-UTC and polar motion, held constant: satellite positions may be "
            "off by tens of metres per month beyond it (UT1-UTC drifts up to ~0.1 s a month); "
            "update astropy-iers-data for newer values", EarthOrientationWarning, stacklevel=1)
    elif hi > table.measured_until_ns:
        warnings.warn(
            f"instants after {_day(table.measured_until_ns)}, the last measured day of the Earth orientation "
            f"table ({table.source}), use its predictions (IERS: UT1-UTC error ~1 ms after a week, "
            "~20 ms after a year; 1 ms is ~0.5 m at LEO)", EarthOrientationWarning, stacklevel=1)


def _interp(table: EopTable, t_ns: np.ndarray, values: np.ndarray) -> np.ndarray:
    # Days since the table's first row as float64: exact to ~1e-11 day (~1 us) over a century.
    days = (t_ns - table.first_ns) / NS_PER_DAY
    return np.interp(days, np.arange(len(table.day_ns), dtype=np.float64), values)


def ut1_minus_utc_s(t_ns: np.ndarray, table: EopTable | None = None) -> np.ndarray:
    """UT1-UTC in seconds, float64 (T,), at UTC instants ``t_ns`` (int64 (T,), ns since the Unix
    epoch). Raises :class:`~leonet.errors.InputError` before the table; warns past its measured
    values."""
    table = eop_table() if table is None else table
    t_ns = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
    if len(t_ns) == 0:
        return np.zeros(0)
    _check_range(table, t_ns)
    smooth = _interp(table, t_ns, table.ut1_minus_tai_s)
    row = np.clip(np.searchsorted(table.day_ns, t_ns, side="right") - 1, 0, len(table.day_ns) - 1)
    return smooth + table.leaps_s[row]


def polar_motion_rad(t_ns: np.ndarray, table: EopTable | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pole coordinates (x, y) in radians, each float64 (T,), at UTC instants ``t_ns`` (int64 (T,))."""
    table = eop_table() if table is None else table
    t_ns = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
    if len(t_ns) == 0:
        return np.zeros(0), np.zeros(0)
    _check_range(table, t_ns)
    return _interp(table, t_ns, table.x_rad), _interp(table, t_ns, table.y_rad)
