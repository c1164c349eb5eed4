"""Candidate site-satellite pairs through a grid of satellite directions (a compiled kernel).

:class:`leonet.network.visibility.VisibilityIndex` needs, at each instant, for every site either
every satellite within a ball of radius R (gateways, PoPs: "full" sites) or, per altitude band,
the k satellites nearest to it within that ball ("near" sites: the dishes of a scale run). The
reference does this with k-d trees (:meth:`VisibilityIndex.query_reference`); this module does
the same with one pass over the sites in a numba kernel:

- per band, the satellites are binned by the direction of their position (cells of geocentric
  latitude and longitude sized to hold about two of the band's satellites each, built per instant
  by a counting sort);
- a satellite at distance d < R from a site at radius r_s, itself at radius r_t >= r_lo (the
  band's lowest), lies within the central angle theta(d) = acos(1 - (d^2 - m^2) / (2 r_s r_lo))
  of it, m = max(r_lo - r_s, 0), because |p_s - p_t|^2 = (r_t - r_s)^2 + 2 r_s r_t (1 - cos theta)
  >= m^2 + 2 r_s r_lo (1 - cos theta);
- the cells that can hold such a satellite are those of the latitude rows within theta of the
  site, and within asin(sin theta / cos lat) of its longitude (the bounding box of a spherical
  cap; every longitude when the cap reaches a pole), widened by 1e-7 deg for rounding;
- a near site first scans a small cap (where its k nearest usually are); once it holds k
  satellites, the k-th distance d_k bounds where any nearer one can be, so at most one more
  scan, of the cap theta(d_k), is needed (angles are compared as 1 - cos, and the longitude
  bound uses asin(s) <= s / sqrt(1 - s^2), so a scan costs one arccos at most). Every candidate's distance is computed exactly, so the
  cells only ever need to be a superset.

The result is the same set of pairs as the k-d trees' (the k nearest are unique but for exact
ties in distance, which have measure zero), already sorted by (site, sat), with each pair's
offset vector, slant range and "up" component computed by the same floating-point operations,
in the same order, as the reference's numpy code (so bit for bit equal; tests compare them).
"""

from __future__ import annotations

import numpy as np

try:  # numba compiles the kernel once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency; the k-d trees are the reference
    njit = None

#: Satellites per cell of the direction grid, on average over the sphere.
SATS_PER_CELL = 2.0
#: Slack on every window bound, degrees (the angles are computed to ~1e-13 deg).
SLACK_DEG = 1e-7


def cells_per_half_turn(n_sats: int) -> int:
    """Latitude rows of a band's grid (cells are 180 / rows degrees on a side; 2 x rows columns)."""
    cell_deg = np.sqrt(41_253.0 * SATS_PER_CELL / max(n_sats, 1))
    return int(min(max(round(180.0 / cell_deg), 1), 360))


def _bin_of(x, y, z, n_lat, cell):
    r = np.sqrt(x * x + y * y + z * z)
    lat = np.degrees(np.arcsin(min(max(z / r, -1.0), 1.0)))
    lon = np.degrees(np.arctan2(y, x))
    i = int(np.floor((lat + 90.0) / cell))
    j = int(np.floor((lon + 180.0) / cell))
    i = min(max(i, 0), n_lat - 1)
    j = min(max(j, 0), 2 * n_lat - 1)
    return i * 2 * n_lat + j


def _angle(x):
    """Central angle (deg) and its sine for 1 - cos(angle) = x."""
    c = max(1.0 - x, -1.0)
    return np.degrees(np.arccos(c)), np.sqrt(max(x * (2.0 - x), 0.0))


