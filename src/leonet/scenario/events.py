"""The ``events:`` section of a scenario: validated event descriptions (pydantic).

What the events do is :mod:`leonet.threats` (the timeline resolves these specs against the sites
and satellites); this module only says what a valid event is.

Each event has a type, a start, an optional end (open-ended when omitted) and a target. Times are
absolute UTC (``start``/``end``) or seconds after the scenario's start (``start_s``/``end_s``).
Targets select what the event acts on: a region (a circle or a polygon in lat/lon), named sites
or site groups, shells, and a fraction of the selection chosen with a seed.
"""

from __future__ import annotations

from datetime import timezone
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from .common import EARLIEST_UTC, LATEST_UTC, SEED_MAX, FieldError, Instant, Spec, check_instant

EVENT_TYPES = (
    "terrestrial_outage",  # ISPs / fibre in a region go down: users there lose ground internet
    "gateway_loss",        # strike or power cut at gateways
    "pop_loss",            # a point of presence goes down
    "fibre_cut",           # gateway-PoP or PoP-PoP fibre cut
    "satellite_loss",      # a fraction of a shell / region's satellites lost at once (storm)
    "satellite_failures",  # random failures at a rate (per satellite per day)
    "asat",                # anti-satellite strike on satellites over a region at an instant
    "jamming",             # an RF jammer (see jammer)
    "dish_bricking",       # ground-segment cyber attack: dishes bricked until replaced (OFFLINE)
    "core_outage",         # core-network failure: every PoP down for a period
    "demand_surge",        # more dishes active / more demand per dish
    "isp_outage",          # a provider's customers (by city, from the providers table) lose ground internet to a level
    "power_cut",           # dishes without backup power go OFFLINE; others when their backup runs out
    "geofence",            # the operator refuses service in a region (GEOFENCED)
    "alt_network_wipe",    # another satellite operator's terminals bricked (KA-SAT, AcidRain): its users lose it, some move over
    "deliveries",          # dishes arrive over time: the share of a site's dishes delivered (its dishes on thin with it)
)

#: Events whose losses are permanent: they take no end (satellites lost do not come back).
PERMANENT_EVENT_TYPES = ("satellite_loss", "asat")
#: Events that act only through the capacity model (the link budget, the demand it shares out):
#: they need ``capacity.enabled``.
CAPACITY_EVENT_TYPES = ("jamming", "demand_surge")


#: Most failures per satellite per day a satellite_failures event may draw.
MAX_FAILURE_RATE_PER_DAY = 1_000.0

#: The ``target`` fields each event type reads (:mod:`leonet.threats.timeline`: ``_select_sites``
#: for the site events, ``_resolve_satellites`` for the satellite ones); any other field given is an
#: error, since it would be ignored without a word.
_SITE_TARGET = ("region", "sites", "groups", "fraction", "seed")
_SAT_TARGET = ("region", "shells", "planes", "fraction", "seed")
TARGET_FIELDS: dict[str, tuple[str, ...]] = {
    **{t: _SITE_TARGET for t in ("terrestrial_outage", "gateway_loss", "pop_loss", "dish_bricking", "demand_surge",
                                 "isp_outage", "power_cut", "geofence", "alt_network_wipe", "deliveries")},
    "satellite_loss": _SAT_TARGET,
    "asat": _SAT_TARGET,
    "satellite_failures": ("shells", "planes", "seed"),  # every satellite of them, each at its own time
    "core_outage": (),   # every PoP
    "fibre_cut": (),     # its links
    "jamming": (),       # whatever its jammer reaches
}
#: Why a field a type does not read is not what the user wants, where there is a better event.
_TARGET_HINTS = {
    ("satellite_failures", "region"): "; for the satellites over a region use a satellite_loss or asat event",
    ("satellite_failures", "fraction"): "; the rate_per_day decides how many fail",
    ("core_outage", "sites"): "; a core_outage takes every PoP down: for some PoPs use a pop_loss event",
    ("core_outage", "groups"): "; a core_outage takes every PoP down: for some PoPs use a pop_loss event",
    ("core_outage", "region"): "; a core_outage takes every PoP down: for some PoPs use a pop_loss event",
    ("jamming", "sites"): "; a jamming event hits whatever its jammer reaches (set jammer's position and power)",
    ("jamming", "groups"): "; a jamming event hits whatever its jammer reaches (set jammer's position and power)",
    ("jamming", "region"): "; a jamming event hits whatever its jammer reaches (set jammer's position and power)",
    ("fibre_cut", "sites"): "; a fibre_cut names its fibres in links",
}


