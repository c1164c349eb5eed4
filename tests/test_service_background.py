"""Background load from subscribers outside the scenario (leonet.service.background)."""

import numpy as np
import pytest

from leonet.errors import InputError
from leonet.service.background import (EARTH_RADIUS_M, background_utilisation, cell_background_bps,
                                       cell_background_subscribers, footprint_radius_m, global_subscribers,
                                       residual_capacity_bps, satellite_background_bps, subscriber_grid,
                                       world_cities)
from leonet.service.traffic import busy_hour_demand_per_dish_bps

S = 10**9
T0 = 1_704_067_200 * S                 # 2024-01-01T00:00:00Z


def _busy_hour_at(lon_deg):
    """An instant that is 21:00 local solar time (diurnal factor 1) at lon_deg."""
    return T0 + int(round(((21 - lon_deg / 15) % 24) * 3600 * S))


def test_one_city_one_satellite_overhead():
    grid = subscriber_grid(1000, [50.45], [30.52], [3_000_000])
    per_sub = 4e6
    load = satellite_background_bps(grid, [50.45], [30.52], 550e3, 25.0, _busy_hour_at(30.52), per_sub)
    assert load[0] == pytest.approx(1000 * per_sub)
    # At the trough (04:00 local) a fifth of it.
    t4 = _busy_hour_at(30.52) + 7 * 3600 * S
    assert satellite_background_bps(grid, [50.45], [30.52], 550e3, 25.0, t4, per_sub)[0] == pytest.approx(0.2 * 1000 * per_sub)
    # Two satellites over it share it; a far one gets nothing.
    load = satellite_background_bps(grid, [50.45, 51.0, -30.0], [30.52, 31.0, 0.0], 550e3, 25.0,
                                    _busy_hour_at(30.52), per_sub)
    np.testing.assert_allclose(load, [500 * per_sub, 500 * per_sub, 0.0])
    # A satellite that does not serve takes no share.
    load = satellite_background_bps(grid, [50.45, 51.0], [30.52, 31.0], 550e3, 25.0, _busy_hour_at(30.52),
                                    per_sub, serving=[False, True])
    np.testing.assert_allclose(load, [0.0, 1000 * per_sub])


def test_footprint_edge_is_at_the_minimum_elevation():
    for h, e in ((550e3, 25.0), (340e3, 40.0), (1200e3, 10.0)):
        lam = footprint_radius_m(h, e) / EARTH_RADIUS_M
        r = EARTH_RADIUS_M
        elevation = np.degrees(np.arctan2(np.cos(lam) - r / (r + h), np.sin(lam)))
        assert elevation == pytest.approx(e, abs=1e-9)
    assert footprint_radius_m(550e3, 25.0) == pytest.approx(940e3, rel=0.01)
    # A city just inside / just outside the footprint.
    grid = subscriber_grid(10, [0.0], [0.0], [1.0])
    edge_deg = np.degrees(footprint_radius_m(550e3, 25.0) / EARTH_RADIUS_M)
    inside = satellite_background_bps(grid, [0.0], [edge_deg - 0.05], 550e3, 25.0, _busy_hour_at(0), 1.0)
    outside = satellite_background_bps(grid, [0.0], [edge_deg + 0.05], 550e3, 25.0, _busy_hour_at(0), 1.0)
    assert inside[0] == pytest.approx(10.0) and outside[0] == 0.0


def test_load_is_conserved_over_overlapping_footprints():
    rng = np.random.default_rng(4)
    lat, lon = rng.uniform(-55, 55, 500), rng.uniform(-180, 180, 500)
    grid = subscriber_grid(1e6, lat, lon, rng.integers(1, 10**6, 500))
    sat_lat, sat_lon = rng.uniform(-53, 53, 1500), rng.uniform(-180, 180, 1500)
    t = T0 + 5 * 3600 * S
    load = satellite_background_bps(grid, sat_lat, sat_lon, 550e3, 25.0, t, 1.0)
    # Oracle: brute-force great-circle distances, cells seen by at least one satellite.
    from leonet.ground.geodesy import great_circle_distance_m
    from leonet.service.traffic import diurnal_factor, local_solar_hour
    d = great_circle_distance_m(grid.lat_deg[:, None], grid.lon_deg[:, None], sat_lat[None], sat_lon[None])
    seen = d <= footprint_radius_m(550e3, 25.0) * (1 + 1e-9)
    f = diurnal_factor(local_solar_hour(grid.lon_deg, t))
    share = np.where(seen.any(1)[:, None], seen / np.maximum(seen.sum(1), 1)[:, None], 0.0)
    np.testing.assert_allclose(load, (grid.count * f) @ share, rtol=1e-6, atol=1e-6)
    assert load.sum() < grid.total                 # diurnal factor <= 1


