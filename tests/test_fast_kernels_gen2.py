"""The compiled kernels of the Gen2-at-scale work (issue 15, item 4) against their references.

Each fast path must return exactly what its reference returns (bit for bit) on random cases:
the direction-grid visibility query against the k-d trees.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.network.visibility import VisibilityIndex, VisibilityRule
from leonet.space.frames import geodetic_to_ecef


def _random_sky(seed: int, n_sites: int, n_sats: int, altitudes_km, nan_share: float):
    rng = np.random.default_rng(seed)
    lat = np.rad2deg(np.arcsin(rng.uniform(-1, 1, n_sites)))
    lon = rng.uniform(-180, 180, n_sites)
    h = rng.uniform(0, 3000, n_sites)
    sites = geodetic_to_ecef(lat, lon, h)
    band = rng.integers(0, len(altitudes_km), n_sats)
    alt = np.asarray(altitudes_km, dtype=float)[band] * 1e3 + rng.uniform(-10e3, 10e3, n_sats)
    u = rng.normal(size=(n_sats, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    sats = u * (6_378_137.0 + alt)[:, None]
    sats[rng.random(n_sats) < nan_share] = np.nan
    return lat, lon, sites, sats, band


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f))
               for f in ("site", "sat", "elevation_deg", "azimuth_deg", "range_m", "obstructed"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n_sites=st.integers(1, 400), n_sats=st.integers(1, 3000),
       n_bands=st.integers(1, 3), k=st.sampled_from([None, 1, 2, 3, 8, 32]),
       min_el=st.sampled_from([None, 0.0, 10.0, 25.0, 40.0]), max_range=st.sampled_from([None, 1.5e6, 3e6]),
       near_share=st.sampled_from([0.0, 0.5, 1.0]), nan_share=st.sampled_from([0.0, 0.1]),
       use_bands=st.booleans())
def test_grid_query_equals_kdtree_query(seed, n_sites, n_sats, n_bands, k, min_el, max_range, near_share,
                                        nan_share, use_bands):
    if min_el is None and max_range is None:
        max_range = 2e6
    altitudes = [340, 550, 1150][:n_bands]
    lat, lon, sites, sats, band = _random_sky(seed, n_sites, n_sats, altitudes, nan_share)
    rule = VisibilityRule(min_elevation_deg=min_el, max_range_m=max_range, nearest_k=k)
    near = np.random.default_rng(seed + 1).random(n_sites) < near_share
    index = VisibilityIndex(sites, lat, lon, rule, nearest_sites=near, sat_band=band if use_bands else None)
    assert _same(index.query(sats), index.query_reference(sats))


def test_grid_query_equals_kdtree_query_gen2_like():
    """A Gen2-like sky (three altitude bands, thousands of satellites) and 5,000 dishes plus a
    few full-view sites, nearest 8 split over the bands: the same pairs, to the bit."""
    lat, lon, sites, sats, band = _random_sky(7, 5_000, 30_000, [345, 530, 610], 0.01)
    near = np.ones(5_000, dtype=bool)
    near[::500] = False
    index = VisibilityIndex(sites, lat, lon, VisibilityRule(25.0, None, 8), nearest_sites=near, sat_band=band)
    fast, ref = index.query(sats), index.query_reference(sats)
    assert len(fast) > 10_000
    assert _same(fast, ref)


def test_grid_query_near_the_poles():
    """Sites and satellites near the poles (every longitude is a candidate there)."""
    rng = np.random.default_rng(3)
    n = 300
    lat = np.r_[rng.uniform(84, 90, n // 2), rng.uniform(-90, -84, n // 2)]
    lon = rng.uniform(-180, 180, n)
    sites = geodetic_to_ecef(lat, lon, np.zeros(n))
    u = rng.normal(size=(4000, 3))
    u[:, 2] *= 4  # crowd the poles
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    sats = u * 6_928_137.0
    for k in (None, 3):
        index = VisibilityIndex(sites, lat, lon, VisibilityRule(25.0, None, k))
        assert _same(index.query(sats), index.query_reference(sats))