class CircleSpec(Spec):
    lat_deg: float = Field(..., ge=-90, le=90)
    lon_deg: float = Field(..., ge=-180, le=180)
    radius_km: float = Field(..., gt=0, le=20_000)


#: Most vertices a polygon may have: plenty for a country's outline at event scale, and the
#: self-crossing check (every pair of edges) stays well under a second.
MAX_POLYGON_VERTICES = 2_000


def _first_self_crossing(pts: np.ndarray) -> tuple[int, int] | None:
    """The first (i, j), i < j, whose edges i (pts[i] -> pts[i+1]) and j of the closed polygon
    ``pts`` (n, 2) properly cross (planar lat/lon; neighbouring edges, which share a vertex, are
    not compared; touching is not crossing), or None. Vectorised over j, in blocks of i."""
    n = len(pts)
    a, b = pts, np.roll(pts, -1, axis=0)

    def orient(p, q, r):   # sign of the turn p -> q -> r, broadcast over leading axes
        return np.sign((q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0]))

    block = max(1, 250_000 // max(n, 1))
    for i0 in range(0, n - 2, block):
        i = np.arange(i0, min(n - 2, i0 + block))[:, None]
        j = np.arange(i0 + 2, n)[None, :]            # only j > i + 1 can qualify in this block
        p1, p2 = a[i], b[i]                          # (k, 1, 2)
        p3, p4 = a[j], b[j]                          # (1, m, 2)
        cross = ((orient(p1, p2, p3) * orient(p1, p2, p4) < 0)
                 & (orient(p3, p4, p1) * orient(p3, p4, p2) < 0))
        cross &= (j > i + 1) & ~((i == 0) & (j == n - 1))
        hit = np.argwhere(cross)
        if len(hit):
            return int(i0 + hit[0, 0]), int(i0 + 2 + hit[0, 1])
    return None


class RegionSpec(Spec):
    """A circle (its radius great-circle km: it may cross the antimeridian), or a polygon of
    [lat_deg, lon_deg] vertices, degrees (planar in lat/lon; it must not cross the antimeridian or
    itself). An edge spanning more than 180 deg of longitude is taken as crossing the antimeridian
    and refused."""

    circle: CircleSpec | None = None
    polygon: list[tuple[float, float]] | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.circle is None) == (self.polygon is None):
            raise ValueError("give either circle or polygon")
        if self.polygon is not None:
            pts = self.polygon
            if len(pts) < 3:
                raise ValueError("a polygon needs at least 3 [lat_deg, lon_deg] vertices")
            if len(pts) > MAX_POLYGON_VERTICES:
                raise ValueError(f"a polygon has at most {MAX_POLYGON_VERTICES:,} vertices, got {len(pts):,}; "
                                 "simplify the outline (an event's region needs no finer detail)")
            for lat, lon in pts:
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError(f"polygon vertex [{lat}, {lon}] is not a valid [lat_deg, lon_deg]")
            n = len(pts)
            for i in range(n):
                (lat0, lon0), (lat1, lon1) = pts[i], pts[(i + 1) % n]
                if abs(lon1 - lon0) > 180:
                    raise ValueError(
                        f"polygon edge {i} runs from [{lat0:g}, {lon0:g}] to [{lat1:g}, {lon1:g}], more than 180 deg of "
                        "longitude: the polygon crosses the antimeridian (+-180 deg), which a polygon cannot (it "
                        "would select the rest of the world); split the region at 180 deg into two events, or use "
                        "a circle (an edge that truly spans more than 180 deg needs a vertex in between)")
            crossing = _first_self_crossing(np.asarray(pts, dtype=np.float64))
            if crossing is not None:
                raise ValueError(f"polygon crosses itself (edge {crossing[0]} and edge {crossing[1]})")
        return self


class TargetSpec(Spec):
    region: RegionSpec | None = None
    sites: list[str] = []
    groups: list[str] = []
    shells: list[str] = []
    planes: list[int] = Field([], description="Satellite events: only these orbital planes (numbers within the shells).")
    fraction: float = Field(1.0, ge=0, le=1, description=(
        "Share of the selection hit, chosen with seed: whole sites (a site's dishes go together) or "
        "satellites, round(fraction x selected) of them, halves rounded to even (0.5 of 1 site: none, "
        "0.5 of 3: 2). A fraction that leaves nothing is an error."))
    seed: int = Field(0, ge=0, le=SEED_MAX)


