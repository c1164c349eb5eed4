"""Walker geometry: spacing, phasing and period against closed-form orbital mechanics."""

import numpy as np
import pytest

from leonet.constants import EARTH_RADIUS_M, NS_PER_S
from leonet.space.constellation import Constellation
from leonet.space.propagate import propagate_teme
from leonet.space.walker import WalkerShell, kepler_period_s, mean_motion_rev_per_day, walker_elements

EPOCH_NS = 1_646_136_000 * NS_PER_S  # 2022-03-01T12:00:00Z


def shell(**kw):
    base = dict(name="s", altitude_m=550e3, inclination_deg=53.0, planes=72, sats_per_plane=22, epoch_ns=EPOCH_NS)
    base.update(kw)
    return WalkerShell(**base)


def test_raan_and_in_plane_spacing():
    el, plane, slot = walker_elements(shell())
    assert len(el) == 1584
    raan = el.raan_deg.reshape(72, 22)
    assert np.allclose(np.diff(raan[:, 0]), 5.0)  # 360 / 72
    assert np.allclose(raan, raan[:, :1])  # one RAAN per plane
    ma = el.mean_anomaly_deg.reshape(72, 22)
    assert np.allclose(np.diff(ma[0]), 360 / 22)
    assert np.array_equal(plane, np.repeat(np.arange(72), 22))
    assert np.array_equal(slot, np.tile(np.arange(22), 72))


def test_half_slot_offset_on_odd_planes():
    el, _, _ = walker_elements(shell(phasing="half-slot"))
    ma = el.mean_anomaly_deg.reshape(72, 22)
    assert np.allclose(ma[1, 0], 180 / 22)
    assert np.allclose(ma[2, 0], 0.0)
    assert np.allclose(ma[71, 0], 180 / 22)


def test_walker_f_phasing_and_star_spread():
    el, _, _ = walker_elements(shell(planes=6, sats_per_plane=10, phasing="walker", walker_f=2, raan_spread_deg=180))
    ma = el.mean_anomaly_deg.reshape(6, 10)
    # Walker i:t/p/f = 53:60/6/2: each plane advanced by f*360/t = 12 deg.
    assert np.allclose(ma[:, 0], np.arange(6) * 12.0)
    assert np.allclose(el.raan_deg.reshape(6, 10)[:, 0], np.arange(6) * 30.0)  # 180 / 6


def test_mean_motion_matches_kepler():
    # Kepler: n = sqrt(mu / a^3); at 550 km the period is ~95.6 min, ~15.05 rev/day.
    assert kepler_period_s(550e3) == pytest.approx(5739.0, abs=2.0)
    assert mean_motion_rev_per_day(550e3) == pytest.approx(86400 / kepler_period_s(550e3), rel=1e-12)


def test_propagated_orbit_period_and_radius():
    """SGP4 of a Walker satellite returns to the same argument of latitude after ~one Kepler period.

    SGP4 includes J2, so the draconic period differs from the Keplerian one by ~0.1 %;
    we allow 0.5 % (~29 s). The mean radius stays within 10 km of R_e + 550 km.
    """
    c = Constellation.from_walker([shell(planes=1, sats_per_plane=1, inclination_deg=53.0)])
    period_s = kepler_period_s(550e3)
    t_ns = EPOCH_NS + (np.arange(0, 1.2 * period_s, 1.0) * NS_PER_S).astype(np.int64)
    r, code = propagate_teme(c, t_ns)
    assert (code == 0).all()
    z = r[:, 0, 2]
    # Ascending node crossings: z goes from negative to positive.
    up = np.flatnonzero((z[:-1] < 0) & (z[1:] >= 0))
    assert len(up) >= 1
    # Satellite starts at the ascending node (u = 0), so the first crossing after start is one period.
    crossing = up[up > 100][0]
    frac = -z[crossing] / (z[crossing + 1] - z[crossing])
    t_cross_s = crossing + frac
    assert t_cross_s == pytest.approx(period_s, rel=5e-3)
    radius = np.linalg.norm(r[:, 0], axis=1)
    assert radius.mean() == pytest.approx(EARTH_RADIUS_M + 550e3, abs=10e3)
