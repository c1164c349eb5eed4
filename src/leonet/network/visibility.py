"""Which satellites each ground site sees at one instant, through a spatial index.

Candidates come from a ball query between a k-d tree of sites (built once) and a k-d tree of
satellite positions (built per instant): only pairs closer than the largest slant range the rule
allows are ever formed, so 100,000 sites and 30,000 satellites cost in proportion to the pairs in
view, not to their product. Candidates are then filtered exactly by elevation above the local
horizon (WGS84 ellipsoid normal) and/or slant range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..horizon import blocked
from ..space.frames import enu_basis, look_angles
from . import skygrid

try:  # numba compiles the small-case candidate search once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None

#: Sites x satellites up to which candidates come from a compiled distance test of each site
#: against the satellites in its z window (no tree of satellites to build per instant); above it,
#: from the two k-d trees. Hypatia's 100 cities x 1,584 satellites: ~0.1 ms against ~0.45 ms for
#: building and querying a tree.
ALL_PAIRS_MAX = 2_000_000


def _within(site_xyz, sx, sy, sz, r2, lo, hi, starts, site_out, sat_out, fill):
    """Count (``fill`` False: into ``starts[i + 1]``) or write (``fill`` True: from ``starts[i]``)
    the satellites j in lo[i]..hi[i] (a window of the z-sorted satellites) with squared distance
    <= r2 from site i."""
    for i in range(site_xyz.shape[0]):
        x, y, z = site_xyz[i, 0], site_xyz[i, 1], site_xyz[i, 2]
        k = starts[i]
        c = 0
        for j in range(lo[i], hi[i]):
            dx = sx[j] - x
            dy = sy[j] - y
            dz = sz[j] - z
            if dx * dx + dy * dy + dz * dz <= r2:
                if fill:
                    site_out[k] = i
                    sat_out[k] = j
                    k += 1
                c += 1
        if not fill:
            starts[i + 1] = c


if njit is not None:
    _within_fast = njit(cache=True, nogil=True)(_within)
else:  # pragma: no cover
    _within_fast = _within


def pairs_within(site_xyz: np.ndarray, sat_xyz: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Every (site, satellite) pair closer than ``radius_m`` (squared distance <= radius^2):
    int64 site rows (K,) and satellite rows (K,), by site then satellite. ``site_xyz`` (S, 3),
    ``sat_xyz`` (N, 3) m, finite. Each site tests the satellites whose z lies within the radius
    (plus 1e-9 of it: a pair can only be that close if its z's are); the candidate superset the
    visibility rule then filters, as the ball query of two k-d trees gives it
    (:meth:`Visibility.query` with ``all_pairs_max=0``)."""
    site_xyz = np.ascontiguousarray(site_xyz, dtype=np.float64).reshape(-1, 3)
    sat_xyz = np.ascontiguousarray(sat_xyz, dtype=np.float64).reshape(-1, 3)
    r = float(radius_m)
    r2 = r * r
    by_z = np.argsort(sat_xyz[:, 2], kind="stable")
    sx, sy, sz = (np.ascontiguousarray(sat_xyz[by_z, c]) for c in range(3))
    margin = r * (1.0 + 1e-9)
    lo = np.searchsorted(sz, site_xyz[:, 2] - margin, side="left")
    hi = np.searchsorted(sz, site_xyz[:, 2] + margin, side="right")
    starts = np.zeros(len(site_xyz) + 1, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    _within_fast(site_xyz, sx, sy, sz, r2, lo, hi, starts, none, none, False)
    np.cumsum(starts, out=starts)
    site = np.empty(starts[-1], dtype=np.int64)
    sat = np.empty(starts[-1], dtype=np.int64)
    _within_fast(site_xyz, sx, sy, sz, r2, lo, hi, starts, site, sat, True)
    sat = by_z[sat]
    order = np.argsort(site * max(len(sat_xyz), 1) + sat, kind="stable")
    return site[order], sat[order]


def max_slant_range_m(site_radius_m: float, sat_radius_m: float, min_elevation_deg: float) -> float:
    """Slant range (m) to a satellite at radius ``sat_radius_m`` seen at ``min_elevation_deg`` from a
    site at radius ``site_radius_m`` (spherical geometry, law of cosines)."""
    e = np.deg2rad(min_elevation_deg)
    rs, rt = site_radius_m, sat_radius_m
    return float(np.sqrt(rt**2 - (rs * np.cos(e)) ** 2) - rs * np.sin(e))


@dataclass(frozen=True)
class VisibilityRule:
    """A satellite is in view when elevation >= ``min_elevation_deg`` (if set) and slant range
    <= ``max_range_m`` (if set)."""

    min_elevation_deg: float | None = 25.0
    max_range_m: float | None = None
    #: Only the k nearest satellites of each site (None: all in view). For scale runs: the pairs
    #: that matter (highest satellites) are found at a fraction of the cost of all of them.
    nearest_k: int | None = None

    def admits(self, elevation_deg: np.ndarray, range_m: np.ndarray) -> np.ndarray:
        """(K,) bool: which site-satellite links the rule accepts, from their elevation (deg) and
        slant range (m), each (K,). A NaN elevation (a lost satellite) is never accepted.

        The one statement of the ground-link rule: the visibility query, the slot look-ahead and
        the check of a held path's gateway link all use it.
        """
        ok = np.isfinite(elevation_deg)
        if self.min_elevation_deg is not None:
            ok &= elevation_deg >= self.min_elevation_deg
        if self.max_range_m is not None:
            ok &= range_m <= self.max_range_m
        return ok


@dataclass(frozen=True)
class VisiblePairs:
    """Site-satellite pairs in view at one instant, sorted by (site, sat). Arrays of shape (K,)."""

    site: np.ndarray  # int32
    sat: np.ndarray  # int32
    elevation_deg: np.ndarray
    azimuth_deg: np.ndarray
    range_m: np.ndarray
    #: (K,) bool: in view by the rule but below the site's obstruction mask.
    obstructed: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self):
        if self.obstructed is None:
            object.__setattr__(self, "obstructed", np.zeros(len(self.site), dtype=bool))

    def __len__(self) -> int:
        return len(self.site)

    def clear(self) -> "VisiblePairs":
        """Only the pairs not blocked by an obstruction mask."""
        keep = ~self.obstructed
        return VisiblePairs(self.site[keep], self.sat[keep], self.elevation_deg[keep],
                            self.azimuth_deg[keep], self.range_m[keep], self.obstructed[keep])


