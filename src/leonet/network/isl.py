"""Inter-satellite laser links (ISLs): which pairs may link (topology) and which of those can link
at one instant (geometry).

Two sources of candidate links, both as ``(E, 2)`` int32 arrays of satellite indices, each
undirected link once with ``a < b``, rows sorted:

- :func:`plus_grid_candidates`: the +Grid of Hypatia (Kassing et al., IMC 2020) and most
  Starlink studies: two in-plane neighbours and one neighbour in each adjacent plane;
- :func:`read_isl_list`: an explicit list of pairs from a text file.

:func:`active_isls` then keeps the candidates that work at one instant: both ends propagated, the
line of sight clear of the Earth by a grazing height (80 km in Hypatia, for the atmosphere), and
optionally no longer than a maximum range. The Earth is a sphere of radius
:data:`~leonet.constants.EARTH_RADIUS_M` here, as in Hypatia; the WGS84 ellipsoid is up to 21 km
lower at the poles, so the sphere is the cautious side for links over high latitudes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..constants import EARTH_RADIUS_M
from ..errors import InputError, quote
# Which satellites are on station is the plane inference's rule (shared with the mesh).
from ..space.planes import ON_STATION_M as ON_STATION_TOLERANCE_M, on_station  # noqa: F401

# Hypatia's grazing height and the line-of-sight rule live in space.lineofsight (shared with readers).
from ..space.lineofsight import DEFAULT_GRAZING_HEIGHT_M, IslState, active_isls, active_isls_reference  # noqa: F401  (the rule, shared with readers)


def _canonical_links(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Undirected links as (E, 2) int32 with a < b, sorted and unique; self-links dropped."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    keep = a != b
    pairs = np.stack([np.minimum(a, b)[keep], np.maximum(a, b)[keep]], axis=1)
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int32)
    return np.unique(pairs, axis=0).astype(np.int32)


def _plane_layout(p: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """For satellites sorted by plane (``p``: (m,) plane numbers 0..P-1, non-decreasing): the number
    of planes P, satellites per plane (P,), each plane's first row (P,) and each satellite's rank
    within its plane (m,). Arrays of P: pass dense numbers (``np.unique(..., return_inverse=True)``),
    not a file's own (a plane numbered 999,999,999 made them 8 GB each)."""
    n_planes = int(p.max()) + 1
    count = np.bincount(p, minlength=n_planes)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    return n_planes, count, start, np.arange(len(p)) - start[p]


