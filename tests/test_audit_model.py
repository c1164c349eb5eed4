"""Audit fixes in the model: no made-up radio figures for dishes without a satellite, a bounded
longest-visibility lookahead, a bounded background grid, a complete custom satellite, an explicit
0 deg minimum elevation kept, and jamming summed in one running array."""

import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest

import leonet
from leonet.errors import InputError

# A small Walker shell at 53 deg: a dish at 84 deg N never sees a satellite (NO_SATS).
SHELL = {"shells": [{"name": "s1", "altitude_km": 550, "inclination_deg": 53, "planes": 12, "sats_per_plane": 12}]}


def scenario(**top) -> dict:
    doc = {
        "name": "audit",
        "constellation": SHELL,
        "ground": {"dish_groups": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 2},
                                   {"name": "Polar", "lat_deg": 84.0, "lon_deg": 30.0, "count": 1}]},
        "time": {"start": "2024-01-15T06:00:00Z", "duration_s": 60, "step_s": 20},
        "outputs": {"visibility_pairs": False},
    }
    doc.update(top)
    return doc


def _steps(sc):
    from leonet.sim.instants import Chunk
    from leonet.sim.step import instants_needed, step_at

    m = leonet.build_model(sc)
    chunk, plans = Chunk(m, instants_needed(m, m.t_ns)), {}
    return m, [step_at(chunk, int(t), plans) for t in m.t_ns]


# -- 1. radio figures of dishes without a serving satellite -------------------------------------

def test_unserved_dish_has_no_sinr_or_efficiency():
    from leonet.sim.step import compute_chunk

    m = leonet.build_model(leonet.scenario_from_dict(scenario(capacity={"enabled": True, "atmosphere": False})))
    d = compute_chunk(m, m.t_ns)["dish_steps"].to_pandas()
    unserved, served = d[d["serving_sat"] < 0], d[d["serving_sat"] >= 0]
    assert len(unserved) and len(served)
    for col in ("sinr_down_db", "sinr_up_db", "efficiency_down_bps_per_hz"):
        assert unserved[col].isna().all(), col
        assert served[col].notna().all(), col
    assert (unserved["downlink_bps"] == 0).all()


def test_unserved_dish_takes_no_made_up_rate_in_the_allocation():
    """With the service model, the kit cap at the link's MODCOD of a dish without a satellite is the
    nominal cap (no link: modcod_cap_bps keeps it), not one scaled by a placeholder link's efficiency;
    and its link does not 'close'."""
    sc = leonet.scenario_from_dict(scenario(capacity={"enabled": True, "atmosphere": False},
                                            service={"enabled": True}))
    m, steps = _steps(sc)
    seen = 0
    for step in steps:
        a, unserved = step.allocation, step.routes.serving < 0
        seen += int(unserved.sum())
        assert np.isnan(a.sinr_down_db[unserved]).all() and np.isnan(a.sinr_up_db[unserved]).all()
        assert not a.link_ok[unserved].any()
        assert np.array_equal(a.cap_down_bps[unserved], m.service.cap_down_bps[unserved])
        assert np.array_equal(a.cap_up_bps[unserved], m.service.cap_up_bps[unserved])
        assert (a.down_bps[unserved] == 0).all() and (a.up_bps[unserved] == 0).all()
    assert seen


# -- 2. the longest-visibility lookahead --------------------------------------------------------

def _old_remaining_visibility_s(model, ground, slot_start_ns):
    """The lookahead before the fix (every slot start for 600 s, all instants at once)."""
    from leonet.constants import NS_PER_S
    from leonet.space.propagate import propagate

    clock = model.network.clock
    n = int(np.ceil(600.0 * NS_PER_S / clock.period_ns))
    future = propagate(model.constellation, slot_start_ns + np.arange(1, n + 1, dtype=np.int64) * clock.period_ns)
    sites = model.network.dish_sites[ground.dish]
    remaining, still = np.zeros(len(ground.sat)), np.ones(len(ground.sat), dtype=bool)
    for k in range(n):
        seen, _, _ = model.visibility.link(sites, future.ecef_m[k][ground.sat])
        still &= seen
        remaining += still * clock.period_s
    return remaining


def _lookahead_inputs(period_s):
    from leonet.sim.instants import Chunk
    from leonet.sim.stages.links import ground_links_at
    from leonet.sim.stages.sky import sky_at

    # dishes all round the 50th parallel: some of them see a satellite of the small shell
    groups = [{"name": f"g{k}", "lat_deg": 50.0, "lon_deg": -180.0 + 15.0 * k, "count": 1} for k in range(24)]
    sc = leonet.scenario_from_dict(scenario(ground={"dish_groups": groups},
                                            network={"slots": {"period_s": period_s, "policy": "longest-visibility"}}))
    m = leonet.build_model(sc)
    start = int(m.network.clock.slot_start(m.t_ns[0]))
    chunk = Chunk(m, np.array([start]))
    return m, ground_links_at(chunk, sky_at(chunk, start)), start


