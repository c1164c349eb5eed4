"""ISL topology and geometry: +Grid structure, explicit lists, and line-of-sight limits checked
against closed-form geometry and a networkx oracle."""

import dataclasses

import networkx as nx
import numpy as np
import pytest

from leonet.constants import EARTH_RADIUS_M, NS_PER_S
from leonet.errors import InputError
from leonet.network.isl import active_isls, max_isl_range_m, plus_grid_candidates, read_isl_list
from leonet.space.constellation import Constellation
from leonet.space.propagate import propagate
from leonet.space.walker import WalkerShell

EPOCH_NS = 1_646_136_000 * NS_PER_S  # 2022-03-01T12:00:00Z
HYPATIA_MAX_ISL_M = 5_016_591.0  # Hypatia's shell-1 limit (its R = 6,378,135 m)


def walker(planes=72, sats=22, name="s1", altitude_m=550e3, **kw):
    return WalkerShell(name=name, altitude_m=altitude_m, inclination_deg=53.0, planes=planes,
                       sats_per_plane=sats, epoch_ns=EPOCH_NS, **kw)


def link_set(links):
    return {(int(a), int(b)) for a, b in links}


def degree(links, n):
    return np.bincount(links.ravel(), minlength=n)


def sat_index(c, plane, slot):
    return int(np.flatnonzero((c.plane == plane) & (c.slot == slot))[0])


def has_link(links, i, j):
    return (min(i, j), max(i, j)) in link_set(links)


# --- +Grid -------------------------------------------------------------------------------------


def test_plus_grid_72x22_regular_with_seam_and_wrap():
    c = Constellation.from_walker([walker()])
    links = plus_grid_candidates(c)
    assert links.shape == (3168, 2) and links.dtype == np.int32
    assert (links[:, 0] < links[:, 1]).all()
    assert len(np.unique(links, axis=0)) == 3168
    assert np.array_equal(links, links[np.lexsort((links[:, 1], links[:, 0]))])
    assert (degree(links, 1584) == 4).all()
    for s in (0, 7, 21):
        assert has_link(links, sat_index(c, 71, s), sat_index(c, 0, s))  # the seam
        assert has_link(links, sat_index(c, 30, s), sat_index(c, 31, s))
    assert has_link(links, sat_index(c, 5, 21), sat_index(c, 5, 0))  # in-plane wrap
    assert has_link(links, sat_index(c, 5, 3), sat_index(c, 5, 4))
    assert not has_link(links, sat_index(c, 5, 3), sat_index(c, 6, 4))
    # Exactly Hypatia's id rule: id = plane * 22 + slot, neighbours (p, s+-1) and (p+-1, s).
    expected = set()
    for p in range(72):
        for s in range(22):
            i = p * 22 + s
            for j in (p * 22 + (s + 1) % 22, ((p + 1) % 72) * 22 + s):
                expected.add((min(i, j), max(i, j)))
    assert link_set(links) == expected


@pytest.mark.parametrize("shift", [1, -1, 3])
def test_plus_grid_inter_plane_shift(shift):
    c = Constellation.from_walker([walker(planes=8, sats=10)])
    links = plus_grid_candidates(c, inter_plane_shift=shift)
    assert len(links) == 160 and (degree(links, 80) == 4).all()
    for p in range(8):
        for s in range(10):
            assert has_link(links, sat_index(c, p, s), sat_index(c, (p + 1) % 8, (s + shift) % 10))
    assert not has_link(links, sat_index(c, 2, 4), sat_index(c, 3, 4))


def test_plus_grid_does_not_depend_on_satellite_order():
    c = Constellation.from_walker([walker(planes=12, sats=9)])
    perm = np.random.default_rng(7).permutation(len(c))
    shuffled = Constellation(elements=c.elements.take(perm), shell=c.shell[perm], plane=c.plane[perm],
                             slot=c.slot[perm], shell_names=c.shell_names)
    original = link_set(plus_grid_candidates(c))
    mapped = {tuple(sorted((int(perm[a]), int(perm[b])))) for a, b in plus_grid_candidates(shuffled)}
    assert mapped == original


def test_plus_grid_multi_shell_has_no_cross_shell_links():
    c = Constellation.from_walker([walker(4, 5, "a"), walker(3, 6, "b", altitude_m=570e3)])
    links = plus_grid_candidates(c)
    assert len(links) == 2 * 20 + 2 * 18
    assert (c.shell[links[:, 0]] == c.shell[links[:, 1]]).all()
    assert (degree(links, len(c)) == 4).all()