def plus_grid_candidates(constellation, inter_plane_shift: int = 0, open_shells=()) -> np.ndarray:
    """The +Grid ISL topology of every shell.

    Within a shell, every satellite links to its two in-plane neighbours (slot - 1 and slot + 1,
    wrapping around the plane) and to the satellite with slot ``slot + inter_plane_shift`` in the
    next plane (plane + 1, wrapping from the last plane to plane 0: the seam is linked too, as in
    Hypatia). The link to the previous plane is the next-plane link seen from the other end, so on a
    regular shell every satellite has degree 4 and a ``P x S`` shell has ``2 * P * S`` links.

    A shell named in ``open_shells`` does not wrap: its last plane has no link to plane 0. That is
    a Walker star (RAAN spread under 360 deg, Iridium's 180; for orbit files with given planes,
    :func:`leonet.sim.network_model.counter_rotating_seam` tells): its planes do not close the circle,
    so its last and first planes meet across the seam counter-rotating (Iridium-like 6 x 11 at
    86.4 deg: ranges 1,400-13,700 km, closing at up to 13 km/s), and Iridium has no lasers across
    it. A ``P x S`` star shell has ``(2 P - 1) S`` links; its seam planes have degree 3.
    With ``inter_plane_shift = 0`` the neighbour across has the same slot index, as in Hypatia;
    with half-slot phasing it is half a slot ahead or behind, not exactly abreast.

    +Grid is a topology within one shell: no links are made between shells (their planes do
    not line up). Cross-shell links belong in an explicit list (:func:`read_isl_list`).

    Irregular shells (TLE sets, failed satellites) follow these rules:

    - A satellite whose ``plane`` or ``slot`` is -1 (unknown) gets no +Grid links.
    - Planes are numbered 0 .. P-1 with P = the largest plane number in the shell + 1. A plane
      number with no satellites is a gap: its neighbours do not link across it. The work does not
      grow with the numbers (planes 0, 1 and 999,999,999 are three planes).
    - Within a plane, a satellite's *slot index* is its rank in slot order (equal to ``slot``
      when the plane holds slots 0 .. n-1, as Walker shells do), so a missing slot closes up:
      its two neighbours link to each other.
    - When planes hold unequal counts, slot index ``k + inter_plane_shift`` in the next plane is
      taken modulo that plane's count. Each satellite still has exactly one link forward, but a
      satellite may then receive zero or several links from the previous plane.
    - A shell of one plane has no inter-plane links; in a plane of one satellite, or a shell of
      two planes, links that coincide are listed once.

    Parameters
    ----------
    constellation : Constellation; uses its ``shell``, ``plane`` and ``slot`` arrays (n,), not
        the order of the satellites.
    inter_plane_shift : int, slots to advance when linking to the next plane (may be negative).
    open_shells : names (of ``constellation.shell_names``) of the shells whose last plane does not
        link to plane 0 (Walker stars); default none: every shell wraps.

    Returns
    -------
    int32 array (E, 2) of satellite indices, a < b in every row, rows sorted and unique.

    Raises
    ------
    ValueError : if two satellites of one shell have the same (plane, slot).
    """
    if isinstance(inter_plane_shift, bool) or not isinstance(inter_plane_shift, (int, np.integer)):
        raise ValueError(f"inter_plane_shift must be an integer, got {inter_plane_shift!r}")
    shell = np.asarray(constellation.shell, dtype=np.int64)
    plane = np.asarray(constellation.plane, dtype=np.int64)
    slot = np.asarray(constellation.slot, dtype=np.int64)
    names = tuple(constellation.shell_names)
    unknown = sorted(set(open_shells) - set(names))
    if unknown:
        raise ValueError(f"open_shells names shells the constellation lacks: {unknown} (shells: {names})")
    ends_a, ends_b = [], []
    for shell_id in np.unique(shell):  # a loop over shells; everything inside is per array
        sats = np.flatnonzero((shell == shell_id) & (plane >= 0) & (slot >= 0))
        if len(sats) == 0:
            continue
        p, s = plane[sats], slot[sats]
        order = np.lexsort((s, p))  # plane by plane, slot order within a plane
        sats, p, s = sats[order], p[order], s[order]
        same = (np.diff(p) == 0) & (np.diff(s) == 0)
        if same.any():
            k = int(np.flatnonzero(same)[0])
            name = names[shell_id] if shell_id < len(names) else shell_id
            raise ValueError(
                f"shell {name}: satellites {sats[k]} and {sats[k + 1]} both have plane {p[k]} "
                f"slot {s[k]}; +Grid needs one satellite per (plane, slot)"
            )
        # Plane numbers as given (a file's may run to 999,999,999) -> dense 0..K-1 in the same order:
        # only their order and their gaps matter, and the gaps are kept in ``linked`` below.
        numbers, d = np.unique(p, return_inverse=True)
        d = d.reshape(-1)
        n_planes, count, start, rank = _plane_layout(d)

        # In-plane: the next slot index, wrapping; the previous one is the same link reversed.
        ends_a.append(sats)
        ends_b.append(sats[start[d] + (rank + 1) % count[d]])

        if numbers[-1] >= 1:  # planes 0 .. max; one plane (max 0) has no neighbour
            # Plane k links to plane number + 1 if it has satellites (a gap breaks the chain); the
            # last (the largest number) wraps to plane 0 if there is one, unless the shell is open
            # (a Walker star's seam).
            linked = np.r_[numbers[1:] == numbers[:-1] + 1,
                           numbers[0] == 0 and not (shell_id < len(names) and names[shell_id] in open_shells)]
            q = (d + 1) % n_planes
            has = linked[d]
            target_rank = (rank[has] + inter_plane_shift) % count[q[has]]
            ends_a.append(sats[has])
            ends_b.append(sats[start[q[has]] + target_rank])
    if not ends_a:
        return np.zeros((0, 2), dtype=np.int32)
    return _canonical_links(np.concatenate(ends_a), np.concatenate(ends_b))