def _scan(px, py, pz, lat_deg, lon_deg, cos_lat, theta_deg, sin_theta, cell_start, cell_sats, cx, cy, cz, base,
          n_lat, r2, k, best_d, best_i, count, full, out_list, n_out):
    """Visit every satellite of one band in the cells that can lie within the central angle
    ``theta_deg`` (sine ``sin_theta``) of the site at (px, py, pz) (geocentric latitude and
    longitude, deg; cosine of the latitude); near mode keeps the ``k`` nearest with d^2 < r2 in
    (best_d, best_i, count), full mode appends every satellite with d^2 <= r2 to out_list.
    Returns (count, n_out, out_list)."""
    n_lon = 2 * n_lat
    cell = 180.0 / n_lat
    theta_deg = theta_deg + SLACK_DEG
    i0 = max(int(np.floor((lat_deg - theta_deg + 90.0) / cell)), 0)
    i1 = min(int(np.floor((lat_deg + theta_deg + 90.0) / cell)), n_lat - 1)
    j0, j1 = 0, n_lon - 1
    if abs(lat_deg) + theta_deg < 89.0:   # else the cap (nearly) reaches a pole: every longitude
        # the cap's longitudes are within asin(sin theta / cos lat) <= s / sqrt(1 - s^2)
        sv = sin_theta / cos_lat
        if sv < 0.9:
            dlon = np.degrees(sv / np.sqrt(1.0 - sv * sv)) + SLACK_DEG
            a = int(np.floor((lon_deg - dlon + 180.0) / cell))
            z = int(np.floor((lon_deg + dlon + 180.0) / cell))
            if z - a + 1 < n_lon:
                j0, j1 = a, z
    for i in range(i0, i1 + 1):
        row = base + i * n_lon
        for jj in range(j0, j1 + 1):
            c = row + jj % n_lon
            for e in range(cell_start[c], cell_start[c + 1]):
                dx = cx[e] - px
                dy = cy[e] - py
                dz = cz[e] - pz
                d2 = dx * dx + dy * dy + dz * dz
                if full:
                    if d2 <= r2:
                        if n_out >= len(out_list):
                            grown = np.empty(2 * len(out_list) + 16, np.int64)
                            grown[:n_out] = out_list[:n_out]
                            out_list = grown
                        out_list[n_out] = cell_sats[e]
                        n_out += 1
                    continue
                if d2 >= r2 or (count == k and d2 >= best_d[k - 1]):
                    continue
                t = cell_sats[e]
                seen = False
                for q in range(count):
                    if best_i[q] == t:
                        seen = True
                if seen:
                    continue
                q = count if count < k else k - 1   # insert in order of distance
                while q > 0 and best_d[q - 1] > d2:
                    best_d[q] = best_d[q - 1]
                    best_i[q] = best_i[q - 1]
                    q -= 1
                best_d[q] = d2
                best_i[q] = t
                if count < k:
                    count += 1
    return count, n_out, out_list