class VisibilityIndex:
    """Sites prepared once for repeated visibility queries.

    Parameters
    ----------
    site_ecef_m : (S, 3) metres.
    lat_deg, lon_deg : (S,) geodetic coordinates of the sites (for the local horizon).
    rule : VisibilityRule.
    """

    def __init__(self, site_ecef_m: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray, rule: VisibilityRule,
                 masks: np.ndarray | None = None, mask_of_site: np.ndarray | None = None,
                 nearest_sites: np.ndarray | None = None, sat_band: np.ndarray | None = None):
        self.site_ecef_m = np.asarray(site_ecef_m, dtype=np.float64).reshape(-1, 3)
        self.enu = enu_basis(lat_deg, lon_deg).reshape(-1, 3, 3)
        self.rule = rule
        #: Sites x satellites up to which candidates come from testing every pair (0: always the trees).
        self.all_pairs_max = ALL_PAIRS_MAX
        # With rule.nearest_k, the sites it applies to (default: all) are queried for their k
        # nearest satellites; the others (gateways, PoPs: few) for every satellite in view.
        n_sites = len(self.site_ecef_m)
        near = np.zeros(n_sites, dtype=bool)
        if rule.nearest_k is not None:
            near = np.ones(n_sites, dtype=bool) if nearest_sites is None else np.asarray(nearest_sites, dtype=bool)
        self._near_index = np.flatnonzero(near)
        #: Altitude band of each satellite (nearest_k mode): the k nearest are found per band, so a
        #: higher shell's satellite that stands higher in the sky is not crowded out by a lower one.
        self.sat_band = None if sat_band is None else np.asarray(sat_band, dtype=np.int64)
        self._full_index = np.flatnonzero(~near)
        self.tree = cKDTree(self.site_ecef_m[self._full_index]) if len(self._full_index) else None
        # Rows of the local east/north/up bases, as separate columns for cheap gathers.
        self._east = np.ascontiguousarray(self.enu[:, 0, :].T)   # (3, S)
        self._north = np.ascontiguousarray(self.enu[:, 1, :].T)
        self._up = np.ascontiguousarray(self.enu[:, 2, :].T)
        radii = np.linalg.norm(self.site_ecef_m, axis=1)
        self._min_site_radius_m = float(radii.min()) if len(radii) else 0.0
        #: Obstruction masks (M, 360) and each site's mask (-1: none); see leonet.ground.obstructions.
        self.masks = masks if masks is not None else np.zeros((0, 360))
        self.mask_of_site = mask_of_site
        # Whether any site has a mask (else no pair is obstructed: flags are all False).
        self._any_mask = mask_of_site is not None and bool((np.asarray(mask_of_site) >= 0).any())
        self._near_mask = np.zeros(n_sites, dtype=bool)
        self._near_mask[self._near_index] = True
        self._zero_band = np.zeros(0, dtype=np.int64)  # the one band of every satellite (no sat_band)
        self._site_order = None   # the sites in grid order, for the compiled query (made on first use)

    def link(self, site: np.ndarray, sat_ecef_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Links from sites ``site`` (K,) to satellites at ``sat_ecef_m`` (K, 3), pairwise:
        whether the rule admits each (K,) bool, its elevation (K,) deg and slant range (K,) m."""
        elevation_deg, _, range_m = look_angles(self.site_ecef_m[site], self.enu[site], sat_ecef_m)
        return self.rule.admits(elevation_deg, range_m), elevation_deg, range_m

    def search_radius_m(self, max_sat_radius_m: float) -> float:
        """A ball radius that contains every pair the rule can accept."""
        limits = []
        if self.rule.max_range_m is not None:
            limits.append(self.rule.max_range_m)
        if self.rule.min_elevation_deg is not None:
            # Geodetic and geocentric verticals differ by < 0.2 deg; 0.5 deg of slack covers it.
            e = max(self.rule.min_elevation_deg - 0.5, 0.0)
            limits.append(max_slant_range_m(self._min_site_radius_m, max_sat_radius_m, e))
        return min(limits)

    def query(self, sat_ecef_m: np.ndarray) -> VisiblePairs:
        """Pairs in view for satellite positions ``sat_ecef_m`` (N, 3); NaN rows are never in view.

        The candidates come from the compiled direction grid of :mod:`leonet.network.skygrid`;
        :meth:`query_reference` finds the same pairs with k-d trees (tests compare them)."""
        if skygrid.njit is None:  # pragma: no cover - numba is a dependency
            return self.query_reference(sat_ecef_m)
        sat_ecef_m = np.ascontiguousarray(sat_ecef_m, dtype=np.float64)
        ok = np.isfinite(sat_ecef_m[:, 0]) & np.isfinite(sat_ecef_m[:, 1]) & np.isfinite(sat_ecef_m[:, 2])
        if len(self.site_ecef_m) == 0 or not ok.any():
            return _empty_pairs()
        radius = np.sqrt((sat_ecef_m ** 2).sum(axis=1))  # (N,) m, NaN where not ok
        r_full = self.search_radius_m(float(radius[ok].max()))
        if self.sat_band is None:
            if len(self._zero_band) != len(sat_ecef_m):
                self._zero_band = np.zeros(len(sat_ecef_m), dtype=np.int64)
            band = self._zero_band
        else:
            band = self.sat_band
        n_bands = int(band.max()) + 1 if len(band) else 1
        # The k of each band as the reference splits it: between the bands that hold a satellite now.
        present = np.bincount(band[ok], minlength=n_bands) > 0
        k = 1
        if self.rule.nearest_k is not None:
            k = self.rule.nearest_k if present.sum() == 1 else max(2, -(-self.rule.nearest_k // int(present.sum())))
        k_band = np.where(present, np.minimum(k, np.bincount(band[ok], minlength=n_bands)), 0).astype(np.int64)
        # A near site's k nearest of a band are only useful within that band's own ball: a
        # satellite the rule admits is inside it (see search_radius_m), and the k nearest within
        # a smaller ball are the k nearest within the larger one, less those outside the smaller.
        r_near = np.full(n_bands, r_full)
        for b in np.flatnonzero(present):
            r_near[b] = self.search_radius_m(float(radius[ok & (band == b)].max()))
        if self._site_order is None:
            self._site_order = skygrid.spatial_order(self.site_ecef_m)
        site, sat = skygrid.candidate_pairs(self.site_ecef_m, self._near_mask, sat_ecef_m, ok, band, k_band, r_near,
                                            r_full, self._site_order, sat_radius_m=radius)
        range_m, east, north, up = skygrid.pair_geometry(site, sat, self.site_ecef_m, sat_ecef_m,
                                                                  self._east, self._north, self._up)
        elevation_deg = np.rad2deg(np.arcsin(np.clip(up / np.maximum(range_m, 1e-9), -1.0, 1.0)))
        keep = self.rule.admits(elevation_deg, range_m)
        return self._pairs(site[keep], sat[keep], elevation_deg[keep], range_m[keep], east[keep], north[keep])

    def _pairs(self, site, sat, elevation_deg, range_m, east, north) -> VisiblePairs:
        """The pairs (sorted by (site, sat)) with their azimuths and obstruction flags."""
        azimuth_deg = np.mod(np.rad2deg(np.arctan2(east, north)), 360.0)
        site, sat = site.astype(np.int32), sat.astype(np.int32)
        obstructed = None
        if self.mask_of_site is not None:
            obstructed = (blocked(self.masks, self.mask_of_site, site, azimuth_deg, elevation_deg) if self._any_mask
                          else np.zeros(len(site), dtype=bool))
        return VisiblePairs(
            site=site, sat=sat, elevation_deg=elevation_deg,
            azimuth_deg=azimuth_deg, range_m=range_m, obstructed=obstructed,
        )

    def query_reference(self, sat_ecef_m: np.ndarray) -> VisiblePairs:
        """:meth:`query` through k-d trees (the reference the compiled grid is tested against)."""
        sat_ecef_m = np.asarray(sat_ecef_m, dtype=np.float64)
        ok = np.isfinite(sat_ecef_m).all(axis=1)
        sat_index = np.flatnonzero(ok).astype(np.int32)
        if len(self.site_ecef_m) == 0 or len(sat_index) == 0:
            return _empty_pairs()
        good = sat_ecef_m[sat_index]
        radius = self.search_radius_m(float(np.linalg.norm(good, axis=1).max()))
        site_parts, sat_parts = [], []
        all_pairs = len(self._full_index) * len(good) <= self.all_pairs_max and not len(self._near_index)
        sat_tree = None if all_pairs else cKDTree(good)
        if self.tree is not None and all_pairs:
            i, j = pairs_within(self.site_ecef_m[self._full_index], good, radius)
            site_parts.append(self._full_index[i].astype(np.int64))
            sat_parts.append(sat_index[j].astype(np.int64))
        elif self.tree is not None:
            pairs = self.tree.sparse_distance_matrix(sat_tree, radius, output_type="ndarray")
            site_parts.append(self._full_index[pairs["i"]].astype(np.int64))
            sat_parts.append(sat_index[pairs["j"]].astype(np.int64))
        if len(self._near_index):
            # The k nearest satellites: for one altitude the nearest is the highest, so these hold
            # the highest ones. Across altitude bands nearest is not highest, so each band gets
            # its own query (k split between them, at least 2 each).
            bands = [np.arange(len(good))] if self.sat_band is None else \
                [np.flatnonzero(self.sat_band[sat_index] == b) for b in np.unique(self.sat_band[sat_index])]
            k = self.rule.nearest_k if len(bands) == 1 else max(2, -(-self.rule.nearest_k // len(bands)))
            near_points = self.site_ecef_m[self._near_index]
            for members in bands:
                tree = sat_tree if len(bands) == 1 else cKDTree(good[members])
                _, idx = tree.query(near_points, k=min(k, len(members)), distance_upper_bound=radius)
                idx = idx.reshape(len(self._near_index), -1)
                found = idx < len(members)
                site_parts.append(self._near_index[np.nonzero(found)[0]].astype(np.int64))
                sat_parts.append(sat_index[members[idx[found]]].astype(np.int64))
        site = np.concatenate(site_parts)
        sat = np.concatenate(sat_parts)
        # Look angles component by component: gathers of (K,) columns, no (K, 3, 3) temporaries.
        d = [sat_ecef_m[sat, c] - self.site_ecef_m[site, c] for c in range(3)]
        range_m = np.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
        up = self._up[0, site] * d[0] + self._up[1, site] * d[1] + self._up[2, site] * d[2]
        elevation_deg = np.rad2deg(np.arcsin(np.clip(up / np.maximum(range_m, 1e-9), -1.0, 1.0)))
        keep = self.rule.admits(elevation_deg, range_m)
        site, sat, range_m, elevation_deg = site[keep], sat[keep], range_m[keep], elevation_deg[keep]
        d = [c[keep] for c in d]
        east = self._east[0, site] * d[0] + self._east[1, site] * d[1] + self._east[2, site] * d[2]
        north = self._north[0, site] * d[0] + self._north[1, site] * d[1] + self._north[2, site] * d[2]
        order = np.argsort(site * len(sat_ecef_m) + sat, kind="stable")  # nearly sorted already: timsort is fast
        return self._pairs(site[order], sat[order], elevation_deg[order], range_m[order], east[order], north[order])


def _empty_pairs() -> VisiblePairs:
    i = np.zeros(0, dtype=np.int32)
    f = np.zeros(0, dtype=np.float64)
    return VisiblePairs(site=i, sat=i, elevation_deg=f, azimuth_deg=f, range_m=f)