#: Fewer on-station laser satellites than this in an inferred plane: strays, not a mesh plane
#: (**assumption**).
MIN_PLANE_SATS = 3


#: Widest angle between two satellites' orbit normals that a laser joins, deg. Two satellites
#: abreast in planes ``theta`` apart close at up to ``2 v sin(theta / 2)`` where the planes cross.
#: Set by a measurement, not by a terminal's specification (none is public): Starlink's 97.6 deg
#: shell has six planes about 60 deg apart (Dec 2023), and its Antarctic latency, 77.7 ms p50 in
#: Starlink's Jan 2024 figures, needs them joined: at 20 deg (only the 43, 53 and 70 deg shells'
#: planes, 4-20 deg apart, joined) leonet's Antarctica reads 296 ms, at 60-180 deg 96-99 ms. At 65
#: it joins those planes and drops the links across the shell's 120 deg seam, which closed at up to
#: 11 km/s (range-rate over 15 s, a physics audit of 2026-12-02).
MAX_PLANE_ANGLE_DEG = 65.0


def _orbit_normals(raan_deg: np.ndarray, inclination_deg: np.ndarray) -> np.ndarray:
    """(n, 3) unit normals of the satellites' orbit planes (inertial frame; RAAN and inclination)."""
    o, i = np.radians(raan_deg), np.radians(inclination_deg)
    return np.stack([np.sin(i) * np.sin(o), -np.sin(i) * np.cos(o), np.cos(i)], axis=1)