def _candidates(site_ecef_m, near, site_order, sat_ecef_m, sat_good, sat_band, n_bands, k_band, r_near, r_full,
                r_lo, theta0, n_lat):
    """Candidate pairs of every site, sorted by (site, sat).

    site_ecef_m (S, 3); near (S,) bool; site_order (S,) the order to visit the sites in (any
    permutation; one that keeps neighbours together is faster); sat_ecef_m (N, 3); sat_good (N,)
    bool (finite rows); sat_band (N,) int64 in 0..n_bands-1; k_band (n_bands,) k per band (0:
    band empty); r_near (n_bands,) ball radius per band for near sites, m; r_full: ball radius for
    full sites, m; r_lo (n_bands,) lowest satellite radius per band, m; theta0 (n_bands,) first
    scan angle of a near site, rad; n_lat (n_bands,) rows of each band's grid.
    Returns site (K,), sat (K,) int64.
    """
    n_sats = sat_ecef_m.shape[0]
    # Per band b: rows n_lat[b], cells of 180 / n_lat[b] deg, numbered from base[b]; the
    # satellites and their coordinates in cell order.
    base = np.zeros(n_bands + 1, np.int64)
    for b in range(n_bands):
        base[b + 1] = base[b] + 2 * n_lat[b] * n_lat[b]
    n_cells = base[n_bands]
    cell_of = np.full(n_sats, -1, np.int64)
    cell_start = np.zeros(n_cells + 1, np.int64)
    for t in range(n_sats):
        if sat_good[t]:
            b = sat_band[t]
            c = base[b] + _bin_of(sat_ecef_m[t, 0], sat_ecef_m[t, 1], sat_ecef_m[t, 2], n_lat[b], 180.0 / n_lat[b])
            cell_of[t] = c
            cell_start[c + 1] += 1
    for c in range(n_cells):
        cell_start[c + 1] += cell_start[c]
    fill = cell_start[:-1].copy()
    n_good = cell_start[n_cells]
    cell_sats = np.empty(n_good, np.int64)
    cx = np.empty(n_good)
    cy = np.empty(n_good)
    cz = np.empty(n_good)
    for t in range(n_sats):
        c = cell_of[t]
        if c >= 0:
            e = fill[c]
            cell_sats[e] = t
            cx[e], cy[e], cz[e] = sat_ecef_m[t, 0], sat_ecef_m[t, 1], sat_ecef_m[t, 2]
            fill[c] += 1

    n_sites = site_ecef_m.shape[0]
    k_sum = 0
    k_max = 1
    for b in range(n_bands):
        k_sum += k_band[b]
        k_max = max(k_max, k_band[b])
    # Near sites write into fixed slots (k_sum each), full sites into one growing list.
    slots = np.empty((n_sites, max(k_sum, 1)), np.int64)
    n_of = np.zeros(n_sites, np.int64)
    full_start = np.full(n_sites, -1, np.int64)
    full_list = np.empty(1024, np.int64)
    n_full = 0
    best_d = np.empty(k_max)
    best_i = np.empty(k_max, np.int64)
    row = np.empty(64, np.int64)
    x0 = np.empty(n_bands)       # 1 - cos(theta0) of each band, and the angle itself
    theta0_deg = np.empty(n_bands)
    sin0 = np.empty(n_bands)
    for b in range(n_bands):
        x0[b] = 1.0 - np.cos(theta0[b])
        theta0_deg[b] = np.degrees(theta0[b])
        sin0[b] = np.sin(theta0[b])
    for s in site_order:
        px, py, pz = site_ecef_m[s, 0], site_ecef_m[s, 1], site_ecef_m[s, 2]
        rs = np.sqrt(px * px + py * py + pz * pz)
        lat_deg = np.degrees(np.arcsin(min(max(pz / rs, -1.0), 1.0)))
        lon_deg = np.degrees(np.arctan2(py, px))
        cos_lat = np.sqrt(px * px + py * py) / rs
        n_row = 0
        for b in range(n_bands):
            if k_band[b] == 0:
                continue
            r = r_near[b] if near[s] else r_full
            r2 = r * r
            # Angles as x = 1 - cos: a satellite at distance d is within x <= (d^2 - m^2) / (2 r_s r_lo),
            # (r_t - r_s)^2 >= m^2 for every satellite of the band (r_t >= r_lo).
            m = max(r_lo[b] - rs, 0.0)
            m2 = m * m
            scale = 2.0 * rs * r_lo[b]
            x_max = max(r2 - m2, 0.0) / scale
            if near[s]:
                k = k_band[b]
                count = 0
                if x_max <= x0[b]:
                    th, sn = _angle(x_max)
                    count, n_row, row = _scan(px, py, pz, lat_deg, lon_deg, cos_lat, th, sn, cell_start, cell_sats,
                                              cx, cy, cz, base[b], n_lat[b], r2, k, best_d, best_i, count, False,
                                              row, n_row)
                else:
                    count, n_row, row = _scan(px, py, pz, lat_deg, lon_deg, cos_lat, theta0_deg[b], sin0[b],
                                              cell_start, cell_sats, cx, cy, cz, base[b], n_lat[b], r2, k, best_d,
                                              best_i, count, False, row, n_row)
                    # the k-th nearest so far bounds where a nearer one can be; else the whole ball
                    x_need = max(best_d[k - 1] - m2, 0.0) / scale if count == k else x_max
                    if x_need > x0[b]:
                        th, sn = _angle(x_need)
                        count, n_row, row = _scan(px, py, pz, lat_deg, lon_deg, cos_lat, th, sn, cell_start,
                                                  cell_sats, cx, cy, cz, base[b], n_lat[b], r2, k, best_d, best_i,
                                                  count, False, row, n_row)
                for q in range(count):
                    row[n_row] = best_i[q]
                    n_row += 1
            else:
                th, sn = _angle(x_max)
                _, n_row, row = _scan(px, py, pz, lat_deg, lon_deg, cos_lat, th, sn, cell_start, cell_sats, cx, cy,
                                      cz, base[b], n_lat[b], r2, 0, best_d, best_i, 0, True, row, n_row)
        # sort the row by satellite (insertion sort: a few entries for a near site)
        for q in range(1, n_row):
            v = row[q]
            w = q
            while w > 0 and row[w - 1] > v:
                row[w] = row[w - 1]
                w -= 1
            row[w] = v
        n_of[s] = n_row
        if near[s]:
            slots[s, :n_row] = row[:n_row]
        else:
            if n_full + n_row > len(full_list):
                grown = np.empty(max(2 * len(full_list), n_full + n_row), np.int64)
                grown[:n_full] = full_list[:n_full]
                full_list = grown
            full_start[s] = n_full
            full_list[n_full:n_full + n_row] = row[:n_row]
            n_full += n_row
    total = 0
    for s in range(n_sites):
        total += n_of[s]
    out_site = np.empty(total, np.int64)
    out_sat = np.empty(total, np.int64)
    n = 0
    for s in range(n_sites):
        for q in range(n_of[s]):
            out_site[n] = s
            out_sat[n] = slots[s, q] if near[s] else full_list[full_start[s] + q]
            n += 1
    return out_site, out_sat


def _geometry(site, sat, site_ecef_m, sat_ecef_m, east_t, north_t, up_t):
    """Per pair (K,): slant range, m, and the offset's components along the
    site's east, north and up (``*_t`` (3, S)). The same operations, in the same order, as the
    reference's numpy expressions (so the same bits)."""
    m = len(site)
    range_m = np.empty(m)
    east = np.empty(m)
    north = np.empty(m)
    up = np.empty(m)
    for q in range(m):
        s, t = site[q], sat[q]
        a = sat_ecef_m[t, 0] - site_ecef_m[s, 0]
        b = sat_ecef_m[t, 1] - site_ecef_m[s, 1]
        c = sat_ecef_m[t, 2] - site_ecef_m[s, 2]
        range_m[q] = np.sqrt(a * a + b * b + c * c)
        east[q] = east_t[0, s] * a + east_t[1, s] * b + east_t[2, s] * c
        north[q] = north_t[0, s] * a + north_t[1, s] * b + north_t[2, s] * c
        up[q] = up_t[0, s] * a + up_t[1, s] * b + up_t[2, s] * c
    return range_m, east, north, up