class JammerSpec(Spec):
    """A jammer: position, power, band and antenna pattern."""

    lat_deg: float = Field(..., ge=-90, le=90)
    lon_deg: float = Field(..., ge=-180, le=180)
    height_m: float = Field(10.0, ge=0, le=40_000, description="The antenna's height above the ground (its radio horizon).")
    ground_elevation_m: float = Field(0.0, ge=-500, le=9000, description=(
        "The ground's elevation under the jammer, m above the ellipsoid, as a site's elevation_m: the antenna "
        "stands at ground_elevation_m + height_m (a dish at elevation_m stands 3 m above its ground)."))
    eirp_dbw: float = Field(..., ge=-30, le=100)
    band: Literal["user-downlink", "user-uplink"] = "user-downlink"
    bandwidth_mhz: float = Field(250.0, gt=0, le=5000, description="Jamming bandwidth (spread over the channel).")
    pattern: Literal["isotropic", "sector"] = "isotropic"
    pointing_azimuth_deg: float = Field(0.0, ge=0, lt=360, description="For pattern: sector.")
    beamwidth_deg: float = Field(120.0, gt=0, le=360, description="For pattern: sector (outside: -20 dB).")


class CountermeasureSpec(Spec):
    """The operator's answer to a jammer: from ``after_s`` seconds after the jamming starts, the
    jammer's effect is reduced by ``rejection_db`` (a software fix: Starlink shipped one within
    about a day in March 2022, REFERENCE.md; the size of the reduction is an assumption)."""

    after_s: float = Field(86_400.0, ge=0, le=10 * 365 * 86_400, description="Delay from the jamming's start to the fix (s).")
    rejection_db: float = Field(20.0, ge=0, le=100, description="Extra rejection of the jammer once fixed (dB).")


