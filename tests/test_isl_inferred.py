"""+Grid for planes inferred from real element sets (nearest neighbour abreast, laser members
only, on-station satellites), against a brute-force oracle written here and the Walker +Grid."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.network.isl import (
    MIN_PLANE_SATS,
    ON_STATION_TOLERANCE_M,
    nearest_grid_candidates,
    on_station,
    plus_grid_candidates,
)
from leonet.space.constellation import Constellation
from leonet.space.walker import WalkerShell


#: The first 40 primes (one per satellite of a drawn case).
PRIMES = np.array([p for p in range(2, 200) if all(p % d for d in range(2, p))][:40], dtype=float)


def brute_force(ring, plane, u_deg, member):
    """The rule, one satellite at a time: in-plane, the next by angle; across, the nearest
    satellite of the next plane on either side (within one slot of it), matched one to one,
    smallest gap first (each satellite keeps one link forward and one back)."""
    links = set()
    ok = (plane >= 0) & member
    for r in set(ring[ok].tolist()):
        sats = [i for i in range(len(ring)) if ok[i] and ring[i] == r]
        planes = sorted({int(plane[i]) for i in sats})
        candidates = []
        for i in sats:
            mine = sorted((j for j in sats if plane[j] == plane[i]), key=lambda j: (u_deg[j], j))
            nxt = mine[(mine.index(i) + 1) % len(mine)]
            if nxt != i:
                links.add((min(i, nxt), max(i, nxt)))
            if len(planes) > 1:
                q = planes[(planes.index(int(plane[i])) + 1) % len(planes)]
                other = [j for j in sats if plane[j] == q]
                after = min(other, key=lambda j: (u_deg[j] - u_deg[i]) % 360.0)
                before = min(other, key=lambda j: (u_deg[i] - u_deg[j]) % 360.0 or 360.0)
                for j in {after, before}:
                    gap = abs((u_deg[j] - u_deg[i] + 180.0) % 360.0 - 180.0)
                    if gap <= 360.0 / len(other):
                        candidates.append((gap, i, j))
        used_fwd, used_back = set(), set()
        for gap, i, j in sorted(candidates):
            if i not in used_fwd and j not in used_back:
                used_fwd.add(i)
                used_back.add(j)
                if i != j:
                    links.add((min(i, j), max(i, j)))
    return links


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_nearest_grid_matches_brute_force(data):
    n = data.draw(st.integers(1, 40))
    ring = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    plane = np.array(data.draw(st.lists(st.integers(-1, 5), min_size=n, max_size=n)))
    # Distinct angles without ties: a satellite equally far from two of the next plane (angles
    # k/10 in arithmetic progression) would make "the nearest" ambiguous. Each satellite's angle is
    # shifted by 1e-3 * sqrt(its own prime) (< 0.014 deg, the order stays that of k): the shifts
    # are linearly independent over the rationals, so no two gaps can be equal, and the nearest
    # differ by >~1e-6 deg, far above rounding.
    k = np.array(data.draw(st.lists(st.integers(0, 3599), min_size=n, max_size=n, unique=True)))
    u = k / 10.0 + 0.013 + 1e-3 * np.sqrt(PRIMES[:n])
    member = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    links = nearest_grid_candidates(ring, plane, u, member)
    got = {(int(a), int(b)) for a, b in links}
    assert got == brute_force(ring, plane, u, member)
    assert np.bincount(links.reshape(-1), minlength=n).max(initial=0) <= 4   # four laser terminals


def test_regular_shell_gives_the_walker_grid():
    """On a Walker shell without phasing, the satellite abreast in the next plane is the one with
    the same slot: the rule reduces to Hypatia's +Grid."""
    shell = WalkerShell(name="s", altitude_m=550e3, inclination_deg=53.0, planes=12, sats_per_plane=10,
                        epoch_ns=1_646_136_000_000_000_000)
    c = Constellation.from_walker([shell])
    u = (c.slot * 36.0).astype(float)
    got = nearest_grid_candidates(np.zeros(len(c), dtype=int), c.plane, u)
    assert {tuple(x) for x in got.tolist()} == {tuple(x) for x in plus_grid_candidates(c).tolist()}


