"""A site admitted in part is two sites: its admitted dishes and ``<name> (sold out)``
(docs/service-model.md, "Cells and admission"), so that every site is all admitted or all
SOLD_OUT and every dish-weighted figure counts the waiting list; and the scenario's events, resolved
against the sites as written, read over the split list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, quote
from ..ground.sites import Sites

if TYPE_CHECKING:
    from ..threats.timeline import Timeline


#: The name of the sold-out part of a site admitted in part: "<the site's name> (sold out)".
SOLD_OUT_SUFFIX = " (sold out)"


@dataclass(frozen=True)
class SoldOutSplit:
    """How :func:`split_partly_admitted` split the scenario's sites.

    Attributes
    ----------
    written : Sites, the scenario's sites as written (S0): what its events and obstructions name.
    parent : (S,) int64, the row in ``written`` of each site of the split list: its own for the
        first S0 (a site admitted in part keeps its row and name for its admitted dishes), its
        site's for each sold-out part (rows S0..S-1).
    """

    written: Sites = field(repr=False)
    parent: np.ndarray

    @property
    def n_split(self) -> int:
        """How many sites were split (= sold-out parts)."""
        return len(self.parent) - len(self.written)

    def note(self, dishes: int, admitted: int) -> str:
        """The run's word on the split (one of ``model.network.warnings``)."""
        n = self.n_split
        names = [str(x) for x in self.written.name[self.parent[len(self.written):]]]
        shown = ", ".join(names[:3]) + (f" and {n - 3:,} more" if n > 3 else "")
        cells = "its cell's subscriber limit and is" if n == 1 else "their cells' subscriber limits and are"
        return (f"admission: {n:,} dish site{'' if n == 1 else 's'} ({shown}) straddle{'s' if n == 1 else ''} {cells} "
                f"split in two: the admitted dishes keep the site's name, the waiting ones are the site "
                f"'<name>{SOLD_OUT_SUFFIX}', SOLD_OUT throughout ({admitted:,} of {dishes:,} dishes admitted)")


def split_partly_admitted(sites: Sites, dish_rows, n_dishes, n_admitted) -> tuple[Sites, SoldOutSplit | None]:
    """``sites`` with each dish site admitted in part (0 < admitted < dishes) made two, so that
    every site is all admitted or all SOLD_OUT and every dish-weighted figure counts its dishes
    right: the admitted dishes keep the site's row, name and everything else (``dishes`` =
    admitted); the waiting ones become a site appended after all the others, at the same place
    with the same group, kit, home PoP and other columns, named ``<name> (sold out)``
    (:data:`SOLD_OUT_SUFFIX`), ``dishes`` = the rest. Appended, the parts leave every other
    site's row (and every dish's place in the network order, which its random draws follow) as
    it was.

    Parameters
    ----------
    sites : the scenario's sites (S0); dish_rows : (D,) the rows of its dish sites;
    n_dishes, n_admitted : (D,) dishes each stands for, and of those admitted.

    Returns
    -------
    (sites, split): ``sites`` itself and None when no site is admitted in part.
    """
    rows = np.asarray(dish_rows, dtype=np.int64)
    n, a = np.asarray(n_dishes, dtype=np.int64), np.asarray(n_admitted, dtype=np.int64)
    part = (a > 0) & (a < n)
    if not part.any():
        return sites, None
    split_rows = rows[part]
    names = [f"{name}{SOLD_OUT_SUFFIX}" for name in sites.name[split_rows]]
    taken = set(sites.name.tolist())
    clash = next((x for x in names if x in taken), None)
    if clash is not None:
        raise InputError(f"the site {quote(clash[: -len(SOLD_OUT_SUFFIX)])} is admitted in part, and its sold-out part "
                         f"would be named {quote(clash)}, which another site has; rename that site", location="ground")
    column = np.asarray(sites.attrs["dishes"])   # there: a site admitted in part stands for 2 dishes or more

    def as_column(values):   # Python ints in an object column (None marks a site of one dish)
        if column.dtype == object:
            return np.array([int(x) for x in values], dtype=object)
        return values.astype(column.dtype)

    dishes = column.copy()
    dishes[split_rows] = as_column(a[part])
    admitted = _with_columns(sites, sites.name, dishes)
    waiting = _with_columns(sites.take(split_rows), np.array(names, dtype=object), as_column((n - a)[part]))
    return (Sites.concatenate([admitted, waiting]),
            SoldOutSplit(written=sites, parent=np.r_[np.arange(len(sites)), split_rows].astype(np.int64)))


def _with_columns(sites: Sites, name, dishes) -> Sites:
    """``sites`` with the names ``name`` and the ``dishes`` column ``dishes`` (object arrays)."""
    return Sites(name=name, kind=sites.kind, lat_deg=sites.lat_deg, lon_deg=sites.lon_deg,
                 elevation_m=sites.elevation_m, group=sites.group, attrs={**sites.attrs, "dishes": dishes})


class SplitTimeline:
    """The scenario's events resolved against its sites as written (``inner``, a
    :class:`~leonet.threats.timeline.Timeline`), read over the sites list in which each site
    admitted in part is two (``parent``: (S,) the written row of each site;
    :class:`~leonet.sim.sold_out.SoldOutSplit`).

    An event selects what the scenario names (sites by name, groups, a region, a fraction of them,
    a power cut's backed-up share) among the written sites, so the split changes no selection and
    no draw; a sold-out part then shares its site's state at every instant (a power cut or a
    bricking makes it OFFLINE, which comes before SOLD_OUT; its ground internet's level; a
    geofence) and is named with its site among the event's sites (:attr:`events`, events.json).
    ``target.sites`` names the written sites only (not ``<name> (sold out)``)."""

    def __init__(self, inner: Timeline, parent: np.ndarray):
        self.inner = inner
        self.parent = np.asarray(parent, dtype=np.int64)
        self.events = [self._over_split_sites(r) for r in inner.events]

    def _over_split_sites(self, r):
        """A resolved event of ``inner`` with its sites (and what goes with them) over the split list."""
        import dataclasses

        p = self.parent
        changes = {}
        hit = np.asarray(r.sites, dtype=np.int64)
        if len(hit):
            rows = np.flatnonzero(np.isin(p, hit))   # its sites, then their sold-out parts
            changes["sites"] = rows
            if r.offline_from_ns is not None:   # one per target site
                order = np.argsort(hit, kind="stable")
                changes["offline_from_ns"] = np.asarray(r.offline_from_ns)[order[np.searchsorted(hit[order], p[rows])]]
        for name in ("site_level", "provider_lost"):   # one row per site
            if getattr(r, name) is not None:
                changes[name] = np.asarray(getattr(r, name))[p]
        return dataclasses.replace(r, **changes) if changes else r

    def state_at(self, t_ns: int):
        """:meth:`Timeline.state_at` with each per-site array over the split sites."""
        import dataclasses

        s, p = self.inner.state_at(t_ns), self.parent
        return dataclasses.replace(
            s, site_down=s.site_down[p], dish_offline=s.dish_offline[p], terrestrial_down=s.terrestrial_down[p],
            demand_factor=s.demand_factor[p], ground_level=None if s.ground_level is None else s.ground_level[p],
            geofenced=None if s.geofenced is None else s.geofenced[p],
            delivered=None if s.delivered is None else s.delivered[p])
