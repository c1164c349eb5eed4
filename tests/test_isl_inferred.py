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
    """The rule, one satellite at a time."""
    links = set()
    ok = (plane >= 0) & member
    for r in set(ring[ok].tolist()):
        sats = [i for i in range(len(ring)) if ok[i] and ring[i] == r]
        planes = sorted({int(plane[i]) for i in sats})
        for i in sats:
            mine = sorted((j for j in sats if plane[j] == plane[i]), key=lambda j: (u_deg[j], j))
            nxt = mine[(mine.index(i) + 1) % len(mine)]
            if nxt != i:
                links.add((min(i, nxt), max(i, nxt)))
            if len(planes) > 1:
                q = planes[(planes.index(int(plane[i])) + 1) % len(planes)]
                other = sorted((j for j in sats if plane[j] == q), key=lambda j: (u_deg[j], j))
                gap = [abs((u_deg[j] - u_deg[i] + 180.0) % 360.0 - 180.0) for j in other]
                j = other[int(np.argmin(gap))]
                if j != i:
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
    got = {(int(a), int(b)) for a, b in nearest_grid_candidates(ring, plane, u, member)}
    assert got == brute_force(ring, plane, u, member)


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