if njit is not None:
    _angle = njit(cache=True, nogil=True)(_angle)
    _bin_of = njit(cache=True, nogil=True)(_bin_of)
    _scan = njit(cache=True, nogil=True)(_scan)
    _candidates_fast = njit(cache=True, nogil=True)(_candidates)
    _geometry_fast = njit(cache=True, nogil=True)(_geometry)
else:  # pragma: no cover
    _candidates_fast = _geometry_fast = None


def candidate_pairs(site_ecef_m: np.ndarray, near: np.ndarray, sat_ecef_m: np.ndarray, sat_good: np.ndarray,
                    sat_band: np.ndarray, k_band: np.ndarray, r_near_m: np.ndarray, r_full_m: float,
                    site_order: np.ndarray | None = None, sat_radius_m: np.ndarray | None = None):
    """Site-satellite candidates, sorted by (site, sat): for a ``near`` site (S,) bool, the
    ``k_band[b]`` satellites of each band b nearest to it closer than ``r_near_m[b]``; for the
    other sites every satellite at most ``r_full_m`` away. ``sat_good`` (N,) bool marks the
    satellites with finite positions (the others are never candidates); ``sat_band`` (N,) int64;
    ``site_order`` (S,) the order the sites are visited in (default: :func:`site_order`);
    ``sat_radius_m`` (N,) the satellites' geocentric radii, ``np.sqrt((sat_ecef_m ** 2).sum(axis=1))``,
    where the caller has them already (default: computed here).

    Returns site (K,), sat (K,) int64.
    """
    sat_band = np.asarray(sat_band, dtype=np.int64)
    n_bands = len(k_band)
    r_lo = np.full(n_bands, np.inf)
    radius = np.sqrt((sat_ecef_m ** 2).sum(axis=1)) if sat_radius_m is None else sat_radius_m
    for b in range(n_bands):
        members = sat_good & (sat_band == b)
        if members.any():
            r_lo[b] = radius[members].min()
    # First scan of a near site: a cap expected to hold ~3 k satellites of the band at its
    # mean density (a second, exact scan follows where it does not).
    counts = np.bincount(sat_band[sat_good], minlength=n_bands)[:n_bands]
    theta0 = np.sqrt(12.0 * np.maximum(k_band, 1) / np.maximum(counts, 1))
    n_lat = np.array([cells_per_half_turn(c) for c in counts], dtype=np.int64)
    if site_order is None:
        site_order = spatial_order(site_ecef_m)
    return _candidates_fast(np.ascontiguousarray(site_ecef_m, dtype=np.float64), np.asarray(near, dtype=np.bool_),
                            np.asarray(site_order, dtype=np.int64),
                            np.ascontiguousarray(sat_ecef_m, dtype=np.float64), np.asarray(sat_good, dtype=np.bool_),
                            sat_band, n_bands, np.asarray(k_band, dtype=np.int64),
                            np.asarray(r_near_m, dtype=np.float64), float(r_full_m), r_lo, theta0, n_lat)


def spatial_order(site_ecef_m: np.ndarray, cell_deg: float = 2.0) -> np.ndarray:
    """(S,) int64 the sites ordered by cells of ``cell_deg`` of geocentric latitude, then longitude
    (neighbours together: their scans touch the same cells of the satellite grid)."""
    p = np.asarray(site_ecef_m, dtype=np.float64).reshape(-1, 3)
    if not len(p):
        return np.zeros(0, dtype=np.int64)
    lat = np.degrees(np.arctan2(p[:, 2], np.hypot(p[:, 0], p[:, 1])))
    lon = np.degrees(np.arctan2(p[:, 1], p[:, 0]))
    i = np.floor((lat + 90.0) / cell_deg).astype(np.int64)
    j = np.floor((lon + 180.0) / cell_deg).astype(np.int64)
    return np.lexsort((j, i)).astype(np.int64)


def pair_geometry(site, sat, site_ecef_m, sat_ecef_m, east_t, north_t, up_t):
    """(range_m, east, north, up) of each pair, m (see :func:`_geometry`)."""
    c = np.ascontiguousarray
    return _geometry_fast(site, sat, c(site_ecef_m), c(sat_ecef_m), c(east_t), c(north_t), c(up_t))