class EventSpec(Spec):
    name: str = Field(..., min_length=1)
    type: Literal[EVENT_TYPES]  # type: ignore[valid-type]
    start: Instant | None = None
    start_s: float | None = Field(None, ge=0, le=400 * 86_400, description="Seconds after time.start (instead of start).")
    end: Instant | None = None
    end_s: float | None = Field(None, ge=0, le=400 * 86_400)
    target: TargetSpec = TargetSpec()
    links: list[tuple[str, str]] = Field([], description="fibre_cut: [gateway, PoP] or [PoP, PoP] site names.")
    rate_per_day: float | None = Field(None, gt=0, le=MAX_FAILURE_RATE_PER_DAY, description=(
        "satellite_failures: failures per satellite per day (at most 1,000: a mean life of under 90 s; "
        "satellites lost at once are a satellite_loss)."))
    jammer: JammerSpec | None = None
    surge_factor: float | None = Field(None, gt=0, le=1000, description="demand_surge: multiplier on active dishes/demand.")
    level: float | None = Field(None, ge=0, le=1, description=(
        "terrestrial_outage / isp_outage: share of the ground traffic that still flows (0: none, the default; "
        "NetBlocks-style connectivity level); power_cut: share of ground internet that survives the cut "
        "(omit: ground internet unaffected). Overlapping events: isp_outages take each provider's share of "
        "users once, at its worst, and add across providers (a user has one provider); the other kinds "
        "compound as independent losses (two terrestrial outages at 0.5 leave 0.25)."))
    providers: list[str] = Field([], description="isp_outage: provider names from terrestrial.providers.")
    cities: list[str] = Field([], description="isp_outage: limit to these cities of the providers table (default: all where the provider operates).")
    backup_share: float = Field(0.0, ge=0, le=1, description="power_cut: share of dishes with a generator or battery.")
    backup_hours: float = Field(0.0, ge=0, le=24 * 365, description="power_cut: how long that backup lasts (h).")
    countermeasure: CountermeasureSpec | None = Field(None, description="jamming: the operator's fix and when it lands.")
    alt_share: float | None = Field(None, ge=0, le=1, description="alt_network_wipe: share of users in the target who relied on the other network.")
    move_share: float = Field(0.0, ge=0, le=1, description="alt_network_wipe: share of those who move to Starlink (their demand joins).")
    schedule: list[tuple[Instant, float]] = Field([], max_length=1000, description=(
        "deliveries: [UTC date, share of the dishes delivered by then] points, interpolated linearly "
        "(0 before the first point, the last share after the last)."))
    description: str = ""

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, v):
        if v is not None and v.tzinfo is None:
            raise ValueError("time has no timezone; write it in UTC, e.g. 2022-03-01T12:00:00Z")
        v = v.astimezone(timezone.utc) if v is not None else v
        if v is not None and not EARLIEST_UTC <= v < LATEST_UTC:
            raise ValueError(f"must be from {EARLIEST_UTC.year} to {LATEST_UTC.year - 1} (as time.start), got {v.isoformat()}")
        return v

    def _check_target(self) -> None:
        """Refuse target fields this event type does not read (:data:`TARGET_FIELDS`)."""
        target = self.target
        given = [name for name in TargetSpec.model_fields
                 if name in target.model_fields_set and getattr(target, name) != TargetSpec.model_fields[name].default]
        allowed = TARGET_FIELDS[self.type]
        if self.type == "isp_outage" and not (target.sites or target.groups or target.region is not None):
            allowed = ()   # without sites, groups or a region it takes the providers' customers, all of them
        for name in given:
            if name in allowed:
                continue
            uses = (f"it reads only {', '.join('target.' + a for a in allowed)}" if allowed
                    else "it takes no target" if TARGET_FIELDS[self.type] == () else
                    "target.fraction and target.seed apply only with target.sites, groups or region")
            article = "an" if self.type[0] in "aeiou" else "a"
            raise FieldError(("target", name), f"{article} {self.type} event does not use target.{name} ({uses}); remove "
                             f"it{_TARGET_HINTS.get((self.type, name), '')}")

    @model_validator(mode="after")
    def _check(self):
        if (self.start is None) == (self.start_s is None):
            raise ValueError("give start (UTC) or start_s (seconds after time.start)")
        if self.end is not None and self.end_s is not None:
            raise ValueError("give end or end_s, not both")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end.isoformat()}) is not after start ({self.start.isoformat()})")
        if self.start_s is not None and self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s:g}) is not after start_s ({self.start_s:g})")
        if self.type in PERMANENT_EVENT_TYPES and (self.end is not None or self.end_s is not None):
            raise FieldError(("end" if self.end is not None else "end_s",),
                             f"a {self.type} event has no end: lost satellites do not come back (remove "
                             f"{'end' if self.end is not None else 'end_s'}; a satellite_failures event's end "
                             "stops new failures)")
        article = "an" if self.type[0] in "aeiou" else "a"
        field = _NEEDS.get(self.type)
        if field and getattr(self, field) in (None, []):
            raise ValueError(f"{article} {self.type} event needs {field}")
        if self.type == "alt_network_wipe" and self.alt_share == 0:
            raise FieldError(("alt_share",), "alt_share 0: no user in the target relied on the other network, so "
                             "the event would change nothing; give the share of users who did (0 < alt_share <= 1)")
        self._check_target()
        for name, types in ONLY_FOR.items():
            if self.type in types:
                continue
            value, default = getattr(self, name), EventSpec.model_fields[name].default
            if value is not None and value != default:
                which = types[0] if len(types) == 1 else ", ".join(types[:-1]) + " and " + types[-1]
                what = "backup_share and backup_hours apply" if name.startswith("backup_") else f"{name} applies"
                raise ValueError(f"{what} to {which} events only (this is {article} {self.type} event): remove it")
        if self.schedule:
            times = [t for t, _ in self.schedule]
            for i, t in enumerate(times):
                try:
                    check_instant(t, "a schedule date")
                except ValueError as err:
                    raise FieldError(("schedule", i, 0), str(err)) from None
            for i in range(1, len(times)):
                if times[i] <= times[i - 1]:
                    raise FieldError(("schedule", i), f"schedule dates must increase: {times[i].isoformat()} is not "
                                     f"after the date before it ({times[i - 1].isoformat()})")
            for i, (_, share) in enumerate(self.schedule):
                if not 0 <= share <= 1:
                    raise FieldError(("schedule", i), f"schedule shares must be within 0..1, got {share:g}")
        return self


#: The field each event type needs (given and not empty).
_NEEDS = {"fibre_cut": "links", "satellite_failures": "rate_per_day", "jamming": "jammer",
          "demand_surge": "surge_factor", "isp_outage": "providers", "alt_network_wipe": "alt_share",
          "deliveries": "schedule"}
#: The fields only some event types read (:mod:`leonet.threats.timeline`); any other type given one
#: (other than its default) is an error, since it would be ignored without a word. Every other
#: field (name, type, start/start_s, end/end_s, target, description) applies to every type.
ONLY_FOR: dict[str, tuple[str, ...]] = {
    "links": ("fibre_cut",),
    "rate_per_day": ("satellite_failures",),
    "jammer": ("jamming",),
    "countermeasure": ("jamming",),
    "surge_factor": ("demand_surge",),
    "level": ("terrestrial_outage", "isp_outage", "power_cut"),
    "providers": ("isp_outage",),
    "cities": ("isp_outage",),
    "backup_share": ("power_cut",),
    "backup_hours": ("power_cut",),
    "alt_share": ("alt_network_wipe",),
    "move_share": ("alt_network_wipe",),
    "schedule": ("deliveries",),
}
