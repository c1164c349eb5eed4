"""DVB-S2/S2X MODCOD ladder: from a link's SNR to the spectral efficiency it can carry.

Adaptive coding and modulation picks, for each link, the most efficient MODCOD whose required
Es/N0 is met with a margin. The ladder here is the normal-frame (64,800-bit FECFRAME) set of
DVB-S2X, from QPSK 1/4 up to 256APSK 3/4, with the *ideal* Es/N0 thresholds of the standards for
quasi-error-free reception on a linear AWGN channel:

- the 28 DVB-S2 MODCODs (QPSK 1/4 ... 32APSK 9/10), which DVB-S2X keeps:
  ETSI EN 302 307-1 V1.4.1 (2014-11), Table 13;
- the DVB-S2X additions for normal frames (the "-L" rows are the variants for linear channels):
  ETSI EN 302 307-2 V1.1.1 (2015-02), Table 20a.

Values are as printed in those tables (spectral efficiency in information bit per transmitted
symbol, pilots off, i.e. the FECFRAME with its PL header and BB header overheads). The very-low-SNR
MODCODs (QPSK 2/9, BPSK and spread BPSK) are left out, so the link is down below -2.35 dB + margin.

Starlink's own air interface is OFDM with undisclosed coding (Humphreys et al., "Signal Structure
of the Starlink Ku-Band Downlink", IEEE TAES 2023); this ladder is a documented stand-in for a
modern satellite MODCOD set, not Starlink's (uncertain).

Conventions: the SNR passed in is Es/N0 in dB, i.e. the carrier-to-noise ratio measured in a noise
bandwidth equal to the symbol rate; :func:`capacity_bps` therefore treats ``bandwidth_hz`` as the
symbol rate. A scenario with a roll-off factor ``a`` should pass ``channel_bandwidth / (1 + a)``.
An SNR of NaN (link state unknown) gives NaN efficiency and capacity and the name ``"UNKNOWN"``;
an SNR below the lowest threshold gives 0 (link down) and the name ``"LINK DOWN"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

#: Default margin (dB) between the SNR and the MODCOD threshold: implementation loss and a fade
#: allowance (uncertain; 3 dB is a common planning value).
DEFAULT_MARGIN_DB = 3.0

LINK_DOWN_NAME = "LINK DOWN"
UNKNOWN_NAME = "UNKNOWN"

_S2 = "ETSI EN 302 307-1 V1.4.1, Table 13"
_S2X = "ETSI EN 302 307-2 V1.1.1, Table 20a"


@dataclass(frozen=True)
class Modcod:
    """One MODCOD: its name, spectral efficiency (bit/s/Hz = bit/symbol), ideal Es/N0 (dB) and
    the table it comes from."""

    name: str
    spectral_efficiency_bps_per_hz: float
    esn0_db: float
    source: str


# (name, spectral efficiency bit/symbol, ideal Es/N0 dB), normal FECFRAME, AWGN.
_S2_ROWS = (
    ("QPSK 1/4", 0.490243, -2.35),
    ("QPSK 1/3", 0.656448, -1.24),
    ("QPSK 2/5", 0.789412, -0.30),
    ("QPSK 1/2", 0.988858, 1.00),
    ("QPSK 3/5", 1.188304, 2.23),
    ("QPSK 2/3", 1.322253, 3.10),
    ("QPSK 3/4", 1.487473, 4.03),
    ("QPSK 4/5", 1.587196, 4.68),
    ("QPSK 5/6", 1.654663, 5.18),
    ("QPSK 8/9", 1.766451, 6.20),
    ("QPSK 9/10", 1.788612, 6.42),
    ("8PSK 3/5", 1.779991, 5.50),
    ("8PSK 2/3", 1.980636, 6.62),
    ("8PSK 3/4", 2.228124, 7.91),
    ("8PSK 5/6", 2.478562, 9.35),
    ("8PSK 8/9", 2.646012, 10.69),
    ("8PSK 9/10", 2.679207, 10.98),
    ("16APSK 2/3", 2.637201, 8.97),
    ("16APSK 3/4", 2.966728, 10.21),
    ("16APSK 4/5", 3.165623, 11.03),
    ("16APSK 5/6", 3.300184, 11.61),
    ("16APSK 8/9", 3.523143, 12.89),
    ("16APSK 9/10", 3.567342, 13.13),
    ("32APSK 3/4", 3.703295, 12.73),
    ("32APSK 4/5", 3.951571, 13.64),
    ("32APSK 5/6", 4.119540, 14.28),
    ("32APSK 8/9", 4.397854, 15.69),
    ("32APSK 9/10", 4.453027, 16.05),
)

_S2X_ROWS = (
    ("QPSK 13/45", 0.567805, -2.03),
    ("QPSK 9/20", 0.889135, 0.22),
    ("QPSK 11/20", 1.088581, 1.45),
    ("8APSK 5/9-L", 1.647211, 4.73),
    ("8APSK 26/45-L", 1.713601, 5.13),
    ("8PSK 23/36", 1.896173, 6.12),
    ("8PSK 25/36", 2.062148, 7.02),
    ("8PSK 13/18", 2.145136, 7.49),
    ("16APSK 1/2-L", 1.972253, 5.97),
    ("16APSK 8/15-L", 2.104850, 6.55),
    ("16APSK 5/9-L", 2.193247, 6.84),
    ("16APSK 26/45", 2.281645, 7.51),
    ("16APSK 3/5", 2.370043, 7.80),
    ("16APSK 3/5-L", 2.370043, 7.41),
    ("16APSK 28/45", 2.458441, 8.10),
    ("16APSK 23/36", 2.524739, 8.38),
    ("16APSK 2/3-L", 2.635236, 8.43),
    ("16APSK 25/36", 2.745734, 9.27),
    ("16APSK 13/18", 2.856231, 9.71),
    ("16APSK 7/9", 3.077225, 10.65),
    ("16APSK 77/90", 3.386618, 11.99),
    ("32APSK 2/3-L", 3.289502, 11.10),
    ("32APSK 32/45", 3.510192, 11.75),
    ("32APSK 11/15", 3.620536, 12.17),
    ("32APSK 7/9", 3.841226, 13.05),
    ("64APSK 32/45-L", 4.206428, 13.98),
    ("64APSK 11/15", 4.338659, 14.81),
    ("64APSK 7/9", 4.603122, 15.47),
    ("64APSK 4/5", 4.735354, 15.87),
    ("64APSK 5/6", 4.933701, 16.55),
    ("128APSK 3/4", 5.163248, 17.73),
    ("128APSK 7/9", 5.355556, 18.53),
    ("256APSK 29/45-L", 5.065690, 16.98),
    ("256APSK 2/3-L", 5.241514, 17.24),
    ("256APSK 31/45-L", 5.417338, 18.10),
    ("256APSK 32/45", 5.593162, 18.59),
    ("256APSK 11/15-L", 5.768987, 18.84),
    ("256APSK 3/4", 5.900855, 19.57),
)

#: Every MODCOD of the ladder, in table order (DVB-S2 rows first, then DVB-S2X).
MODCODS: tuple[Modcod, ...] = tuple(
    [Modcod(n, e, s, _S2) for n, e, s in _S2_ROWS] + [Modcod(n, e, s, _S2X) for n, e, s in _S2X_ROWS]
)


def _frontier(modcods: tuple[Modcod, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The MODCODs worth using: sorted by threshold, keeping only those more efficient than every
    MODCOD with a lower (or equal) threshold. Some rows are dominated (e.g. QPSK 9/10 needs more
    Es/N0 than 8PSK 3/5 for about the same efficiency), so the raw table is not monotonic; the
    frontier is, which is what makes a single ``searchsorted`` pick the best MODCOD."""
    order = sorted(range(len(modcods)),
                   key=lambda i: (modcods[i].esn0_db, -modcods[i].spectral_efficiency_bps_per_hz))
    keep, best = [], -np.inf
    for i in order:
        if modcods[i].spectral_efficiency_bps_per_hz > best:
            keep.append(i)
            best = modcods[i].spectral_efficiency_bps_per_hz
    thresholds = np.array([modcods[i].esn0_db for i in keep])
    efficiency = np.array([modcods[i].spectral_efficiency_bps_per_hz for i in keep])
    names = np.array([modcods[i].name for i in keep], dtype=object)
    for a in (thresholds, efficiency, names):
        a.flags.writeable = False
    return thresholds, efficiency, names