def _match_abreast(a: np.ndarray, b: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """(K,) bool: a one-to-one choice among candidate links ``a[k] -> b[k]`` (a satellite and one
    of the next plane), smallest ``gap`` first: each satellite keeps at most one link forward and
    one back, as its two cross-plane laser terminals allow."""
    keep = np.zeros(len(a), dtype=bool)
    used_a, used_b = set(), set()
    for k in np.lexsort((b, a, gap)).tolist():  # a loop over candidates, once per model
        if a[k] not in used_a and b[k] not in used_b:
            keep[k] = True
            used_a.add(int(a[k]))
            used_b.add(int(b[k]))
    return keep


def nearest_grid_candidates(ring, plane, latitude_arg_deg, member=None, raan_deg=None, inclination_deg=None,
                            max_plane_angle_deg: float = MAX_PLANE_ANGLE_DEG) -> np.ndarray:
    """+Grid for planes inferred from published element sets: links to the nearest neighbours.

    Real shells are irregular (planes hold unequal counts, slot 0 sits anywhere in its plane,
    shells of close inclination interleave), so "the same slot index in the next plane" of
    :func:`plus_grid_candidates` may lie across the Earth. Here, within each ``ring`` (a shell's
    satellites of one inclination group), among the ``member`` satellites only (those that carry
    lasers: a satellite without lasers is not part of the mesh, its neighbours close up):

    - each satellite links to the next one of its plane by argument of latitude (wrapping);
    - and to a satellite of the next plane (planes in order of their number, i.e. of RAAN, the
      last linking to the first) close to it in argument of latitude, the one abreast: the
      candidates are the two nearest on either side, within one slot of that plane, matched one
      to one (:func:`_match_abreast`), so that no satellite holds more than four lasers;
    - two satellites whose orbit normals are more than ``max_plane_angle_deg`` apart are not
      joined, in a plane or across (:data:`MAX_PLANE_ANGLE_DEG`; needs ``raan_deg`` and
      ``inclination_deg``).

    Links too long or through the atmosphere are dropped later, per instant, like all candidates.

    Parameters
    ----------
    ring, plane : int (n,); plane -1 = unknown (no links).
    latitude_arg_deg : float (n,), argument of latitude at one instant, deg.
    member : bool (n,) or None (all).
    raan_deg, inclination_deg : float (n,), or None (every pair of consecutive planes is joined).

    Returns
    -------
    int32 array (E, 2) of satellite indices, a < b in every row, rows sorted and unique.
    """
    ring = np.asarray(ring, dtype=np.int64)
    plane = np.asarray(plane, dtype=np.int64)
    u_deg = np.mod(np.asarray(latitude_arg_deg, dtype=np.float64), 360.0)
    ok = plane >= 0
    if member is not None:
        ok &= np.asarray(member, dtype=bool)
    ends_a, ends_b = [], []
    for r in np.unique(ring[ok]):  # a loop over rings (a handful); arrays inside
        sats = np.flatnonzero(ok & (ring == r))
        _, p = np.unique(plane[sats], return_inverse=True)  # planes 0..P-1 in plane-number order
        order = np.lexsort((u_deg[sats], p))
        sats, p, u = sats[order], p[order], u_deg[sats][order]
        n_planes, count, start, rank = _plane_layout(p)
        nxt = start[p] + (rank + 1) % count[p]
        in_plane = np.ones(len(sats), dtype=bool)
        normal = None
        if raan_deg is not None and inclination_deg is not None:
            # the satellites' own orbit planes: an inferred plane may lump planes of other RAANs
            normal = _orbit_normals(np.asarray(raan_deg)[sats], np.asarray(inclination_deg)[sats])
            cos_limit = np.cos(np.radians(max_plane_angle_deg))
            in_plane = np.einsum("ij,ij->i", normal, normal[nxt]) >= cos_limit
        ends_a.append(sats[in_plane])
        ends_b.append(sats[nxt[in_plane]])
        if n_planes > 1:
            q = (p + 1) % n_planes
            key = p * 360.0 + u                       # sorted: plane, then angle
            j = np.searchsorted(key, q * 360.0 + u)   # first of plane q at or after the angle
            after = start[q] + (j - start[q]) % count[q]
            before = start[q] + (j - 1 - start[q]) % count[q]
            gap_after = np.abs((u[after] - u + 180.0) % 360.0 - 180.0)
            gap_before = np.abs((u[before] - u + 180.0) % 360.0 - 180.0)
            a = np.r_[np.arange(len(sats)), np.arange(len(sats))]
            b = np.r_[after, before]
            gap = np.r_[gap_after, gap_before]
            ok_link = gap <= 360.0 / count[q[a]]      # within one slot of the next plane
            if normal is not None:
                ok_link &= np.einsum("ij,ij->i", normal[a], normal[b]) >= cos_limit
            a, b, gap = a[ok_link], b[ok_link], gap[ok_link]
            keep = _match_abreast(a, b, gap)
            ends_a.append(sats[a[keep]])
            ends_b.append(sats[b[keep]])
    if not ends_a:
        return np.zeros((0, 2), dtype=np.int32)
    return _canonical_links(np.concatenate(ends_a), np.concatenate(ends_b))


_INTEGER = re.compile(r"[+-]?\d+")
_SEPARATOR = re.compile(r"\s*,\s*|\s+")


def read_isl_list(path: str | Path, n_satellites: int) -> np.ndarray:
    """Read an explicit list of ISLs: one pair of satellite indices per line.

    Format: ``a b`` or ``a,b`` (0-based indices into the constellation); ``#`` starts a comment;
    blank lines are skipped. A link is undirected, so ``a b`` and ``b a`` are the same link and
    listing both is an error (naming both lines), as is linking a satellite to itself.

    Parameters
    ----------
    path : the text file.
    n_satellites : int, the number of satellites in the constellation.

    Returns
    -------
    int32 array (E, 2), a < b in every row, rows sorted (file order is not kept: a list of links
    is a set). E >= 1.

    Raises
    ------
    InputError : naming the file and, for a bad line, the line number.
    """
    if isinstance(n_satellites, bool) or not isinstance(n_satellites, (int, np.integer)) or n_satellites < 0:
        raise ValueError(f"n_satellites must be a non-negative integer, got {n_satellites!r}")
    source = str(path)
    from ..textfiles import read_bytes

    raw = read_bytes(path)
    if b"\x00" in raw:
        raise InputError("looks like a binary file; expected text with one 'a b' pair per line", source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}); expected one 'a b' pair per line", source
        ) from None

    first_line: dict[tuple[int, int], int] = {}
    pairs: list[tuple[int, int]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        where = f"line {line_no}"
        fields = _SEPARATOR.split(content)
        if len(fields) != 2 or not all(_INTEGER.fullmatch(f) for f in fields):
            raise InputError(
                f"expected two satellite indices 'a b' or 'a,b', got {quote(content)}", source, where
            )
        a, b = int(fields[0]), int(fields[1])
        for sat in (a, b):
            if not 0 <= sat < n_satellites:
                span = f" (0..{n_satellites - 1})" if n_satellites else ""
                raise InputError(
                    f"satellite {sat} does not exist; the constellation has {n_satellites}{span}",
                    source, where,
                )
        if a == b:
            raise InputError(f"links satellite {a} to itself", source, where)
        key = (min(a, b), max(a, b))
        if key in first_line:
            raise InputError(
                f"link {key[0]}-{key[1]} is listed twice: line {first_line[key]} and line {line_no} "
                "(links are undirected: 'a b' and 'b a' are the same link)",
                source, where,
            )
        first_line[key] = line_no
        pairs.append(key)
    if not pairs:
        raise InputError("no links: the file is empty or holds only comments and blank lines", source)
    return np.array(sorted(pairs), dtype=np.int32)


def max_isl_range_m(altitude_m_a, altitude_m_b, grazing_height_m: float = DEFAULT_GRAZING_HEIGHT_M):
    """Longest line of sight (m) between satellites at two altitudes that stays
    ``grazing_height_m`` above a spherical Earth of radius ``EARTH_RADIUS_M``.

    The longest such segment touches the sphere of radius R + g; each satellite contributes its
    tangent length: sqrt((R + h_a)^2 - (R + g)^2) + sqrt((R + h_b)^2 - (R + g)^2). About 5,017 km
    for two satellites at 550 km with g = 80 km (Hypatia's limit).

    Parameters
    ----------
    altitude_m_a, altitude_m_b : float or arrays (broadcast), metres above ``EARTH_RADIUS_M``.
    grazing_height_m : float, metres.

    Returns
    -------
    float, or float64 array of the broadcast shape.

    Raises
    ------
    ValueError : if an altitude is below the grazing height (no clear line of sight exists).
    """
    ha = np.asarray(altitude_m_a, dtype=np.float64)
    hb = np.asarray(altitude_m_b, dtype=np.float64)
    g = float(grazing_height_m)
    if not (np.isfinite(ha).all() and np.isfinite(hb).all() and np.isfinite(g)):
        raise ValueError("altitudes and grazing height must be finite")
    if (ha < g).any() or (hb < g).any():
        raise ValueError(f"altitudes must be at least the grazing height {g} m")
    rg2 = (EARTH_RADIUS_M + g) ** 2
    out = np.sqrt((EARTH_RADIUS_M + ha) ** 2 - rg2) + np.sqrt((EARTH_RADIUS_M + hb) ** 2 - rg2)
    return float(out) if out.ndim == 0 else out


