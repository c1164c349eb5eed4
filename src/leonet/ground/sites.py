"""Ground sites as columns: user dishes, gateways, points of presence (PoPs) and stations.

Every source of sites (a user's CSV, the curated sets shipped in :mod:`leonet.data`, dishes
scattered around a district centre) ends up as one :class:`Sites`, so the network code sees one
shape: arrays of length n, positions as ``(n, 3)`` ECEF metres.

Heights: ``elevation_m`` is used as the height above the WGS84 ellipsoid. Elevations above sea
level differ from it by the geoid undulation (within about +-100 m), i.e. well under a
microsecond of light time, so no geoid model is applied.

This module holds :class:`Sites` itself. Reading sites CSV files is in
:mod:`leonet.ground.sites_csv`, generated dishes in :mod:`leonet.ground.dishes` and the built-in
site sets in :mod:`leonet.ground.builtin`. Those modules import :class:`Sites` from here and this
module imports none of them (no import circle); :mod:`leonet.ground` gathers all their names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Iterable, Mapping

import numpy as np

from ..errors import InputError
from ..space.frames import geodetic_to_ecef

#: The kinds of site leonet knows. "station" is a generic endpoint (e.g. a city in Hypatia's
#: city-to-city study) that is neither a user dish nor part of the operator's ground segment.
KINDS = ("dish", "gateway", "pop", "station")

_CORE_FIELDS = ("name", "kind", "lat_deg", "lon_deg", "elevation_m", "group")


def _frozen(values, dtype) -> np.ndarray:
    """A read-only 1-D copy, so that cached derived arrays (ECEF) can never go stale."""
    arr = np.array(values, dtype=dtype, copy=True).reshape(-1)
    arr.setflags(write=False)
    return arr


def _text_column(values, n: int, field_name: str) -> np.ndarray:
    arr = _frozen(values, object)
    if arr.shape != (n,):
        raise InputError(f"has {arr.size} entries, expected {n} (one per site)", "Sites", field_name)
    not_str = [v for v in arr if not isinstance(v, str)]
    if not_str:
        bad = not_str[0]
        raise InputError(f"must hold str, found {type(bad).__name__} {bad!r}", "Sites", field_name)
    return arr


@dataclass(frozen=True, eq=False)
class Sites:
    """Columns of ground sites; every array has shape (n,) and is read-only.

    Attributes
    ----------
    name : object array of str, unique. For PoPs, the PoP code ("LON/LHR").
    kind : object array of str, each one of :data:`KINDS`.
    lat_deg, lon_deg : float64, WGS84 geodetic latitude in [-90, 90] and longitude in
        [-180, 180], degrees.
    elevation_m : float64, height above the WGS84 ellipsoid, metres (see the module note).
    group : object array of str, a free grouping such as a district or region; "" for none.
    attrs : read-only mapping of extra columns, each an array of shape (n,) (e.g. a gateway's
        ``status``, a PoP's ``code``).
    """

    name: np.ndarray
    kind: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    elevation_m: np.ndarray
    group: np.ndarray = field(default=None)  # type: ignore[assignment]
    attrs: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        n = np.asarray(self.name, dtype=object).reshape(-1).size
        set_(self, "name", _text_column(self.name, n, "name"))
        set_(self, "kind", _text_column(self.kind, n, "kind"))
        set_(self, "group", _text_column([""] * n if self.group is None else self.group, n, "group"))
        for f in ("lat_deg", "lon_deg", "elevation_m"):
            arr = _frozen(getattr(self, f), np.float64)
            if arr.shape != (n,):
                raise InputError(f"has {arr.size} entries, expected {n} (one per site)", "Sites", f)
            set_(self, f, arr)
        attrs = {}
        for key, values in dict(self.attrs).items():
            if key in _CORE_FIELDS:
                raise InputError(f"extra column {key!r} clashes with a core column", "Sites", "attrs")
            arr = np.asarray(values)
            # Text columns stay Python str objects, so that to_table gives plain strings.
            arr = _frozen(arr, object if arr.dtype.kind in "OUS" else arr.dtype)
            if arr.shape != (n,):
                raise InputError(
                    f"has {arr.size} entries, expected {n} (one per site)", "Sites", f"attrs.{key}"
                )
            attrs[key] = arr
        set_(self, "attrs", MappingProxyType(attrs))
        self._validate()

    def __reduce__(self):
        # Pickled for worker processes: the read-only attrs mapping travels as a plain dict.
        return (Sites, (self.name, self.kind, self.lat_deg, self.lon_deg, self.elevation_m,
                        self.group, dict(self.attrs)))

    def _validate(self) -> None:
        bad_kind = sorted(set(self.kind) - set(KINDS))
        if bad_kind:
            raise InputError(f"unknown kind(s) {bad_kind}; expected one of {list(KINDS)}", "Sites", "kind")
        for f, limit in (("lat_deg", 90.0), ("lon_deg", 180.0)):
            values = getattr(self, f)
            bad = np.flatnonzero(~(np.abs(values) <= limit))  # also catches NaN
            if bad.size:
                i = bad[0]
                raise InputError(
                    f"site {self.name[i]!r} has {f} {float(values[i]):g}, outside [-{limit:g}, {limit:g}]",
                    "Sites", f,
                )
        if not np.all(np.isfinite(self.elevation_m)):
            i = np.flatnonzero(~np.isfinite(self.elevation_m))[0]
            raise InputError(f"site {self.name[i]!r} has a non-finite elevation_m", "Sites", "elevation_m")
        if len(set(self.name)) != len(self.name):
            names, counts = np.unique(self.name.astype(str), return_counts=True)
            dup = names[counts > 1]
            raise InputError(
                f"site names must be unique; {dup.size} repeated, e.g. {[str(x) for x in dup[:5]]}",
                "Sites", "name",
            )

    def __len__(self) -> int:
        return self.name.size

    @cached_property
    def ecef_m(self) -> np.ndarray:
        """Earth-fixed (WGS84 ECEF) positions, float64 (n, 3) metres; computed once, read-only."""
        r = geodetic_to_ecef(self.lat_deg, self.lon_deg, self.elevation_m).reshape(-1, 3)
        r.setflags(write=False)
        return r

    @cached_property
    def _index_by_name(self) -> dict[str, int]:
        return dict(zip(self.name, range(len(self))))

    def index_of(self, names: str | Iterable[str]) -> np.ndarray:
        """Row indices (int64, shape (k,)) of the given site names, in the order given.

        Raises :class:`InputError` listing every name that is not a site here.
        """
        wanted = [names] if isinstance(names, str) else list(names)
        lookup = self._index_by_name
        unknown = [w for w in wanted if w not in lookup]
        if unknown:
            from ..errors import did_you_mean, quote

            shown = ", ".join(quote(u) + did_you_mean(u, self.name) for u in unknown[:3])
            more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            raise InputError(
                f"unknown site name(s): {shown}{more} ({len(unknown)} of {len(wanted)} not among "
                f"the {len(self)} sites; `leonet sites` lists the built-in names)",
                location="names",
            )
        return np.fromiter((lookup[w] for w in wanted), dtype=np.int64, count=len(wanted))

    def take(self, index) -> "Sites":
        """A subset (or reordering) of the sites by integer index or boolean mask (no repeats)."""
        index = np.asarray(index)
        out = Sites(
            name=self.name[index], kind=self.kind[index], lat_deg=self.lat_deg[index],
            lon_deg=self.lon_deg[index], elevation_m=self.elevation_m[index],
            group=self.group[index], attrs={k: v[index] for k, v in self.attrs.items()},
        )
        if "ecef_m" in self.__dict__:  # reuse the cached positions rather than recompute them
            r = self.ecef_m[index]
            r.setflags(write=False)
            out.__dict__["ecef_m"] = r
        return out

    @staticmethod
    def empty() -> "Sites":
        """A set of no sites."""
        e = np.zeros(0)
        return Sites(name=np.zeros(0, object), kind=np.zeros(0, object), lat_deg=e, lon_deg=e, elevation_m=e)

    @staticmethod
    def concatenate(parts: list["Sites"]) -> "Sites":
        """Join site sets in order; names must stay unique across all parts.

        ``attrs`` is the union of the parts' extra columns; a column missing from a part is
        filled with None (a null in :meth:`to_table`) for that part's rows, never dropped.
        """
        parts = list(parts)
        if not parts:
            return Sites.empty()
        keys = list(dict.fromkeys(k for p in parts for k in p.attrs))
        attrs = {
            k: np.concatenate([p.attrs[k] if k in p.attrs else np.full(len(p), None, object) for p in parts])
            for k in keys
        }
        core = {f: np.concatenate([getattr(p, f) for p in parts]) for f in _CORE_FIELDS}
        return Sites(**core, attrs=attrs)

    def to_table(self):
        """The sites as a ``pyarrow.Table``: the core columns, then the ``attrs`` columns."""
        import pyarrow as pa

        cols = {f: pa.array(list(getattr(self, f)), pa.string()) for f in ("name", "kind")}
        cols.update({f: pa.array(getattr(self, f)) for f in ("lat_deg", "lon_deg", "elevation_m")})
        cols["group"] = pa.array(list(self.group), pa.string())
        for k, v in self.attrs.items():
            cols[k] = pa.array(list(v) if v.dtype == object else v)
        return pa.table(cols)


__all__ = ["KINDS", "Sites"]