def test_subscriber_totals_follow_the_announcements():
    assert global_subscribers("2022-12-15") == 1_000_000
    assert global_subscribers("2024-09-15") == 4_000_000
    mid = global_subscribers("2023-02-15")          # 2 of 9 months from 1 M (Dec 2022) to 2 M (Sep 2023)
    assert 1_000_000 < mid < 2_000_000
    assert global_subscribers(np.int64(T0)) == pytest.approx(2_300_000 + 700_000 * 17 / 152, rel=1e-6)
    with pytest.raises(InputError, match="background.subscribers"):
        global_subscribers("2020-01-01")
    # the announcements of 2025-26 (6 M on 10 Jun 2025, 10 M on 13 Feb 2026); none is extrapolated
    assert global_subscribers("2025-06-10") == 6_000_000 and global_subscribers("2026-02-13") == 10_000_000
    assert 5_000_000 < global_subscribers("2025-03-01") < 5_200_000
    with pytest.raises(InputError, match="to 2026-02-13"):
        global_subscribers("2026-08-22")


def test_grid_density_integrates_to_the_total():
    rng = np.random.default_rng(1)
    lat, lon, pop = rng.uniform(-60, 70, 300), rng.uniform(-180, 180, 300), rng.integers(1, 10**6, 300)
    grid = subscriber_grid(123_456, lat, lon, pop, cell_deg=2.0)
    assert grid.total == pytest.approx(123_456) and grid.subscribers.sum() == pytest.approx(123_456)
    # density x area over every grid cell gives the total back.
    rows, cols = grid.subscribers.shape
    clat = -90 + (np.arange(rows) + 0.5) * 2.0
    clon = -180 + (np.arange(cols) + 0.5) * 2.0
    la, lo = np.meshgrid(clat, clon, indexing="ij")
    area = EARTH_RADIUS_M**2 * np.radians(2.0) * (np.sin(np.radians(la + 1)) - np.sin(np.radians(la - 1)))
    assert cell_background_subscribers(grid, la.ravel(), lo.ravel(), area.ravel()).sum() == pytest.approx(123_456)
    # A 24 km cell in a 1-deg grid cell holding 1,000 subscribers at 50 N.
    one = subscriber_grid(1000, [50.5], [30.5], [1])
    g_area = EARTH_RADIUS_M**2 * np.radians(1) * (np.sin(np.radians(51)) - np.sin(np.radians(50)))
    assert cell_background_subscribers(one, 50.2, 30.9, 24e3**2) == pytest.approx(1000 * 24e3**2 / g_area)
    bps = cell_background_bps(one, 50.2, 30.9, 24e3**2, _busy_hour_at(30.9), 4e6)
    assert bps == pytest.approx(1000 * 24e3**2 / g_area * 4e6)


def test_bad_grid_inputs():
    with pytest.raises(InputError, match="cell_deg"):
        subscriber_grid(1, [0], [0], [1], cell_deg=0.7)
    with pytest.raises(InputError, match="no population"):
        subscriber_grid(1, [0], [0], [0])


def test_world_cities_spread():
    lat, lon, pop = world_cities(["UA", "PL"])
    grid = subscriber_grid(50_000, lat, lon, pop)
    assert grid.total == pytest.approx(50_000)
    assert 44 <= grid.lat_deg.min() and grid.lat_deg.max() <= 55
    # Kyiv's grid cell holds the most Ukrainian subscribers.
    kyiv = cell_background_subscribers(grid, 50.45, 30.52, 1.0)
    assert kyiv > cell_background_subscribers(grid, 48.0, 37.0, 1.0)


def test_utilisation_and_residual():
    np.testing.assert_allclose(background_utilisation([0, 5, 20, 1], [10, 10, 10, 0]), [0, 0.5, 1, 1])
    np.testing.assert_allclose(residual_capacity_bps([10, 10, 10], [0, 4, 30]), [10, 6, 0])
    down, _ = busy_hour_demand_per_dish_bps()
    assert down > 0


def test_sold_out_grid_caps_the_density():
    from leonet.service.background import subscriber_density_per_m2, sold_out_grid
    # A big city (1e6 subscribers) and a small town (100) in different 1-deg cells.
    grid = subscriber_grid(1_000_100, [40.7, 44.5], [-74.0, -100.5], [10_000_000, 1_000])
    cap = 1e-6                                            # 1 subscriber per km^2
    capped = sold_out_grid(grid, cap)
    assert subscriber_density_per_m2(capped, 40.7, -74.0) == pytest.approx(cap)
    assert subscriber_density_per_m2(capped, 44.5, -100.5) == pytest.approx(subscriber_density_per_m2(grid, 44.5, -100.5))
    assert capped.total == pytest.approx(capped.subscribers.sum()) and capped.total < 20_000
    town = satellite_background_bps(capped, [44.5], [-100.5], 550e3, 25.0, _busy_hour_at(-100.5), 1.0)
    assert town[0] == pytest.approx(100.0)
