"""Plane and slot inference on synthetic Walker-like sets, and explicit plane assignment files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from leonet.constants import EARTH_J2, EARTH_MU_M3_PER_S2, EARTH_RADIUS_M, NS_PER_S
from leonet.errors import InputError
from leonet.space.elements import OrbitElements
from leonet.space.planes import _circular_clusters, infer_planes, read_plane_assignment
from leonet.space.tle import read_tle
from leonet.timeutil import utc_to_ns

DATA = Path(__file__).parent / "data"
T0_NS = utc_to_ns("2024-01-15T00:00:00Z")
HOUR_NS = 3600 * NS_PER_S


def shell(inclination_deg, raan0_deg, sats_per_plane, epoch_spread_h, seed, mean_motion=15.06):
    """A Walker-like shell whose elements, carried to T0 with J2, give planes at ``raan0_deg``
    and slots spaced evenly from a per-plane phase below one slot. Returns (elements, plane, slot).

    Each satellite's epoch is T0 plus a random offset; its RAAN and argument of latitude at that
    epoch are T0's values moved back by the J2 secular rates (circular orbits).
    """
    rng = np.random.default_rng(seed)
    planes = len(raan0_deg)
    plane, slot = np.divmod(np.arange(planes * sats_per_plane), sats_per_plane)
    n = len(plane)
    spacing_deg = 360.0 / sats_per_plane
    # Phases kept clear of 0 so that float round-off cannot carry a slot across 360 deg.
    u0_deg = ((plane * 0.37 + 0.25) % 1.0) * spacing_deg + slot * spacing_deg
    raan_t0_deg = np.asarray(raan0_deg)[plane] + rng.uniform(-0.2, 0.2, n)
    inclination = inclination_deg + rng.uniform(-0.02, 0.02, n)
    offset_ns = (rng.uniform(-epoch_spread_h, epoch_spread_h, n) * HOUR_NS).astype(np.int64)
    n_rad_per_s = mean_motion * 2 * np.pi / 86_400
    a_m = (EARTH_MU_M3_PER_S2 / n_rad_per_s**2) ** (1 / 3)
    cos_i = np.cos(np.radians(inclination))
    k = 0.75 * n_rad_per_s * EARTH_J2 * (EARTH_RADIUS_M / a_m) ** 2
    raan_rate = -2 * k * cos_i
    u_rate = n_rad_per_s + k * (5 * cos_i**2 - 1) + k * (3 * cos_i**2 - 1)
    back_s = offset_ns / NS_PER_S
    elements = OrbitElements(
        name=[f"S{inclination_deg:.0f}-{p}-{s}" for p, s in zip(plane, slot)],
        catalog_id=[str(40_000 + seed * 1000 + i) for i in range(n)],
        epoch_ns=T0_NS + offset_ns,
        mean_motion_rev_per_day=mean_motion,
        eccentricity=0.0001,
        inclination_deg=inclination,
        raan_deg=np.mod(raan_t0_deg + np.degrees(raan_rate * back_s), 360.0),
        arg_perigee_deg=90.0,
        mean_anomaly_deg=np.mod(u0_deg - 90.0 + np.degrees(u_rate * back_s), 360.0),
    )
    return elements, plane, slot


def same_partition(truth: np.ndarray, inferred: np.ndarray) -> bool:
    pairs = set(zip(truth.tolist(), inferred.tolist()))
    return len(pairs) == len(set(truth.tolist())) == len(set(inferred.tolist()))


def assert_same_partition(truth: np.ndarray, inferred: np.ndarray) -> None:
    assert same_partition(truth, inferred)


def test_walker_planes_5_deg_apart_need_the_j2_correction():
    elements, plane, slot = shell(53.0, [10, 15, 20, 25, 30, 35], 5, epoch_spread_h=18, seed=1)
    inferred_plane, inferred_slot = infer_planes(elements, at_ns=T0_NS)
    assert inferred_plane.dtype == np.int32 and inferred_slot.dtype == np.int32
    np.testing.assert_array_equal(inferred_plane, plane)  # numbered by RAAN
    np.testing.assert_array_equal(inferred_slot, slot)
    # Without carrying nodes to one instant (+-18 h is +-3.4 deg of J2 drift) the planes smear.
    assert not same_partition(plane, _circular_clusters(elements.raan_deg, 2.0))


def test_default_instant_is_median_epoch_and_slots_rotate_only():
    elements, plane, slot = shell(53.0, [10, 15, 20, 25, 30, 35], 5, epoch_spread_h=18, seed=2)
    inferred_plane, inferred_slot = infer_planes(elements)
    assert_same_partition(plane, inferred_plane)
    for p in range(6):
        members = plane == p
        # At another instant every satellite of the plane moved alike: the order turns cyclically.
        shift = (inferred_slot[members] - slot[members]) % 5
        assert len(set(shift.tolist())) == 1


def test_shuffled_input_gives_the_same_labels():
    elements, _, _ = shell(53.0, [10, 15, 20, 25, 30, 35], 5, epoch_spread_h=6, seed=3)
    plane, slot = infer_planes(elements, at_ns=T0_NS)
    order = np.random.default_rng(0).permutation(len(elements))
    shuffled_plane, shuffled_slot = infer_planes(elements.take(order), at_ns=T0_NS)
    np.testing.assert_array_equal(shuffled_plane, plane[order])
    np.testing.assert_array_equal(shuffled_slot, slot[order])


def test_plane_across_zero_raan_is_one_plane():
    elements, plane, slot = shell(70.0, [0.0, 90.0, 180.0, 270.0], 6, epoch_spread_h=0, seed=4)
    assert elements.raan_deg[plane == 0].max() > 359 and elements.raan_deg[plane == 0].min() < 1
    inferred_plane, inferred_slot = infer_planes(elements, at_ns=T0_NS)
    assert_same_partition(plane, inferred_plane)
    np.testing.assert_array_equal(inferred_slot, slot)


def test_inclination_groups_are_numbered_in_turn():
    a, plane_a, slot_a = shell(53.0, [10, 15, 20, 25, 30, 35], 5, epoch_spread_h=6, seed=5)
    b, plane_b, slot_b = shell(70.0, [12, 17, 120], 4, epoch_spread_h=6, seed=6, mean_motion=15.2)
    both = OrbitElements.concatenate([b, a])
    plane, slot = infer_planes(both, at_ns=T0_NS)
    np.testing.assert_array_equal(plane, np.concatenate([plane_b + 6, plane_a]))
    np.testing.assert_array_equal(slot, np.concatenate([slot_b, slot_a]))


def test_sample_tle_file():
    elements = read_tle(DATA / "sample.tle")
    plane, slot = infer_planes(elements)
    by_name = dict(zip(elements.name, zip(plane.tolist(), slot.tolist())))
    assert by_name["STARLINK-1007"][0] == by_name["STARLINK-1008"][0]
    assert {by_name["STARLINK-1007"][1], by_name["STARLINK-1008"][1]} == {0, 1}
    assert by_name["STARLINK-1130"][0] != by_name["STARLINK-1007"][0]
    assert sorted(plane.tolist()) == [0, 1, 2, 3, 3, 4]
    assert by_name["00005"] == (0, 0)  # lowest inclination (34.3 deg) comes first


def test_empty_and_bad_tolerance():
    plane, slot = infer_planes(OrbitElements.empty())
    assert plane.shape == slot.shape == (0,)
    with pytest.raises(ValueError, match="must be positive"):
        infer_planes(OrbitElements.empty(), raan_tolerance_deg=0)


# ----------------------------------------------------------------------- explicit assignment


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "planes.csv"
    path.write_text(text)
    return path


def test_read_plane_assignment(tmp_path):
    path = write(tmp_path, "catalog_id,plane,slot\n5,1,0\n\n25544,0,0\r\n100001,0,1\n")
    plane, slot = read_plane_assignment(path, np.array(["25544", "00005", "A0001"], dtype=object))
    assert plane.dtype == slot.dtype == np.int32
    assert plane.tolist() == [0, 1, 0] and slot.tolist() == [0, 0, 1]


@pytest.mark.parametrize(("text", "message"), [
    ("id,plane,slot\n", "planes.csv: line 1: the header is 'id,plane,slot', expected the columns"),
    ("catalog_id,plane,slot\n25544,0,0\n", "planes.csv: no plane and slot for catalog_id 44713;"),
    ("catalog_id,plane,slot\n25544,0,0\n44713,0,x\n", "planes.csv: line 3: slot is 'x', expected a whole"),
    ("catalog_id,plane,slot\n25544,0,0\n44713,-1,0\n", "planes.csv: line 3: plane is '-1'"),
    ("catalog_id,plane,slot\n25544,0,0\n99,0,1\n", "planes.csv: line 3: catalog_id '99' is not one of"),
    ("catalog_id,plane,slot\n25544,0,0\n25544,0,1\n", "planes.csv: line 3: catalog_id '25544' is listed "
                                                      "again \\(first on line 2\\)"),
    ("catalog_id,plane,slot\n25544,0,0\n44713,0,0\n", "planes.csv: line 3: plane 0 slot 0 is already taken"),
    ("catalog_id,plane,slot\n25544,0\n", "planes.csv: line 2: has 2 values, expected 3"),
])
def test_read_plane_assignment_errors(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        read_plane_assignment(write(tmp_path, text), ["25544", "44713"])


def test_read_plane_assignment_refuses_duplicate_satellites(tmp_path):
    with pytest.raises(InputError, match="catalog_id '5' twice"):
        read_plane_assignment(write(tmp_path, "catalog_id,plane,slot\n"), ["00005", "5"])


def test_plane_numbers_far_apart_cost_nothing_and_keep_their_gaps(tmp_path):
    """A 202-byte assignment numbered planes up to 999,999,999 and +Grid sized its arrays by the
    largest number (15.7 GB, 52 s in validate). Only the numbers' order and gaps count: planes
    10,000,000 and 10,000,001 link like 3 and 4, not across the gap to plane 1, and the last wraps
    to plane 0."""
    import dataclasses
    import tracemalloc

    from leonet.network.isl import plus_grid_candidates
    from leonet.space.constellation import Constellation
    from leonet.space.walker import WalkerShell

    c = Constellation.from_walker([WalkerShell(name="s", altitude_m=550e3, inclination_deg=53.0, planes=4,
                                               sats_per_plane=3, epoch_ns=T0_NS)])
    ids = [str(k + 1) for k in range(len(c))]
    far = {0: 0, 1: 1, 2: 10_000_000, 3: 10_000_001}
    rows = "".join(f"{ids[k]},{far[int(c.plane[k])]},{int(c.slot[k]) * 7}\n" for k in range(len(c)))
    plane, slot = read_plane_assignment(write(tmp_path, "catalog_id,plane,slot\n" + rows), ids)
    assert sorted(set(plane.tolist())) == [0, 1, 10_000_000, 10_000_001]  # the file's numbers, as given
    tracemalloc.start()
    links = plus_grid_candidates(dataclasses.replace(c, plane=plane, slot=slot))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5 * 2**20, peak
    near = {0: 0, 1: 1, 2: 3, 3: 4}  # the same order and gap, small
    dense = np.array([near[int(x)] for x in c.plane], dtype=np.int32)
    assert np.array_equal(links, plus_grid_candidates(dataclasses.replace(c, plane=dense, slot=slot)))
    pair = {(int(plane[a]), int(plane[b])) for a, b in links}
    assert (0, 1) in pair and (0, 10_000_001) in pair and (10_000_000, 10_000_001) in pair
    assert (1, 10_000_000) not in pair


def test_shells_of_close_inclination_get_planes_of_their_own():
    """The Dec 2023 sky: the 53.0 and 53.2 deg shells, bridged by satellites raising their orbits,
    were one inclination group, and their interleaved planes (2.5 deg apart in RAAN) chained into
    planes up to 30 deg wide (median 2.9 deg). Split among the satellites on station, no plane
    holds satellites of both shells, and half the planes are within 0.7 deg."""
    import gzip
    from importlib.resources import files

    from leonet.space.planes import angles_at
    from leonet.space.tle import read_tle

    raw = files("leonet").joinpath("data", "orbits", "starlink_2023-12-27.tle.gz").read_bytes()
    import tempfile

    path = Path(tempfile.mkdtemp()) / "s.tle"
    path.write_bytes(gzip.decompress(raw))
    elements = read_tle(path)
    elements = elements[0] if isinstance(elements, tuple) else elements
    plane, _ = infer_planes(elements)
    inc = elements.inclination_deg
    raan, _ = angles_at(elements, int(np.median(elements.epoch_ns)))
    mixed, spread = 0, []
    for p in np.unique(plane):
        k = plane == p
        near_53 = inc[k][(inc[k] > 52.9) & (inc[k] < 53.4)]
        mixed += bool(((near_53 > 52.99) & (near_53 < 53.1)).any() and (near_53 > 53.15).any())
        z = np.exp(1j * np.radians(raan[k]))
        spread.append(2 * np.degrees(np.abs(np.angle(z * np.conj(z.mean() / abs(z.mean()))))).max())
    assert np.median(spread) < 1.0 and mixed <= 2   # raising satellites may still bridge a couple