#: The efficient frontier of :data:`MODCODS`: thresholds (dB, strictly increasing), spectral
#: efficiencies (bit/s/Hz, strictly increasing) and names, each of shape (M,).
FRONTIER_ESN0_DB, FRONTIER_EFFICIENCY_BPS_PER_HZ, FRONTIER_NAMES = _frontier(MODCODS)


def _snr_array(snr_db, where: str) -> np.ndarray:
    try:
        arr = np.asarray(snr_db, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"must be numbers (dB), got {snr_db!r}", where, "snr_db") from None
    return arr


def _margin(margin_db, where: str) -> float:
    try:
        m = float(margin_db)
    except (TypeError, ValueError):
        raise InputError(f"must be one number (dB), got {margin_db!r}", where, "margin_db") from None
    if not (np.isfinite(m) and m >= 0.0):
        raise InputError(f"must be a finite number >= 0 dB, got {margin_db!r}", where, "margin_db")
    return m


def _ladder_index(snr_db: np.ndarray, margin_db: float) -> np.ndarray:
    """Index into the frontier of the best MODCOD with threshold <= snr - margin; -1 when none.
    NaN SNRs also give -1 here; callers mask them separately."""
    # side="right": a threshold equal to snr - margin is met.
    idx = np.searchsorted(FRONTIER_ESN0_DB, snr_db - margin_db, side="right") - 1
    return np.where(np.isnan(snr_db), -1, idx)


