"""RF jamming: interference-to-noise ratio at dishes (user downlink) and at satellites (user
uplink) from ground jammers, by free-space loss.

A jammer radiates ``eirp_dbw`` spread over ``bandwidth_mhz``; the share that falls in one user
channel is what counts (all of it when the jammer is narrower than the channel). The victim's
antenna points at its satellite, not at the jammer: its gain toward the jammer is its main-beam
gain less an off-axis rejection, a parameter that stands for phased-array nulling. So

    I/N = EIRP_in_channel + G_jammer(toward victim) - FSPL(d, f) + G/T - rejection - k - 10 log10(B)

with k Boltzmann's constant (dBW/K/Hz) and B the channel bandwidth. A ground jammer reaches a
ground dish only within the radio horizon (4/3 Earth radius, both antenna heights); beyond it the
dish is shadowed (diffraction over the horizon is neglected, a simplification that errs toward less
jamming). A jammer reaches a satellite's uplink receiver while the satellite is above its horizon.
"""

from __future__ import annotations

import numpy as np

from ..capacity.linkbudget import BOLTZMANN_DBW_PER_K_HZ, RadioDefaults, free_space_path_loss_db
from ..constants import EARTH_RADIUS_M
from ..space.frames import enu_basis, geodetic_to_ecef, look_angles
from ..scenario.events import JammerSpec

SECTOR_BACKLOBE_DB = -20.0  # a sector antenna's gain outside its beam, relative to the main beam


def radio_horizon_m(height1_m, height2_m) -> np.ndarray:
    """Line-of-sight range between antennas at two heights over a 4/3-radius Earth, metres."""
    r_eff = 4.0 / 3.0 * EARTH_RADIUS_M
    return np.sqrt(2 * r_eff * np.maximum(height1_m, 0.0)) + np.sqrt(2 * r_eff * np.maximum(height2_m, 0.0))


def _jammer_gain_db(j: JammerSpec, azimuth_deg: np.ndarray) -> np.ndarray:
    if j.pattern == "isotropic":
        return np.zeros_like(azimuth_deg)
    off = np.abs((azimuth_deg - j.pointing_azimuth_deg + 180.0) % 360.0 - 180.0)
    return np.where(off <= j.beamwidth_deg / 2.0, 0.0, SECTOR_BACKLOBE_DB)


def _in_channel_eirp_dbw(j: JammerSpec, channel_hz: float) -> float:
    spread = j.bandwidth_mhz * 1e6 / channel_hz
    return j.eirp_dbw - 10.0 * np.log10(max(spread, 1.0))


class _PowerSum:
    """A running sum of powers given in dB, one (V,) linear array whatever the number of jammers
    (stacking one row per jammer would hold J x V floats at once); :meth:`db` is -inf where none
    added anything."""

    def __init__(self, shape):
        self.linear = np.zeros(shape)
        self.any = False

    def add(self, power_db: np.ndarray) -> None:
        self.linear += 10.0 ** (power_db / 10.0)
        self.any = True

    def db(self) -> np.ndarray:
        if not self.any:
            return np.full(self.linear.shape, -np.inf)
        with np.errstate(divide="ignore"):
            return 10.0 * np.log10(self.linear)


def _seen_from(j: JammerSpec, victim_ecef_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elevation (deg), azimuth (deg) and range (m) of each victim, ECEF (V, 3) in metres, as the
    jammer's site sees it (:func:`~leonet.space.frames.look_angles`); each (V,)."""
    src = geodetic_to_ecef(j.lat_deg, j.lon_deg, j.ground_elevation_m + j.height_m)
    enu = np.broadcast_to(enu_basis(j.lat_deg, j.lon_deg), (len(victim_ecef_m), 3, 3))
    return look_angles(np.broadcast_to(src, victim_ecef_m.shape), enu, victim_ecef_m)


def _interference_to_noise_db(j: JammerSpec, azimuth_deg, range_m, frequency_hz: float, bandwidth_hz: float,
                               g_over_t_db_per_k: float, rejection_db: float) -> np.ndarray:
    """The module docstring's I/N formula for one jammer, toward victims at (azimuth, range)."""
    fspl = free_space_path_loss_db(np.maximum(range_m, 1.0), frequency_hz)
    return (_in_channel_eirp_dbw(j, bandwidth_hz) + _jammer_gain_db(j, azimuth_deg) - fspl
            + g_over_t_db_per_k - rejection_db - BOLTZMANN_DBW_PER_K_HZ - 10.0 * np.log10(bandwidth_hz))


def dish_interference_to_noise_db(jammers, dish_lat_deg, dish_lon_deg, dish_height_m, radio: RadioDefaults,
                                  rejection_db: float, dish_antenna_height_m: float = 3.0) -> np.ndarray:
    """I/N (dB) in the user downlink channel at each dish, from every downlink jammer; -inf if none.

    Parameters
    ----------
    jammers : iterable of JammerSpec (only band ``user-downlink`` ones count).
    dish_lat_deg, dish_lon_deg, dish_height_m : (D,) dish positions.
    radio : the scenario's radio parameters (frequency, bandwidth, dish G/T).
    rejection_db : dish off-axis rejection toward the jammer, dB.
    """
    lat = np.asarray(dish_lat_deg, dtype=np.float64)
    lon = np.asarray(dish_lon_deg, dtype=np.float64)
    dish = geodetic_to_ecef(lat, lon, np.asarray(dish_height_m, dtype=np.float64) + dish_antenna_height_m)
    total = _PowerSum(lat.shape)
    for j in jammers:
        if j.band != "user-downlink":
            continue
        _, az, d = _seen_from(j, dish)
        horizon = radio_horizon_m(j.height_m, dish_antenna_height_m)
        i_n = _interference_to_noise_db(j, az, d, radio.user_downlink_frequency_hz, radio.user_downlink_bandwidth_hz,
                                        radio.user_terminal_g_over_t_db_per_k, rejection_db)
        total.add(np.where(d <= horizon, i_n, -np.inf))
    return total.db()


def satellite_interference_to_noise_db(jammers, sat_ecef_m: np.ndarray, radio: RadioDefaults,
                                       rejection_db: float) -> np.ndarray:
    """I/N (dB) in the user uplink channel at each satellite's receiver, from every uplink jammer
    that sees the satellite above its horizon; -inf if none. ``sat_ecef_m`` is (N, 3)."""
    sat = np.asarray(sat_ecef_m, dtype=np.float64)
    total = _PowerSum((len(sat),))
    for j in jammers:
        if j.band != "user-uplink":
            continue
        el, az, d = _seen_from(j, sat)
        i_n = _interference_to_noise_db(j, az, np.nan_to_num(d, nan=1e12), radio.user_uplink_frequency_hz,
                                        radio.user_uplink_bandwidth_hz, radio.satellite_g_over_t_db_per_k, rejection_db)
        total.add(np.where(np.nan_to_num(el, nan=-90.0) > 0.0, i_n, -np.inf))
    return total.db()