def test_lookahead_unchanged_at_the_default_period():
    from leonet.sim.stages.choice import remaining_visibility_s

    m, ground, start = _lookahead_inputs(15.0)
    new = remaining_visibility_s(m, ground, start)
    assert len(new) and new.max() > 0
    assert np.array_equal(new, _old_remaining_visibility_s(m, ground, start))


def test_lookahead_work_is_bounded_for_a_tiny_period(monkeypatch):
    """A 1 ms slot period would have propagated 600,000 instants of every satellite at once
    (1.9 GiB for 144 satellites); now at most 600 instants, one at a time."""
    from leonet.sim.stages import choice as serving   # the policy choice lives in choice.py

    m, ground, start = _lookahead_inputs(0.001)
    calls = []
    real = serving.propagate

    def counting(constellation, t_ns):
        t_ns = np.atleast_1d(t_ns)
        calls.append(len(t_ns))
        assert len(t_ns) == 1 and len(calls) <= 600, "lookahead propagates too many instants"
        return real(constellation, t_ns)

    monkeypatch.setattr(serving, "propagate", counting)
    remaining = serving.remaining_visibility_s(m, ground, start)
    assert 0 < len(calls) <= 600
    assert len(remaining) and remaining.max() > 0 and remaining.max() <= 600
    assert np.all(remaining % 1.0 == 0)      # sampled every second


def test_slot_period_has_a_lower_bound():
    with pytest.raises(InputError, match=r"network\.slots\.period_s"):
        leonet.scenario_from_dict(scenario(network={"slots": {"period_s": 1e-12}}))
    leonet.scenario_from_dict(scenario(network={"slots": {"period_s": 0.001}}))


# -- 3. the background grid's cell size ---------------------------------------------------------

def _background(cell_deg):
    return scenario(capacity={"enabled": True}, service={"enabled": True, "background": {"enabled": True,
                                                                                          "cell_deg": cell_deg}})


@pytest.mark.parametrize("cell_deg", [0.01, 0.05, 0.7])
def test_background_cell_deg_refused_at_the_door(cell_deg):
    with pytest.raises(InputError, match=r"service\.background\.cell_deg"):
        leonet.scenario_from_dict(_background(cell_deg))


def test_background_cell_deg_bound_is_the_grids():
    from leonet.service import background
    from leonet.service.spec import BackgroundSpec

    leonet.scenario_from_dict(_background(background.MIN_CELL_DEG))
    assert BackgroundSpec.model_fields["cell_deg"].metadata[0].ge == background.MIN_CELL_DEG
    with pytest.raises(InputError, match="cell_deg"):
        background.subscriber_grid(1, [0], [0], [1], cell_deg=0.05)


# -- 4. custom satellite hardware ---------------------------------------------------------------

def _custom(**satellite):
    return scenario(capacity={"enabled": True, "satellite": {"generation": "custom", **satellite}})


def test_custom_generation_needs_every_value():
    with pytest.raises(InputError, match=r"capacity\.satellite.*beams, down_capacity_gbps, up_capacity_gbps\)"):
        leonet.scenario_from_dict(_custom())
    with pytest.raises(InputError, match=r"capacity\.satellite.*missing: up_capacity_gbps\)"):
        leonet.scenario_from_dict(_custom(beams=10, down_capacity_gbps=5))


def test_custom_and_explicit_values_are_taken():
    from leonet.capacity.model import build_capacity_model
    from leonet.ground.sites import Sites

    sc = leonet.scenario_from_dict(_custom(beams=10, down_capacity_gbps=5, up_capacity_gbps=1))
    cm = build_capacity_model(sc.capacity, Sites.empty(), 25.0)
    assert (cm.beams, cm.sat_down_bps, cm.sat_up_bps) == (10, 5e9, 1e9)
    sc = leonet.scenario_from_dict(scenario(capacity={"enabled": True, "satellite": {"generation": "v2-mini",
                                                                                     "beams": 7}}))
    cm = build_capacity_model(sc.capacity, Sites.empty(), 25.0)
    assert (cm.beams, cm.sat_down_bps, cm.sat_up_bps) == (7, 96e9, 16e9)
    # no fallback behind the spec's back either
    bare = sc.capacity.model_copy(update={"satellite": sc.capacity.satellite.model_construct(generation="custom")})
    with pytest.raises(InputError, match="custom"):
        build_capacity_model(bare, Sites.empty(), 25.0)


