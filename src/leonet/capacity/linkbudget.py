"""Radio link budgets: free-space loss, C/N0, SNR and SINR.

All functions take numpy arrays (any shapes that broadcast together) and return float64 arrays
in dB. NaN inputs (e.g. the range to a satellite that is not in view) give NaN outputs, so a batch
never stops half way; inputs that are wrong whatever the geometry (a negative range, a frequency
of zero, an availability of 120 %) raise :class:`leonet.errors.InputError` naming the function and
the argument.

The chain for one link (ITU-R S.1328 / any satellite-communications text, e.g. Maral & Bousquet,
"Satellite Communications Systems", 5th ed., ch. 5)::

    C/N0 [dBHz] = EIRP - FSPL - losses + G/T - 10 log10(k)
    SNR  [dB]   = C/N0 - 10 log10(B)

with k Boltzmann's constant. The atmospheric part of "losses" (ITU-R P.618, P.676, P.840) is
:mod:`leonet.capacity.atmosphere`.

:class:`RadioDefaults` holds the Starlink-like defaults (frequencies, EIRPs, G/T, bandwidths), each
with its source; values marked (uncertain) are estimates a scenario should feel free to override.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..constants import SPEED_OF_LIGHT_M_PER_S
from ..errors import InputError
from .arrays import db_array, float_array, positive_array
from .atmosphere import MAX_AVAILABILITY_PCT, MIN_AVAILABILITY_PCT

#: Boltzmann's constant, J/K (exact since the 2019 SI redefinition).
BOLTZMANN_J_PER_K = 1.380649e-23
#: 10 log10(k), dBW/(K Hz): about -228.6.
BOLTZMANN_DBW_PER_K_HZ = 10.0 * math.log10(BOLTZMANN_J_PER_K)


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
        if not MIN_AVAILABILITY_PCT <= self.availability_pct <= MAX_AVAILABILITY_PCT:
            raise InputError(
                f"must be in [{MIN_AVAILABILITY_PCT:g}, {MAX_AVAILABILITY_PCT:g}] %",
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
    d = positive_array(range_m, "free_space_path_loss_db", "range_m", "m")
    f = positive_array(frequency_hz, "free_space_path_loss_db", "frequency_hz", "Hz")
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
    eirp = db_array(eirp_dbw, where, "eirp_dbw")
    gt = db_array(g_over_t_db_per_k, where, "g_over_t_db_per_k")
    losses = float_array(extra_losses_db, where, "extra_losses_db")
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
    b = positive_array(bandwidth_hz, "link_snr_db", "bandwidth_hz", "Hz")
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
    snr = float_array(snr_db, "sinr_db", "snr_db")
    inr = float_array(interference_to_noise_db, "sinr_db", "interference_to_noise_db")
    # log1p keeps full precision when the interference is far below the noise.
    return snr - 10.0 * np.log1p(10.0 ** (inr / 10.0)) / np.log(10.0)


def user_downlink_snr_db(range_m, atmospheric_loss_db=0.0,
                         defaults: RadioDefaults = RADIO_DEFAULTS) -> np.ndarray:
    """SNR (dB) of the satellite-to-dish Ku link with the radio defaults, over one channel.

    Parameters
    ----------
    range_m : array_like, > 0. Slant range, metres.
    atmospheric_loss_db : array_like. From :func:`~leonet.capacity.atmosphere.atmospheric_attenuation_db`, dB.
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
