"""Propagation-delay floors from REFERENCE.md (Huston, APNIC 2024): at 550 km, 3.7 ms RTT to a
satellite at zenith and 7.5 ms at 25 deg elevation (RTT = 2 x slant range / c)."""

import numpy as np
import pytest

from leonet.constants import SPEED_OF_LIGHT_M_PER_S, WGS84_A_M
from leonet.network.visibility import VisibilityIndex, VisibilityRule, max_slant_range_m
from leonet.space.frames import geodetic_to_ecef


def rtt_ms(range_m):
    return 2 * range_m / SPEED_OF_LIGHT_M_PER_S * 1e3


def test_zenith_rtt_floor():
    assert rtt_ms(550e3) == pytest.approx(3.7, abs=0.05)


def test_rtt_at_25_deg_elevation():
    d = max_slant_range_m(WGS84_A_M, WGS84_A_M + 550e3, 25.0)
    assert d == pytest.approx(1_123e3, abs=2e3)  # spherical-Earth slant range
    assert rtt_ms(d) == pytest.approx(7.5, abs=0.05)


def test_visibility_reports_zenith_and_25_deg_ranges():
    """A site on the equator sees a satellite straight up at 550 km and one at 25 deg elevation."""
    site = geodetic_to_ecef([0.0], [0.0], [0.0])
    idx = VisibilityIndex(site, np.array([0.0]), np.array([0.0]), VisibilityRule(min_elevation_deg=20.0))
    zenith = geodetic_to_ecef(0.0, 0.0, 550e3)
    # Central angle for 25 deg elevation: lambda = 90 - e - asin(R cos e / (R + h)).
    e = np.deg2rad(25.0)
    lam = np.pi / 2 - e - np.arcsin(WGS84_A_M * np.cos(e) / (WGS84_A_M + 550e3))
    low = np.array([(WGS84_A_M + 550e3) * np.cos(lam), 0.0, (WGS84_A_M + 550e3) * np.sin(lam)])
    pairs = idx.query(np.vstack([zenith, low]))
    assert list(pairs.sat) == [0, 1]
    assert pairs.elevation_deg[0] == pytest.approx(90.0, abs=1e-6)
    assert rtt_ms(pairs.range_m[0]) == pytest.approx(3.7, abs=0.05)
    assert pairs.elevation_deg[1] == pytest.approx(25.0, abs=1e-6)
    assert rtt_ms(pairs.range_m[1]) == pytest.approx(7.5, abs=0.05)


def test_one_ground_link_rule_for_query_and_single_links():
    """The query and the single-link check (look-ahead, held gateway links) apply the same rule:
    satellites at 25 deg and at the zenith over the equator, a rule of 30 deg or of 1,000 km,
    and a lost satellite (NaN) that neither ever admits."""
    site = geodetic_to_ecef([0.0], [0.0], [0.0])
    zenith = geodetic_to_ecef(0.0, 0.0, 550e3)
    e = np.deg2rad(25.0)
    lam = np.pi / 2 - e - np.arcsin(WGS84_A_M * np.cos(e) / (WGS84_A_M + 550e3))
    low = np.array([(WGS84_A_M + 550e3) * np.cos(lam), 0.0, (WGS84_A_M + 550e3) * np.sin(lam)])
    sats = np.vstack([zenith, low, np.full(3, np.nan)])
    for rule in (VisibilityRule(min_elevation_deg=30.0), VisibilityRule(min_elevation_deg=None, max_range_m=1e6),
                 VisibilityRule(min_elevation_deg=20.0, max_range_m=2e6)):
        idx = VisibilityIndex(site, np.array([0.0]), np.array([0.0]), rule)
        admitted, el, rng = idx.link(np.zeros(3, dtype=np.int64), sats)
        assert list(np.flatnonzero(admitted)) == list(idx.query(sats).sat)
        assert not admitted[2] and np.isnan(el[2])
        assert list(admitted[:2]) == [True, rule.min_elevation_deg == 20.0]