# -- 5. an explicit 0 deg minimum elevation -----------------------------------------------------

def _fake_model(min_elevation_deg):
    from leonet.capacity.linkbudget import RADIO_DEFAULTS

    return SimpleNamespace(settings=SimpleNamespace(visibility=SimpleNamespace(min_elevation_deg=min_elevation_deg)),
                           capacity=SimpleNamespace(radio=RADIO_DEFAULTS, margin_db=3.0))


def test_min_elevation_zero_is_kept():
    from leonet.sim.service_model import min_elevation_deg, radio_beam_bps

    assert min_elevation_deg(SimpleNamespace(min_elevation_deg=0.0)) == 0.0
    assert min_elevation_deg(SimpleNamespace(min_elevation_deg=None)) == 25.0
    # from 550 km, a dish at 0 deg is ~2,700 km away, at 25 deg ~1,100 km: a lower rate
    assert radio_beam_bps(_fake_model(0.0)) < radio_beam_bps(_fake_model(25.0))
    assert radio_beam_bps(_fake_model(None)) == radio_beam_bps(_fake_model(25.0))


def test_equal_share_limits_use_the_explicit_zero(monkeypatch):
    from leonet.service import admission, background
    from leonet.sim import service_model
    from leonet.space import propagate as prop

    seen = []

    def capacity(grid, xyz, usable, beam, min_el, points_xyz_m=None):
        seen.append(min_el)
        return np.ones(1 if points_xyz_m is None else len(points_xyz_m))

    monkeypatch.setattr(prop, "propagate", lambda c, t: SimpleNamespace(ecef_m=np.zeros((1, 1, 3))))
    monkeypatch.setattr(admission, "equal_share_cell_capacity_bps", capacity)
    monkeypatch.setattr(background, "sold_out_grid", lambda grid, density: grid)
    model = _fake_model(0.0)
    model.constellation, model.t_ns = None, np.zeros(1, dtype=np.int64)
    grid = SimpleNamespace(subscribers=np.zeros((1, 1)), flat_index=np.array([0]))
    sats = {"sat_down_bps": np.array([20e9]), "sat_beams": np.array([24.0])}
    dishes = SimpleNamespace(lat_deg=np.array([50.0]), lon_deg=np.array([30.0]))
    service_model._equal_share_limits(model, grid, sats, 1e6, 0.5, dishes)
    assert seen == [0.0, 0.0]


# -- 6. jamming: one running sum, a bounded timeline --------------------------------------------

def _old_sum_db(parts, shape):
    """The sum before the fix: a J x V stack."""
    if not parts:
        return np.full(shape, -np.inf)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.sum([10.0 ** (p / 10.0) for p in parts], axis=0))


@pytest.mark.parametrize("n_parts", [0, 1, 2, 7, 50])
def test_running_power_sum_equals_the_stacked_one(n_parts):
    from leonet.threats.jamming import _PowerSum

    rng = np.random.default_rng(n_parts)
    parts = [np.where(rng.random(300) < 0.3, -np.inf, rng.uniform(-60, 40, 300)) for _ in range(n_parts)]
    total = _PowerSum((300,))
    for p in parts:
        total.add(p)
    np.testing.assert_allclose(total.db(), _old_sum_db(parts, (300,)), rtol=1e-12, atol=1e-12)


def test_many_jammers_do_not_stack_one_array_each():
    from leonet.capacity.linkbudget import RADIO_DEFAULTS
    from leonet.scenario.events import JammerSpec
    from leonet.threats.jamming import dish_interference_to_noise_db

    n_d, n_j = 20_000, 200
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(49, 51, n_d), rng.uniform(29, 31, n_d)
    jammers = [JammerSpec(lat_deg=50.0, lon_deg=30.0 + 0.001 * k, eirp_dbw=30.0) for k in range(n_j)]
    tracemalloc.start()
    try:
        i_n = dish_interference_to_noise_db(jammers, lat, lon, np.zeros(n_d), RADIO_DEFAULTS, 0.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.isfinite(i_n).any()
    # the stack would be 2 x J x D floats (64 MB); a running sum a few (D, 3) arrays per jammer
    assert peak < 0.25 * n_j * n_d * 8


def test_event_timeline_is_bounded():
    event = {"name": "cut", "type": "jamming", "start": "2024-01-15T06:00:00Z", "end": "2024-01-15T06:00:30Z",
             "jammer": {"lat_deg": 50.0, "lon_deg": 30.0, "eirp_dbw": 30.0}}
    with pytest.raises(InputError, match=r"events.*10000"):
        leonet.scenario_from_dict(scenario(events=[event] * 10_001))