def test_plus_grid_networkx_small_shell_connected_and_4_regular():
    c = Constellation.from_walker([walker(planes=6, sats=5)])
    g = nx.Graph()
    g.add_nodes_from(range(len(c)))
    g.add_edges_from(link_set(plus_grid_candidates(c)))
    assert nx.is_connected(g)
    assert {d for _, d in g.degree()} == {4}
    assert g.number_of_edges() == 60


def test_plus_grid_unknown_plane_or_slot_gets_no_links():
    c = Constellation.from_walker([walker(planes=4, sats=6)])
    plane, slot = c.plane.copy(), c.slot.copy()
    plane[3] = -1
    slot[10] = -1
    c = dataclasses.replace(c, plane=plane, slot=slot)
    links = plus_grid_candidates(c)
    deg = degree(links, len(c))
    assert deg[3] == 0 and deg[10] == 0
    # Their in-plane neighbours close up around them: plane 0 has slots 0,1,2,4,5 left.
    assert has_link(links, 2, 4)


def test_plus_grid_unequal_planes_link_modulo_plane_count():
    # Plane 1 loses its slot 4: it holds 4 satellites (slot indices 0..3) instead of 5.
    full = Constellation.from_walker([walker(planes=3, sats=5)])
    keep = np.flatnonzero(~((full.plane == 1) & (full.slot == 4)))
    c = Constellation(elements=full.elements.take(keep), shell=full.shell[keep], plane=full.plane[keep],
                      slot=full.slot[keep], shell_names=full.shell_names)
    links = plus_grid_candidates(c)
    # Plane 0 slot 4 links forward to plane 1 slot index 4 mod 4 = 0.
    assert has_link(links, sat_index(c, 0, 4), sat_index(c, 1, 0))
    # Every satellite has exactly one forward link; plane 1 has 4 in-plane links.
    assert len(links) == (5 + 4 + 5) + (5 + 4 + 5)
    assert has_link(links, sat_index(c, 1, 3), sat_index(c, 1, 0))  # plane 1 wraps at 4


def test_plus_grid_duplicate_plane_slot_is_an_error():
    c = Constellation.from_walker([walker(planes=3, sats=4)])
    slot = c.slot.copy()
    slot[1] = 0
    with pytest.raises(ValueError, match="plane 0 slot 0"):
        plus_grid_candidates(dataclasses.replace(c, slot=slot))


def _seam_links(c, links, shell=0):
    """Links of shell ``shell`` between its last plane and plane 0."""
    last = c.plane[c.shell == shell].max()
    pa, pb = c.plane[links[:, 0]], c.plane[links[:, 1]]
    on = (c.shell[links[:, 0]] == shell) & (c.shell[links[:, 1]] == shell)
    return on & (((pa == 0) & (pb == last)) | ((pa == last) & (pb == 0)))


def test_plus_grid_open_shell_has_no_seam():
    # Iridium-like star (6 x 11, 86.4 deg, RAAN spread 180) beside a delta: the star's last plane
    # (RAAN 150) and plane 0 counter-rotate across the seam; the delta keeps its wrap.
    star = WalkerShell(name="irid", altitude_m=780e3, inclination_deg=86.4, planes=6, sats_per_plane=11,
                       epoch_ns=EPOCH_NS, raan_spread_deg=180.0)
    c = Constellation.from_walker([star, walker(planes=6, sats=11, name="delta")])
    links = plus_grid_candidates(c, open_shells=("irid",))
    assert not _seam_links(c, links, 0).any()
    assert _seam_links(c, links, 1).sum() == 11
    assert len(links) == (2 * 6 - 1) * 11 + 2 * 66
    assert link_set(plus_grid_candidates(c)) - link_set(links) == link_set(
        plus_grid_candidates(c)[_seam_links(c, plus_grid_candidates(c), 0)])
    with pytest.raises(ValueError, match="open_shells"):
        plus_grid_candidates(c, open_shells=("nope",))


