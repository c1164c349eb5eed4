"""The max-rate slot policy: each dish takes the satellite that offers its cell the most
(:mod:`leonet.service.beamtime`)."""

from datetime import date
from pathlib import Path

import numpy as np
import pytest

import leonet
from leonet.service.background import satellite_background_near, subscriber_grid
from leonet.service.beamtime import beam_time_per_cell, offered_rate_bps


def test_offered_rate_by_hand():
    # a V1.5 (20 Gbps, 24 beams) and a V2 Mini (96 Gbps, 48 beams), each with 48 occupied cells
    time_share = np.array([24 / 48, 1.0])
    eta = np.array([4.0, 4.0])                       # bit/s/Hz at the dish's range
    rate = offered_rate_bps(time_share, eta, 250e6, np.array([20e9, 96e9]), np.array([24, 48]))
    # V1.5: half a beam's time x min(250 MHz x 4 = 1 Gbps, 20/24 = 0.833 Gbps)
    assert rate[0] == pytest.approx(0.5 * 20e9 / 24)
    # V2 Mini: a whole beam's time x the radio's 1 Gbps (its 2 Gbps per beam does not bind)
    assert rate[1] == pytest.approx(1e9)


def test_beam_time_is_beams_over_the_cells_each_satellite_serves():
    rng = np.random.default_rng(3)   # 400 towns over a 10 x 10 deg box around (50 N, 10 E)
    grid = subscriber_grid(200_000, rng.uniform(45, 55, 400), rng.uniform(5, 15, 400), rng.uniform(2e4, 2e5, 400))
    # two satellites over the cells, one far away (it sees none)
    lat, lon, alt = np.array([50.0, 50.3, -30.0]), np.array([10.0, 10.5, 150.0]), 550e3
    r = 6_371_008.8 + alt
    xyz = np.c_[r * np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
                r * np.cos(np.radians(lat)) * np.sin(np.radians(lon)), r * np.sin(np.radians(lat))]
    beams, down = np.array([24.0, 48.0, 24.0]), np.array([20e9, 96e9, 20e9])
    t_ns = np.int64(1_704_567_072 * 10**9)
    got = beam_time_per_cell(grid, xyz, np.array([0, 1, 2]), beams, down, 25.0, t_ns, 4e6, 5.76e8)
    _, cells = satellite_background_near(grid, xyz, np.array([0, 1, 2]), 25.0, t_ns, 4e6, 5.76e8,
                                         weight=down, cell_weight=beams)
    np.testing.assert_allclose(got, np.minimum(1.0, beams / np.maximum(cells, 1.0)))
    assert cells[0] > 24 and got[0] < 1.0          # a busy V1.5 time-shares its beams
    # over the same cells a V2 Mini (twice the beams) also takes twice the cells: the same beam time
    assert got[1] == pytest.approx(got[0])
    assert got[2] == 1.0                            # no background under it
    assert (beam_time_per_cell(None, xyz, np.array([0]), beams, down, 25.0, t_ns, 4e6, 5.76e8) == 1.0).all()


@pytest.mark.slow
def test_each_dish_takes_the_satellite_that_offers_its_cell_the_most(tmp_path):
    """On the realism plan of Germany (background on, V1.5 and V2 Mini satellites): every dish's
    serving satellite offers at least as much as any other clear satellite that reaches its PoP,
    and the choice differs from the highest satellite for some dishes (the case is real)."""
    from leonet.realism.calibrated import country_plan, extract_orbit_file
    from leonet.sim.instants import Chunk
    from leonet.sim.stages.links import ground_links_at, links_at
    from leonet.sim.stages.routes import internet_routes_at
    from leonet.sim.stages.choice import offered_rates_bps
    from leonet.sim.stages.serving import assign_serving
    from leonet.sim.stages.sky import sky_at

    orbit = extract_orbit_file(date(2023, 12, 27), Path(tmp_path))
    plan = country_plan("DEU", "DE", date(2024, 1, 6), orbit, "full")
    model = leonet.build_model(leonet.scenario_from_dict(plan.scenario))
    assert model.network.policy == "max-rate"
    t0 = int(model.network.clock.slot_start(model.t_ns[0]))
    chunk = Chunk(model, np.r_[model.t_ns, t0])
    sky = sky_at(chunk, t0)
    routes = internet_routes_at(chunk, links_at(chunk, sky))
    ground = ground_links_at(chunk, sky)
    serving = assign_serving(model, ground, t0, routes, sat_ecef_m=sky.sat_ecef_m)
    reach = routes.reaches(ground.dish, ground.sat)
    score = offered_rates_bps(model, ground, t0, sky.sat_ecef_m)
    differs = 0
    for d in range(len(model.network.dish_sites)):
        mine = (ground.dish == d) & reach
        assert mine.any()
        best = score[mine].max()
        chosen = mine & (ground.sat == serving[d])
        assert chosen.sum() == 1 and score[chosen][0] >= best - 1e-3
        highest = ground.sat[mine][np.argmax(ground.elevation_deg[mine])]
        differs += int(highest != serving[d])
    assert differs >= 1