def spectral_efficiency(snr_db, margin_db: float = DEFAULT_MARGIN_DB) -> np.ndarray:
    """Spectral efficiency (bit/s/Hz) of the best MODCOD the link supports.

    Parameters
    ----------
    snr_db : array_like, any shape. Es/N0 (or SINR) of the link, dB. NaN means unknown.
    margin_db : float >= 0. Required excess of SNR over the MODCOD's ideal threshold, dB.

    Returns
    -------
    ndarray of float64, shape of ``snr_db``: the efficiency of the most efficient MODCOD whose
    threshold is <= snr_db - margin_db; 0 where none is (link down); NaN where snr_db is NaN.

    References
    ----------
    ETSI EN 302 307-1 V1.4.1, Table 13; ETSI EN 302 307-2 V1.1.1, Table 20a.
    """
    snr = _snr_array(snr_db, "spectral_efficiency")
    m = _margin(margin_db, "spectral_efficiency")
    idx = _ladder_index(snr, m)
    eff = np.where(idx >= 0, FRONTIER_EFFICIENCY_BPS_PER_HZ[np.maximum(idx, 0)], 0.0)
    return np.where(np.isnan(snr), np.nan, eff)


def modcod_name(snr_db, margin_db: float = DEFAULT_MARGIN_DB) -> np.ndarray:
    """Name of the MODCOD :func:`spectral_efficiency` picks (object array of str, shape of
    ``snr_db``): e.g. ``"16APSK 3/4"``, ``"LINK DOWN"`` below the ladder, ``"UNKNOWN"`` for NaN."""
    snr = _snr_array(snr_db, "modcod_name")
    m = _margin(margin_db, "modcod_name")
    idx = _ladder_index(snr, m)
    names = np.where(idx >= 0, FRONTIER_NAMES[np.maximum(idx, 0)], LINK_DOWN_NAME)
    return np.where(np.isnan(snr), UNKNOWN_NAME, names).astype(object)


def capacity_bps(snr_db, bandwidth_hz, margin_db: float = DEFAULT_MARGIN_DB) -> np.ndarray:
    """Information rate (bit/s) of a link: spectral efficiency x bandwidth.

    Parameters
    ----------
    snr_db : array_like. Es/N0 of the link, dB (see the module note on the noise bandwidth).
    bandwidth_hz : array_like, broadcastable with ``snr_db``, > 0. Symbol rate (Hz = symbol/s).
    margin_db : float >= 0, dB.

    Returns
    -------
    ndarray of float64 (broadcast shape), bit/s; 0 where the link is down, NaN where SNR is NaN.
    """
    try:
        bw = np.asarray(bandwidth_hz, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"must be numbers (Hz), got {bandwidth_hz!r}", "capacity_bps",
                         "bandwidth_hz") from None
    if not np.all(np.isfinite(bw) & (bw > 0)):
        raise InputError("must be finite and > 0 Hz", "capacity_bps", "bandwidth_hz")
    return spectral_efficiency(snr_db, margin_db) * bw