def test_scenario_star_shell_has_no_seam_lasers_delta_keeps_its_wrap():
    """What a run builds: a raan_spread_deg 180 shell has no lasers across its seam (11 of them,
    1,400-13,700 km long and closing at up to 13 km/s, carried 46 of 280 pair-steps before); a
    360 deg shell keeps Hypatia's wrap."""
    import leonet

    def candidates(spread):
        sc = leonet.scenario_from_dict({
            "name": "seam",
            "constellation": {"shells": [{"name": "irid", "altitude_km": 780, "inclination_deg": 86.4, "planes": 6,
                                          "sats_per_plane": 11, "raan_spread_deg": spread}]},
            "ground": {"sites": [{"name": "A", "lat_deg": 0, "lon_deg": 0, "kind": "station"},
                                 {"name": "B", "lat_deg": 0, "lon_deg": 90, "kind": "station"}]},
            "time": {"start": "2025-01-01T00:00:00Z", "duration_s": 60, "step_s": 60},
            "network": {"all_station_pairs": True}})
        m = leonet.build_model(sc)
        return m.constellation, np.asarray(m.network.isl_candidates)

    c, star = candidates(180)
    assert not _seam_links(c, star).any() and len(star) == 11 * 11
    c, delta = candidates(360)
    assert _seam_links(c, delta).sum() == 11 and len(delta) == 2 * 66


@pytest.mark.parametrize("spread, seam_links", [(180.0, 0), (360.0, 11)])
def test_an_orbit_file_with_given_planes_links_its_seam_only_where_the_planes_corotate(tmp_path, spread, seam_links):
    """The same shells as element sets with a plane assignment file: the planes are given, not
    inferred, so no raan_spread_deg says whether the seam closes. A star's last plane and plane 0
    counter-rotate (their orbit normals ~170 deg apart): no lasers across; a delta keeps the wrap."""
    import leonet
    from leonet.space.tle import write_tle
    from leonet.space.walker import walker_elements

    epoch = 1_735_689_600 * NS_PER_S                     # 2025-01-01
    shell = WalkerShell("irid", 780e3, 86.4, 6, 11, epoch, raan_spread_deg=spread)
    el, plane, slot = walker_elements(shell)
    el = dataclasses.replace(el, catalog_id=np.array([str(40_000 + k) for k in range(len(el))], dtype=object))
    (tmp_path / "irid.tle").write_text(write_tle(el))
    (tmp_path / "planes.csv").write_text("catalog_id,plane,slot\n" + "".join(
        f"{c},{p},{k}\n" for c, p, k in zip(el.catalog_id, plane, slot)))
    sc = leonet.scenario_from_dict({
        "name": "seamfile",
        "constellation": {"orbit_files": [{"path": str(tmp_path / "irid.tle"),
                                           "plane_assignment": str(tmp_path / "planes.csv")}]},
        "ground": {"sites": [{"name": "A", "lat_deg": 0, "lon_deg": 0, "kind": "station"},
                             {"name": "B", "lat_deg": 0, "lon_deg": 90, "kind": "station"}]},
        "time": {"start": "2025-01-01T00:00:00Z", "duration_s": 60, "step_s": 60},
        "network": {"all_station_pairs": True}})
    m = leonet.build_model(sc)
    assert m.constellation.inferred_plane_shells == ()
    links = np.asarray(m.network.isl_candidates)
    assert _seam_links(m.constellation, links).sum() == seam_links
    assert len(links) == (2 * 6 - 1) * 11 + seam_links


# --- geometry ----------------------------------------------------------------------------------


def test_max_isl_range_550km_matches_hypatia():
    r = max_isl_range_m(550e3, 550e3)
    assert abs(r - 5_017e3) < 5e3
    assert abs(r - HYPATIA_MAX_ISL_M) < 10.0  # Hypatia's R differs by 2 m
    rg = EARTH_RADIUS_M + 80e3
    expected = (np.sqrt((EARTH_RADIUS_M + 550e3) ** 2 - rg**2)
                + np.sqrt((EARTH_RADIUS_M + 1150e3) ** 2 - rg**2))
    assert max_isl_range_m(550e3, 1150e3) == pytest.approx(expected, rel=1e-12)
    assert max_isl_range_m(np.array([550e3, 80e3]), 550e3)[1] == pytest.approx(r / 2)
    with pytest.raises(ValueError):
        max_isl_range_m(50e3, 550e3)


def chord_pair(altitude_m, closest_height_m):
    """Two satellites at ``altitude_m`` whose chord's midpoint is ``closest_height_m`` up."""
    r = EARTH_RADIUS_M + altitude_m
    half_angle = np.arccos((EARTH_RADIUS_M + closest_height_m) / r)
    return np.array([[r * np.cos(half_angle), r * np.sin(half_angle), 0.0],
                     [r * np.cos(half_angle), -r * np.sin(half_angle), 0.0]])


