"""Batch SGP4 through leonet against skyfield (a test-only oracle)."""

from datetime import datetime, timezone

import numpy as np
import pytest
from skyfield.api import EarthSatellite, load
from skyfield.framelib import itrs

from leonet.constants import NS_PER_S
from leonet.space.constellation import Constellation, build_satrecs
from leonet.space.elements import OrbitElements
from leonet.space.propagate import ERROR_REASONS, propagate, propagate_teme
from leonet.space.walker import WalkerShell
from leonet.timeutil import utc_to_ns

EPOCH_NS = utc_to_ns("2022-03-01T12:00:00Z")
OFFSETS_S = np.array([0, 600, 3600, 6 * 3600, 86400])


@pytest.fixture(scope="module")
def small():
    return Constellation.from_walker([
        WalkerShell("a", 550e3, 53.0, 4, 3, EPOCH_NS),
        WalkerShell("b", 560e3, 97.6, 2, 2, EPOCH_NS - 3 * 86400 * NS_PER_S, eccentricity=0.001, arg_perigee_deg=40.0),
    ])


def _skyfield_times(ts, t_ns):
    return [ts.from_datetime(datetime.fromtimestamp(t / 1e9, tz=timezone.utc)) for t in t_ns]


def test_teme_matches_skyfield_within_1_m(small):
    ts = load.timescale(builtin=True)
    t_ns = EPOCH_NS + OFFSETS_S * NS_PER_S
    r, code = propagate_teme(small, t_ns)
    assert (code == 0).all()
    for i, sat in enumerate(build_satrecs(small.elements)):
        es = EarthSatellite.from_satrec(sat, ts)
        for k, t in enumerate(_skyfield_times(ts, t_ns)):
            r_km, _, _ = es._position_and_velocity_TEME_km(t)
            assert np.linalg.norm(r[k, i] - np.asarray(r_km) * 1e3) < 1.0


def test_ecef_matches_skyfield_itrs_within_5_cm(small):
    """The default frame rotates by GMST of UT1 (IERS), as skyfield does (without polar motion, as
    skyfield's built-in timescale). On UTC (before issue 16) this was ~50 m off on this date
    (UT1-UTC = -0.10 s); more dates in test_frames_ut1.py."""
    ts = load.timescale(builtin=True)
    t_ns = EPOCH_NS + OFFSETS_S * NS_PER_S
    p = propagate(small, t_ns)
    worst = 0.0
    for i, sat in enumerate(build_satrecs(small.elements)):
        es = EarthSatellite.from_satrec(sat, ts)
        for k, t in enumerate(_skyfield_times(ts, t_ns)):
            worst = max(worst, np.linalg.norm(p.ecef_m[k, i] - es.at(t).frame_xyz(itrs).m))
    assert worst < 0.05


def test_failed_propagation_is_nan_with_code_not_an_exception():
    # A satellite with a decaying orbit (huge drag) fails after a while; its neighbour does not.
    el = OrbitElements(
        name=["ok", "decays"], catalog_id=["", ""], epoch_ns=EPOCH_NS,
        mean_motion_rev_per_day=[15.05, 16.4], eccentricity=[0.0001, 0.0001], inclination_deg=53.0,
        raan_deg=0.0, arg_perigee_deg=0.0, mean_anomaly_deg=0.0, bstar_per_earth_radius=[0.0, 0.5],
    )
    c = Constellation.from_parts([("x", el, np.zeros(2), np.arange(2))])
    t_ns = EPOCH_NS + np.array([0, 30 * 86400]) * NS_PER_S
    p = propagate(c, t_ns)
    assert p.error_code[0].tolist() == [0, 0]
    assert p.error_code[1, 0] == 0 and p.error_code[1, 1] != 0
    assert np.isnan(p.ecef_m[1, 1]).all() and np.isfinite(p.ecef_m[1, 0]).all()
    assert int(p.error_code[1, 1]) in ERROR_REASONS


def test_satrec_epoch_equals_element_epoch():
    from leonet.timeutil import jd_to_ns

    el = OrbitElements(
        name=["x"], catalog_id=["25544"], epoch_ns=utc_to_ns("2024-01-15T12:34:56.789012Z"),
        mean_motion_rev_per_day=15.5, eccentricity=0.0005, inclination_deg=51.6, raan_deg=10.0,
        arg_perigee_deg=20.0, mean_anomaly_deg=30.0,
    )
    sat = build_satrecs(el)[0]
    assert abs(jd_to_ns(sat.jdsatepoch, sat.jdsatepochF) - el.epoch_ns[0]) <= 1_000  # 1 us
    assert sat.satnum == 25544
