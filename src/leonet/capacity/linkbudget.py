"""Radio link budgets: free-space loss, atmospheric attenuation (ITU-R), C/N0, SNR and SINR.

All functions take numpy arrays (any shapes that broadcast together) and return float64 arrays
in dB. NaN inputs (e.g. the range to a satellite that is not in view) give NaN outputs, so a batch
never stops half way; inputs that are wrong whatever the geometry (a negative range, a frequency
of zero, an availability of 120 %) raise :class:`leonet.errors.InputError` naming the function and
the argument.

The chain for one link (ITU-R S.1328 / any satellite-communications text, e.g. Maral & Bousquet,
"Satellite Communications Systems", 5th ed., ch. 5)::

    C/N0 [dBHz] = EIRP - FSPL - losses + G/T - 10 log10(k)
    SNR  [dB]   = C/N0 - 10 log10(B)

with k Boltzmann's constant. The atmospheric part of "losses" comes from the ITU-R propagation
Recommendations (P.618 rain and scintillation, P.676 gases, P.840 clouds) through the ``itur``
package, which ships the ITU digital maps and so works offline.

:class:`RadioDefaults` holds the Starlink-like defaults (frequencies, EIRPs, G/T, bandwidths), each
with its source; values marked (uncertain) are estimates a scenario should feel free to override.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..constants import SPEED_OF_LIGHT_M_PER_S
from ..errors import InputError

#: Boltzmann's constant, J/K (exact since the 2019 SI redefinition).
BOLTZMANN_J_PER_K = 1.380649e-23
#: 10 log10(k), dBW/(K Hz): about -228.6.
BOLTZMANN_DBW_PER_K_HZ = 10.0 * math.log10(BOLTZMANN_J_PER_K)

# ITU-R P.618 (rain and total attenuation) is stated for time percentages 0.001 % to 50 %,
# elevations of at least 5 deg, and (with P.838 / P.676 / P.840) frequencies up to 55 GHz.
_MIN_AVAILABILITY_PCT = 50.0
_MAX_AVAILABILITY_PCT = 99.999
_MIN_ELEVATION_DEG = 5.0
_MIN_ITU_FREQUENCY_HZ = 1e9
_MAX_ITU_FREQUENCY_HZ = 55e9


# --------------------------------------------------------------------------------------------
# Defaults
# --------------------------------------------------------------------------------------------

#: PFD limit of ITU Radio Regulations Article 21, Table 21-4 (10.7-11.7 GHz, space-to-Earth,
#: arrival angles 25-90 deg), dB(W/m^2) in any 4 kHz. Used to derive the default satellite EIRP
#: density below.
RR_ART21_PFD_LIMIT_DBW_PER_M2_4KHZ = -140.0


def eirp_density_for_pfd_dbw_per_mhz(pfd_dbw_per_m2_4khz: float, range_m: float) -> float:
    """EIRP density (dBW/MHz) that produces the given PFD (dB(W/m^2) in 4 kHz) at ``range_m``:
    EIRP = PFD + 10 log10(4 pi d^2), then 4 kHz -> 1 MHz (+10 log10(250))."""
    spreading_db = 10.0 * math.log10(4.0 * math.pi * range_m**2)
    return pfd_dbw_per_m2_4khz + spreading_db + 10.0 * math.log10(1e6 / 4e3)


@dataclass(frozen=True)
class RadioDefaults:
    """Starlink-like radio parameters (SI units in the names). Override per scenario with
    ``dataclasses.replace(RADIO_DEFAULTS, user_terminal_g_over_t_db_per_k=12.0)``.

    Attributes and sources
    ----------------------
    user_downlink_frequency_hz : 11.7e9. Centre of the Ku user downlink band 10.7-12.7 GHz
        (SpaceX FCC filings, SAT-LOA-20161115-00118 and SAT-MOD-20200417-00037; REFERENCE.md).
    user_uplink_frequency_hz : 14.25e9. Centre of the Ku user uplink band 14.0-14.5 GHz (same).
    gateway_downlink_frequency_hz : 18.55e9. Centre of the Ka feeder downlink, about
        17.8-19.3 GHz (SpaceX FCC filings; approximate).
    gateway_uplink_frequency_hz : 28.75e9. Centre of the Ka feeder uplink, about 27.5-30.0 GHz
        (SpaceX FCC filings; approximate).
    user_downlink_bandwidth_hz : 250e6. One Ku user downlink channel: Humphreys et al. (IEEE
        TAES 2023, "Signal Structure of the Starlink Ku-Band Downlink") observe eight channels on
        a 250 MHz raster with about 240 MHz occupied each (uncertain as a noise bandwidth).
    user_uplink_bandwidth_hz : 62.5e6. One Ku user uplink channel, 14.0-14.5 GHz split in eight
        (uncertain: channelisation assumed, not verified against the Schedule S).
    satellite_eirp_density_dbw_per_mhz : 9.8. User-beam EIRP density that meets the Article 21
        PFD limit of -140 dB(W/m^2) in 4 kHz at nadir from 550 km (see
        :data:`RR_ART21_PFD_LIMIT_DBW_PER_M2_4KHZ`): -140 + 125.8 + 24.0 = 9.8 dBW/MHz, i.e.
        33.8 dBW in 250 MHz. (uncertain): the SpaceX Ku technical attachment
        (SAT-LOA-20161115-00118) gives the filed EIRP densities, which could not be checked here;
        this regulatory ceiling stands in for them, held constant with elevation (conservative
        at low elevations, where the PFD limit and the satellite's steering allow more).
    user_terminal_g_over_t_db_per_k : 9.8. User terminal figure of merit, dB/K (uncertain: the
        figure quoted for the SpaceX Ku filing's user terminal, not verified here; as a check, a
        0.5 m-class array at 11.7 GHz with about 34 dBi and a 200 K system gives about 11 dB/K).
    user_terminal_eirp_dbw : 33.2. UT mobility EIRP (REFERENCE.md; the v2 dish transmits 2.44 W).
    satellite_g_over_t_db_per_k : 6.0. Satellite Ku receive G/T for the user uplink, dB/K.
        **Fitted** (no public figure found): one global constant, the value at which the median
        country's upload p50 matches Starlink's own per-country figures of 2023-09-08 (31
        countries, the month the processing term is fitted on; bisection gives 5.75-6.0 dB/K,
        median ratio 1.014 at 6.0 with the check's 96 instants over 24 days, 1.003 with one day's
        hours; ``bench/bench_uplink_fit.py``, bench/RESULTS.md "Realism: the
        uplink's G/T fitted"). It stands for the satellite's receive figure of merit net of what
        the budget does not model on the uplink (scan loss of both phased arrays, pointing and
        implementation losses). It sets the uplink MODCOD and so the dish's upload cap at that
        MODCOD; download and latency do not depend on it. Until Dec 2026 it was a 10 dB/K
        placeholder, and uploads read 1.4x Starlink's (median country).
    user_terminal_dish_diameter_m : 0.5. Aperture used for ITU-R P.618 scintillation averaging
        (the standard dish is about 0.51 m x 0.30 m; uncertain equivalent diameter).
    user_terminal_antenna_efficiency : 0.5. Aperture efficiency for P.618 scintillation
        (P.618's conservative default).
    polarization_tilt_deg : 45.0. Polarisation tilt for P.838 rain coefficients; 45 deg stands
        for circular polarisation (SpaceX FCC gain-contour attachments list RHCP user beams).
    availability_pct : 99.5. Share of the average year for which the attenuation is not exceeded
        (uncertain: a planning value; P.618 p = 0.5 %).
    modcod_margin_db : 3.0. SNR margin above the MODCOD thresholds (uncertain: implementation
        loss plus allowance).
    gateway_antenna_diameter_m : 1.85. Gateway dish (REFERENCE.md).
    """

    user_downlink_frequency_hz: float = 11.7e9
    user_uplink_frequency_hz: float = 14.25e9
    gateway_downlink_frequency_hz: float = 18.55e9
    gateway_uplink_frequency_hz: float = 28.75e9
    user_downlink_bandwidth_hz: float = 250e6
    user_uplink_bandwidth_hz: float = 62.5e6
    satellite_eirp_density_dbw_per_mhz: float = 9.8
    user_terminal_g_over_t_db_per_k: float = 9.8
    user_terminal_eirp_dbw: float = 33.2
    satellite_g_over_t_db_per_k: float = 6.0
    user_terminal_dish_diameter_m: float = 0.5
    user_terminal_antenna_efficiency: float = 0.5
    polarization_tilt_deg: float = 45.0
    availability_pct: float = 99.5
    modcod_margin_db: float = 3.0
    gateway_antenna_diameter_m: float = 1.85

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise InputError(f"must be a finite number, got {value!r}", "RadioDefaults", name)
        for name in ("user_downlink_frequency_hz", "user_uplink_frequency_hz",
                     "gateway_downlink_frequency_hz", "gateway_uplink_frequency_hz",
                     "user_downlink_bandwidth_hz", "user_uplink_bandwidth_hz",
                     "user_terminal_dish_diameter_m", "gateway_antenna_diameter_m"):
            if getattr(self, name) <= 0:
                raise InputError(f"must be > 0, got {getattr(self, name)!r}", "RadioDefaults", name)
        if not 0 < self.user_terminal_antenna_efficiency <= 1:
            raise InputError("must be in (0, 1]", "RadioDefaults", "user_terminal_antenna_efficiency")
        if not _MIN_AVAILABILITY_PCT <= self.availability_pct <= _MAX_AVAILABILITY_PCT:
            raise InputError(
                f"must be in [{_MIN_AVAILABILITY_PCT:g}, {_MAX_AVAILABILITY_PCT:g}] %",
                "RadioDefaults", "availability_pct",
            )
        if self.modcod_margin_db < 0:
            raise InputError("must be >= 0 dB", "RadioDefaults", "modcod_margin_db")

    @property
    def satellite_eirp_dbw(self) -> float:
        """Satellite EIRP over one user downlink channel, dBW (density x bandwidth)."""
        bandwidth_mhz = self.user_downlink_bandwidth_hz / 1e6
        return self.satellite_eirp_density_dbw_per_mhz + 10.0 * math.log10(bandwidth_mhz)


#: The defaults used when a scenario sets nothing.
RADIO_DEFAULTS = RadioDefaults()


# --------------------------------------------------------------------------------------------
# Validation at the door
# --------------------------------------------------------------------------------------------

def _floats(value, where: str, name: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"must be numbers, got {value!r}", where, name) from None


def _positive(value, where: str, name: str, unit: str) -> np.ndarray:
    """Float array whose non-NaN entries are > 0 (NaN passes through as 'unknown')."""
    arr = _floats(value, where, name)
    if np.any(arr <= 0):
        bad = arr[arr <= 0].flat[0]
        raise InputError(f"must be > 0 {unit}, got {bad:g}", where, name)
    return arr


def _db_values(value, where: str, name: str) -> np.ndarray:
    """Float array of dB values; +inf is refused (an infinite gain is a bug upstream)."""
    arr = _floats(value, where, name)
    if np.any(arr == np.inf):
        raise InputError("must not be +inf dB", where, name)
    return arr


# --------------------------------------------------------------------------------------------
# Path loss and noise
# --------------------------------------------------------------------------------------------

def free_space_path_loss_db(range_m, frequency_hz) -> np.ndarray:
    """Free-space path loss, dB: 20 log10(4 pi d f / c).

    Parameters
    ----------
    range_m : array_like, > 0. Slant range between the antennas, metres.
    frequency_hz : array_like, > 0, broadcastable with ``range_m``. Carrier frequency, Hz.

    Returns
    -------
    ndarray of float64, broadcast shape, dB (NaN where an input is NaN).

    References
    ----------
    Friis, "A note on a simple transmission formula", Proc. IRE 34 (1946); ITU-R P.525-4, eq. (6)
    (the same law written as 32.4 + 20 log f[MHz] + 20 log d[km]).
    """
    d = _positive(range_m, "free_space_path_loss_db", "range_m", "m")
    f = _positive(frequency_hz, "free_space_path_loss_db", "frequency_hz", "Hz")
    return 20.0 * np.log10(4.0 * np.pi * d * f / SPEED_OF_LIGHT_M_PER_S)


def carrier_to_noise_density_dbhz(eirp_dbw, g_over_t_db_per_k, range_m, frequency_hz,
                                  extra_losses_db=0.0) -> np.ndarray:
    """Carrier-to-noise-density ratio C/N0, dBHz: EIRP - FSPL - losses + G/T - 10 log10(k).

    Parameters
    ----------
    eirp_dbw : array_like. Transmit EIRP towards the receiver, dBW.
    g_over_t_db_per_k : array_like. Receiver figure of merit, dB/K.
    range_m, frequency_hz : array_like, > 0. Slant range (m) and carrier frequency (Hz).
    extra_losses_db : array_like, >= 0 expected. Atmosphere, pointing, polarisation, ... dB.

    All arguments broadcast together; the result has the broadcast shape.
    """
    where = "carrier_to_noise_density_dbhz"
    eirp = _db_values(eirp_dbw, where, "eirp_dbw")
    gt = _db_values(g_over_t_db_per_k, where, "g_over_t_db_per_k")
    losses = _floats(extra_losses_db, where, "extra_losses_db")
    fspl = free_space_path_loss_db(range_m, frequency_hz)
    return eirp - fspl - losses + gt - BOLTZMANN_DBW_PER_K_HZ


def link_snr_db(eirp_dbw, g_over_t_db_per_k, range_m, frequency_hz, bandwidth_hz,
                extra_losses_db=0.0) -> np.ndarray:
    """Signal-to-noise ratio in ``bandwidth_hz``, dB: C/N0 - 10 log10(B).

    With ``bandwidth_hz`` equal to the symbol rate this is Es/N0, the quantity the MODCOD
    thresholds of :mod:`leonet.capacity.modcod` are given in.

    Parameters
    ----------
    eirp_dbw, g_over_t_db_per_k, range_m, frequency_hz, extra_losses_db :
        as in :func:`carrier_to_noise_density_dbhz`.
    bandwidth_hz : array_like, > 0. Noise bandwidth, Hz.

    Returns
    -------
    ndarray of float64 (broadcast shape), dB.
    """
    b = _positive(bandwidth_hz, "link_snr_db", "bandwidth_hz", "Hz")
    cn0 = carrier_to_noise_density_dbhz(eirp_dbw, g_over_t_db_per_k, range_m, frequency_hz, extra_losses_db)
    return cn0 - 10.0 * np.log10(b)


def sinr_db(snr_db, interference_to_noise_db) -> np.ndarray:
    """Signal to interference-plus-noise ratio, dB: S / (N + I), powers summed linearly.

    Parameters
    ----------
    snr_db : array_like. S/N, dB.
    interference_to_noise_db : array_like, broadcastable. I/N, dB; -inf for no interference.
        Interference (other beams, other systems, a jammer) is treated as extra Gaussian noise.

    Returns
    -------
    ndarray of float64, dB: snr_db - 10 log10(1 + 10^(I/N / 10)).
    """
    snr = _floats(snr_db, "sinr_db", "snr_db")
    inr = _floats(interference_to_noise_db, "sinr_db", "interference_to_noise_db")
    # log1p keeps full precision when the interference is far below the noise.
    return snr - 10.0 * np.log1p(10.0 ** (inr / 10.0)) / np.log(10.0)


def user_downlink_snr_db(range_m, atmospheric_loss_db=0.0,
                         defaults: RadioDefaults = RADIO_DEFAULTS) -> np.ndarray:
    """SNR (dB) of the satellite-to-dish Ku link with the radio defaults, over one channel.

    Parameters
    ----------
    range_m : array_like, > 0. Slant range, metres.
    atmospheric_loss_db : array_like. From :func:`atmospheric_attenuation_db`, dB.
    defaults : RadioDefaults.
    """
    return link_snr_db(defaults.satellite_eirp_dbw, defaults.user_terminal_g_over_t_db_per_k, range_m,
                       defaults.user_downlink_frequency_hz, defaults.user_downlink_bandwidth_hz,
                       atmospheric_loss_db)


def user_uplink_snr_db(range_m, atmospheric_loss_db=0.0,
                       defaults: RadioDefaults = RADIO_DEFAULTS) -> np.ndarray:
    """SNR (dB) of the dish-to-satellite Ku link with the radio defaults, over one channel.
    Arguments as in :func:`user_downlink_snr_db` (attenuation at the uplink frequency)."""
    return link_snr_db(defaults.user_terminal_eirp_dbw, defaults.satellite_g_over_t_db_per_k, range_m,
                       defaults.user_uplink_frequency_hz, defaults.user_uplink_bandwidth_hz,
                       atmospheric_loss_db)


# --------------------------------------------------------------------------------------------
# Atmosphere (ITU-R, through itur)
# --------------------------------------------------------------------------------------------

#: Keys of :func:`atmospheric_attenuation_components_db`.
ATTENUATION_COMPONENTS = ("gas", "cloud", "rain", "scintillation", "total")


def _atmosphere_inputs(where, lat_deg, lon_deg, elevation_deg, frequency_hz, availability_pct,
                       dish_diameter_m, site_height_m, antenna_efficiency, polarization_tilt_deg):
    """Validate and broadcast the site/path arguments; returns the broadcast arrays and scalars."""
    arrays = {
        "lat_deg": _floats(lat_deg, where, "lat_deg"),
        "lon_deg": _floats(lon_deg, where, "lon_deg"),
        "elevation_deg": _floats(elevation_deg, where, "elevation_deg"),
        "frequency_hz": _floats(frequency_hz, where, "frequency_hz"),
    }
    if site_height_m is not None:
        arrays["site_height_m"] = _floats(site_height_m, where, "site_height_m")
    try:
        b = dict(zip(arrays, np.broadcast_arrays(*arrays.values()), strict=True))
    except ValueError:
        shapes = {k: v.shape for k, v in arrays.items()}
        raise InputError(f"arrays do not broadcast together: {shapes}", where) from None

    checks = (
        ("lat_deg", -90.0, 90.0, "deg"),
        ("lon_deg", -180.0, 360.0, "deg"),
        ("elevation_deg", _MIN_ELEVATION_DEG, 90.0, "deg (ITU-R P.618 holds from 5 deg)"),
        ("frequency_hz", _MIN_ITU_FREQUENCY_HZ, _MAX_ITU_FREQUENCY_HZ, "Hz (ITU-R P.618 range)"),
        ("site_height_m", -500.0, 9000.0, "m"),
    )
    for name, lo, hi, unit in checks:
        if name not in b:
            continue
        v = b[name]
        bad = (v < lo) | (v > hi) | np.isinf(v)
        if name == "site_height_m":
            bad |= np.isnan(v)  # a given height must be a number; pass None to look it up
        if np.any(bad):
            raise InputError(f"must be in [{lo:g}, {hi:g}] {unit}, got {v[bad].flat[0]:g}", where, name)

    scalars = {}
    for name, value, lo, hi in (
        ("availability_pct", availability_pct, _MIN_AVAILABILITY_PCT, _MAX_AVAILABILITY_PCT),
        ("dish_diameter_m", dish_diameter_m, 1e-3, 100.0),
        ("antenna_efficiency", antenna_efficiency, 1e-3, 1.0),
        ("polarization_tilt_deg", polarization_tilt_deg, 0.0, 90.0),
    ):
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise InputError(f"must be one number, got {value!r}", where, name) from None
        if not lo <= x <= hi:  # also refuses NaN
            raise InputError(f"must be in [{lo:g}, {hi:g}], got {value!r}", where, name)
        scalars[name] = x
    return b, scalars


#: |latitude| at which the ITU-R maps are read for a site nearer a pole, deg (see _itur_components).
POLE_LATITUDE_LIMIT_DEG = 90.0 - 1e-4


#: Southern edge of the gap in the ITU-R maps near the North Pole, deg (see _fill_polar_gap):
#: itur (0.4.0) ships the P.836-6 water-vapour and P.840-7 cloud maps (1.125 deg grid) with the row
#: at 88.875 deg N missing (NaN) for longitudes 37.125-358.875 deg, so any point whose
#: interpolation reads that row, north of 86.625 deg, gets NaN gas and cloud terms there.
POLAR_GAP_EDGE_LAT_DEG = 86.625


def _itur_components(lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg):
    """One itur call for points sharing a frequency; returns five float arrays (dB)."""
    parts = _itur_call(lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg)
    return _fill_polar_gap(parts, lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg)


def _fill_polar_gap(parts, lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg):
    """``parts`` (gas, cloud, rain, scintillation, total) with the NaN terms of points north of
    :data:`POLAR_GAP_EDGE_LAT_DEG` filled in: each such term is interpolated linearly in latitude
    between its value at the gap's edge (86.625 deg, the point's longitude) and at the pole (where
    the maps' top row, valid, is the same at every longitude), as the maps' own bilinear
    interpolation would across the missing row; the total is then P.618's sum of the terms."""
    lat = np.asarray(lat, dtype=np.float64)
    nan = np.isnan(np.column_stack(parts))
    rows = np.flatnonzero(nan.any(axis=1) & (lat > POLAR_GAP_EDGE_LAT_DEG))
    if not len(rows):
        return parts
    k = len(rows)
    at = np.r_[np.full(k, POLAR_GAP_EDGE_LAT_DEG), np.full(k, POLE_LATITUDE_LIMIT_DEG)]
    along = np.r_[np.asarray(lon, dtype=np.float64)[rows], np.zeros(k)]   # the pole: any longitude
    twice = np.r_[np.asarray(el, dtype=np.float64)[rows], np.asarray(el, dtype=np.float64)[rows]]
    hs = None if height_km is None else np.r_[np.asarray(height_km)[rows], np.asarray(height_km)[rows]]
    edge_pole = _itur_call(at, along, twice, f_ghz, p_pct, diameter_m, hs, eta, tau_deg)
    w = (lat[rows] - POLAR_GAP_EDGE_LAT_DEG) / (90.0 - POLAR_GAP_EDGE_LAT_DEG)
    out = [np.array(q, dtype=np.float64) for q in parts]
    for j in range(4):   # gas, cloud, rain, scintillation; the total is recomputed below
        fill = (1.0 - w) * edge_pole[j][:k] + w * edge_pole[j][k:]
        out[j][rows] = np.where(nan[rows, j], fill, out[j][rows])
    gas, cloud, rain, scint = (out[j][rows] for j in range(4))
    out[4][rows] = gas + np.sqrt((rain + cloud) ** 2 + scint ** 2)   # P.618-13 2.5, as itur sums them
    return out


def _itur_call(lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg):
    import itur  # imported here: loading it takes ~2 s, and FSPL/SNR users should not pay that

    # itur (0.4.0) returns NaN gas and scintillation terms at exactly -90 deg (its maps' grid
    # edge); 1e-4 deg (11 m) off the pole the maps answer, and the atmosphere is the same there
    lat = np.clip(lat, -POLE_LATITUDE_LIMIT_DEG, POLE_LATITUDE_LIMIT_DEG)
    with warnings.catch_warnings():
        # itur (0.4.0) warns about the P.676 approximate method whenever an elevation lies
        # within 5 deg of 90 (it tests mod(el, 90) < 5), although the method holds up to 90 deg;
        # elevations were validated to [5, 90] above, so that one message carries no information.
        warnings.filterwarnings("ignore", message="The approximated method to compute the gaseous")
        parts = itur.atmospheric_attenuation_slant_path(
            lat, lon, f_ghz, el, p_pct, diameter_m, hs=height_km, eta=eta, tau=tau_deg,
            return_contributions=True,
        )
    n = lat.size
    return [np.broadcast_to(np.asarray(getattr(q, "value", q), dtype=np.float64), (n,)) for q in parts]


def atmospheric_attenuation_components_db(lat_deg, lon_deg, elevation_deg, frequency_hz,
                                          availability_pct=99.5, dish_diameter_m=0.5,
                                          site_height_m=None, antenna_efficiency=0.5,
                                          polarization_tilt_deg=45.0) -> dict[str, np.ndarray]:
    """Slant-path attenuation by gases, clouds, rain and scintillation, and their total, in dB.

    The total is ITU-R P.618-13 section 2.5: A = A_gas + sqrt((A_rain + A_cloud)^2 + A_scint^2),
    with gas (P.676-12 Annex 2) and cloud (P.840) terms taken at max(1 %, p) as P.618 prescribes.
    Each is the attenuation exceeded for (100 - availability_pct) % of an average year.

    Parameters
    ----------
    lat_deg, lon_deg : array_like. Site geodetic latitude [-90, 90] and longitude [-180, 360], deg.
    elevation_deg : array_like. Elevation of the satellite seen from the site, [5, 90] deg; NaN
        (satellite not in view) gives NaN in every output.
    frequency_hz : array_like. Carrier frequency, 1-55 GHz, Hz.
    availability_pct : float in [50, 99.999]. E.g. 99.5 -> attenuation exceeded 0.5 % of the year.
    dish_diameter_m : float. Receive aperture diameter, m (scintillation aperture averaging).
    site_height_m : None or array_like. Site height above mean sea level, m; None looks it up in
        the ITU-R P.1511 topography map. (A WGS84 ellipsoidal height differs from it by the geoid
        undulation, within about +-100 m, which moves the result little.)
    antenna_efficiency : float in (0, 1]. Aperture efficiency (P.618 scintillation).
    polarization_tilt_deg : float in [0, 90]. Polarisation tilt; 45 for circular (P.838).

    All array arguments broadcast together.

    Returns
    -------
    dict with keys :data:`ATTENUATION_COMPONENTS`, each an ndarray of float64 of the broadcast
    shape, dB.

    Notes
    -----
    Cost: the ITU maps load on the first call (about 4 s, once per process), and each point then
    costs of the order of 0.2 ms. Duplicate (site, elevation, frequency) points are computed once,
    and itur is called once per distinct frequency. The attenuation at a given availability is a
    long-term statistic and does not change with time: callers should compute it per site (at the
    elevations they need, e.g. a grid from 25 to 90 deg to interpolate) once per scenario and
    cache it, never once per time step.

    References
    ----------
    ITU-R P.618-13 (2017); ITU-R P.676-12; ITU-R P.840-7; ITU-R P.837-7 (rain rate); ITU-R P.838-3
    (specific attenuation); ITU-R P.839-4 (rain height); ITU-R P.1511 (topography). Implemented by
    ITU-Rpy (``itur``, del Portillo), validated by its authors against the ITU-R Study Group 3
    validation examples (CG-3M3J-13-ValEx).
    """
    where = "atmospheric_attenuation_db"
    b, s = _atmosphere_inputs(where, lat_deg, lon_deg, elevation_deg, frequency_hz, availability_pct,
                              dish_diameter_m, site_height_m, antenna_efficiency, polarization_tilt_deg)
    shape = b["lat_deg"].shape
    out = {k: np.full(shape, np.nan) for k in ATTENUATION_COMPONENTS}
    columns = [b[k].reshape(-1) for k in ("lat_deg", "lon_deg", "elevation_deg", "frequency_hz")]
    if "site_height_m" in b:
        columns.append(b["site_height_m"].reshape(-1))
    points = np.column_stack(columns) if columns[0].size else np.empty((0, len(columns)))
    known = ~np.isnan(points).any(axis=1)
    if not known.any():
        return out

    unique_points, inverse = np.unique(points[known], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    results = np.empty((unique_points.shape[0], len(ATTENUATION_COMPONENTS)))
    p_pct = 100.0 - s["availability_pct"]
    for f_hz in np.unique(unique_points[:, 3]):
        rows = np.flatnonzero(unique_points[:, 3] == f_hz)
        pts = unique_points[rows]
        height_km = pts[:, 4] / 1e3 if pts.shape[1] > 4 else None
        parts = _itur_components(pts[:, 0], pts[:, 1], pts[:, 2], f_hz / 1e9, p_pct,
                                 s["dish_diameter_m"], height_km, s["antenna_efficiency"],
                                 s["polarization_tilt_deg"])
        # itur returns (gas, cloud, rain, scintillation, total), the order of ATTENUATION_COMPONENTS.
        results[rows] = np.column_stack(parts)
        bad = np.flatnonzero(np.isnan(results[rows]).any(axis=1))
        if len(bad):
            # a NaN attenuation would read as a link that does not close: say where instead
            lat, lon, el = pts[bad[0], :3]
            raise InputError(f"ITU-R attenuation is undefined (NaN) at lat {lat:g} deg, lon {lon:g} deg, elevation "
                             f"{el:g} deg, {f_hz / 1e9:g} GHz ({len(bad)} point(s))", location=where)

    flat_known = np.flatnonzero(known)
    for j, key in enumerate(ATTENUATION_COMPONENTS):
        flat = out[key].reshape(-1)
        flat[flat_known] = results[inverse, j]
    return out


def atmospheric_attenuation_db(lat_deg, lon_deg, elevation_deg, frequency_hz, availability_pct=99.5,
                               dish_diameter_m=0.5, site_height_m=None, antenna_efficiency=0.5,
                               polarization_tilt_deg=45.0) -> np.ndarray:
    """Total slant-path attenuation (rain + gases + clouds + scintillation), dB, exceeded for
    (100 - availability_pct) % of an average year.

    Arguments, cost and references as in :func:`atmospheric_attenuation_components_db` (compute
    per site once and cache: the value does not change with time). Returns an ndarray of
    float64 of the broadcast shape of the array arguments; NaN where the elevation is NaN.
    """
    return atmospheric_attenuation_components_db(
        lat_deg, lon_deg, elevation_deg, frequency_hz, availability_pct, dish_diameter_m,
        site_height_m, antenna_efficiency, polarization_tilt_deg,
    )["total"]