def test_grazing_cut_off_analytic():
    low = chord_pair(550e3, 70e3)
    high = chord_pair(550e3, 90e3)
    pos = np.vstack([low, high])
    state = active_isls(np.array([[0, 1], [2, 3]]), pos, grazing_height_m=80e3)
    assert state.candidate_ok.tolist() == [False, True]
    assert state.dropped_grazing == 1 and state.dropped_range == 0 and state.dropped_failed == 0
    assert state.links.tolist() == [[2, 3]]
    assert state.length_m[0] == pytest.approx(np.linalg.norm(high[0] - high[1]))
    # The 90 km chord is just under the 550 km maximum range, the 70 km chord just over.
    assert state.length_m[0] < max_isl_range_m(550e3, 550e3) < np.linalg.norm(low[0] - low[1])


def test_grazing_uses_segment_not_infinite_line():
    # Both ends far up along y; the infinite line passes 10 km above the surface, but the
    # segment's closest point is its end at y = 3,000 km.
    x0 = EARTH_RADIUS_M + 10e3
    pos = np.array([[x0, 3_000e3, 0.0], [x0, 4_000e3, 0.0], [x0, -3_000e3, 0.0]])
    state = active_isls(np.array([[0, 1], [0, 2]]), pos)
    assert state.candidate_ok.tolist() == [True, False]


def test_failed_endpoint_and_range_drop():
    pos = np.vstack([chord_pair(550e3, 500e3), chord_pair(550e3, 200e3), [[np.nan] * 3]])
    cand = np.array([[0, 1], [2, 3], [0, 4]])
    short = np.linalg.norm(pos[0] - pos[1])
    state = active_isls(cand, pos, max_range_m=short + 1.0)
    assert state.candidate_ok.tolist() == [True, False, False]
    assert (state.dropped_failed, state.dropped_grazing, state.dropped_range) == (1, 0, 1)
    assert state.links.dtype == np.int32 and state.links.shape == (1, 2)
    empty = active_isls(np.zeros((0, 2), dtype=np.int32), pos)
    assert empty.links.shape == (0, 2) and empty.length_m.shape == (0,)


def test_propagated_shell1_keeps_all_plus_grid_links():
    c = Constellation.from_walker([walker()])
    links = plus_grid_candidates(c)
    in_plane = c.plane[links[:, 0]] == c.plane[links[:, 1]]
    t_ns = EPOCH_NS + np.array([0, 1_000, 2_900]) * NS_PER_S
    for ecef_m in propagate(c, t_ns).ecef_m:
        state = active_isls(links, ecef_m, grazing_height_m=80e3, max_range_m=HYPATIA_MAX_ISL_M)
        assert len(state.links) == 3168
        assert state.dropped_grazing == state.dropped_range == state.dropped_failed == 0
        # In-plane chord of a 22-satellite plane at ~550 km: 2 r sin(pi/22), about 1,970 km.
        assert np.all((state.length_m[in_plane] > 1_900e3) & (state.length_m[in_plane] < 2_050e3))


# --- explicit lists ----------------------------------------------------------------------------


def write(tmp_path, text, name="isl.txt"):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return path


def test_read_isl_list_good(tmp_path):
    path = write(tmp_path, "# laser links\n5 3\n\n0,1   # comment\n  2 , 9\n1583 0\n")
    links = read_isl_list(path, 1584)
    assert links.dtype == np.int32
    assert links.tolist() == [[0, 1], [0, 1583], [2, 9], [3, 5]]


@pytest.mark.parametrize("text, line, message", [
    ("0 1\n1 2 3\n", 2, "expected two satellite indices"),
    ("0 1\n\n7\n", 3, "expected two satellite indices"),
    ("a b\n", 1, "expected two satellite indices"),
    ("1.5 2\n", 1, "expected two satellite indices"),
    ("0 1\n3 1600\n", 2, "satellite 1600 does not exist; the constellation has 1584 (0..1583)"),
    ("-1 4\n", 1, "satellite -1 does not exist"),
    ("# x\n8 8\n", 2, "links satellite 8 to itself"),
    ("3 7\n1 2\n7,3\n", 3, "link 3-7 is listed twice: line 1 and line 3"),
])
def test_read_isl_list_bad_lines(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_isl_list(path, 1584)
    err = str(info.value)
    assert str(path) in err and f"line {line}" in err and message in err


@pytest.mark.parametrize("content, message", [
    ("", "no links"),
    ("# only a comment\n\n", "no links"),
    (b"\x00\x01\x02binary", "binary"),
    (b"\xff\xfe1 2\n", "not UTF-8"),
])
def test_read_isl_list_bad_files(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(InputError) as info:
        read_isl_list(path, 10)
    assert str(path) in str(info.value) and message in str(info.value)


def test_read_isl_list_missing_file(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(InputError, match="not found") as info:
        read_isl_list(path, 10)
    assert str(path) in str(info.value)