def test_non_members_are_skipped_and_neighbours_close_up():
    # one plane of five, satellite 2 carries no lasers: 1 links to 3
    plane = np.zeros(5, dtype=int)
    u = np.array([0.0, 72.0, 144.0, 216.0, 288.0])
    member = np.array([True, True, False, True, True])
    got = {tuple(x) for x in nearest_grid_candidates(np.zeros(5, dtype=int), plane, u, member).tolist()}
    assert got == {(0, 1), (1, 3), (3, 4), (0, 4)}


def test_on_station_drops_orbit_raising_satellites():
    # mean motion of ~550 km and ~350 km circular orbits
    n_550, n_350 = 15.06, 15.72
    ring = np.zeros(6, dtype=int)
    mm = np.array([n_550] * 5 + [n_350])
    ok = on_station(ring, mm)
    assert ok[:5].all() and not ok[5]
    assert ON_STATION_TOLERANCE_M == 20_000.0 and MIN_PLANE_SATS == 3


def _walker(planes: int, inclination_deg: float):
    shell = WalkerShell(name="s", altitude_m=560e3, inclination_deg=inclination_deg, planes=planes,
                        sats_per_plane=10, epoch_ns=1_646_136_000_000_000_000)
    c = Constellation.from_walker([shell])
    return c, (c.slot * 36.0).astype(float)


def test_planes_far_apart_are_not_joined_across():
    """Three polar planes 120 deg apart (a seam such as the 97.6 deg shell's in Dec 2023) close at
    up to 11 km/s: no lasers across; six planes 60 deg apart (that shell's spacing, which
    Antarctica's measured latency needs joined) keep the Walker +grid."""
    from leonet.network.isl import MAX_PLANE_ANGLE_DEG

    c, u = _walker(3, 97.6)
    el = c.elements
    got = nearest_grid_candidates(np.zeros(len(c), dtype=int), c.plane, u, raan_deg=el.raan_deg,
                                  inclination_deg=el.inclination_deg)
    assert (c.plane[got[:, 0]] == c.plane[got[:, 1]]).all() and len(got) == 30   # three rings of ten
    c, u = _walker(6, 97.6)
    el = c.elements
    got = nearest_grid_candidates(np.zeros(len(c), dtype=int), c.plane, u, raan_deg=el.raan_deg,
                                  inclination_deg=el.inclination_deg)
    assert {tuple(x) for x in got.tolist()} == {tuple(x) for x in plus_grid_candidates(c).tolist()}
    assert 60.0 < MAX_PLANE_ANGLE_DEG < 120.0


def test_the_real_sky_mesh_has_four_lasers_at_most():
    """The Dec 2023 sky (ukraine-2024): no satellite holds more than four laser candidates (it
    held up to 26, with 10 active at once, when every satellite took the nearest abreast)."""
    from leonet.network.isl import MAX_PLANE_ANGLE_DEG
    from leonet.scenario import load_scenario
    from leonet.sim.model import build_model

    model = build_model(load_scenario("ukraine-2024"))
    cand = model.network.isl_candidates
    assert np.bincount(cand.reshape(-1)).max() <= 4
    el = model.constellation.elements
    # every laser joins satellites whose orbit normals are within the limit (not across the polar
    # shell's 120 deg seam)
    o, i = np.radians(el.raan_deg), np.radians(el.inclination_deg)
    normal = np.stack([np.sin(i) * np.sin(o), -np.sin(i) * np.cos(o), np.cos(i)], axis=1)
    angle = np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", normal[cand[:, 0]], normal[cand[:, 1]]), -1, 1)))
    assert angle.max() <= MAX_PLANE_ANGLE_DEG
    polar = el.inclination_deg > 90
    assert polar[cand[:, 0]].sum() > 0
