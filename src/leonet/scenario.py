"""Scenario files: the pydantic schema, YAML loading, presets and clear errors.

A scenario says which constellation flies, which ground sites exist, which time window to
simulate, which visibility rule applies, and where results go. It is validated once, at the door;
everything downstream trusts it. Errors name the file, the field path
(``constellation.shells[2].planes``), the YAML line where possible, and what was expected.

Relative paths inside a scenario file are resolved against the file's own folder.
"""

from __future__ import annotations

import copy
import math
import re
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError, quote
from .service.spec import ServiceSpec
from .threats.spec import EventSpec

SITE_KINDS = ("dish", "gateway", "pop", "station")
SEED_MAX = 2**32 - 1
#: Instants a scenario may name (time.start, shell epochs): SGP4's element sets begin in 1957, and
#: int64 nanoseconds end in 2262; 2200 keeps a year-long run well inside.
EARLIEST_UTC = datetime(1957, 1, 1, tzinfo=timezone.utc)
LATEST_UTC = datetime(2200, 1, 1, tzinfo=timezone.utc)
#: Largest scenario file read, bytes, and deepest nesting of mappings and lists accepted.
MAX_SCENARIO_BYTES = 64 * 1024 * 1024
MAX_NESTING = 40
#: Most YAML nodes (aliases counted each time they are used) in one scenario.
MAX_YAML_NODES = 5_000_000


def _check_instant(v: datetime | None, what: str) -> datetime | None:
    if v is None:
        return v
    if v.tzinfo is None:
        raise ValueError(f"{what} has no timezone; write it in UTC, e.g. 2022-03-01T12:00:00Z")
    v = v.astimezone(timezone.utc)
    if not EARLIEST_UTC <= v < LATEST_UTC:
        raise ValueError(f"{what} must be from {EARLIEST_UTC.year} to {LATEST_UTC.year - 1} (SGP4 and int64 "
                         f"nanosecond time), got {v.isoformat()}")
    return v
BUILTIN_SITE_SET_NAMES = ("hypatia-top100", "starlink-gateways-2023", "starlink-pops-2023")


def _check_kit(name):
    """A known kit name (InputError with "did you mean" otherwise); None passes."""
    if name is not None:
        from .service.kits import get_kit

        get_kit(name)
    return name


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShellSpec(_Model):
    """A Walker shell (see :mod:`leonet.space.walker`)."""

    name: str | None = Field(None, description="Shell name; default shell<k> (1-based).")
    altitude_km: float = Field(..., gt=150, lt=40_000, description="Altitude above the equatorial radius, km.")
    inclination_deg: float = Field(..., ge=0, le=180)
    planes: int = Field(..., ge=1, le=10_000)
    sats_per_plane: int = Field(..., ge=1, le=10_000)
    raan_spread_deg: float = Field(360.0, gt=0, le=360, description="360 (Walker delta) or 180 (star).")
    phasing: Literal["half-slot", "walker"] = "half-slot"
    walker_f: int = Field(0, ge=0, le=10_000, description="Walker phasing factor f (0..planes-1), for phasing: walker.")
    raan_offset_deg: float = Field(0.0, ge=-360, le=360)
    eccentricity: float = Field(0.0, ge=0, lt=0.1, description="Near-circular shells only.")
    arg_perigee_deg: float = Field(0.0, ge=-360, le=360)
    mean_motion_rev_per_day: float | None = Field(
        None, gt=0.9, lt=17.0, description="Overrides the mean motion derived from altitude_km."
    )
    epoch: datetime | None = Field(None, description="Element epoch (UTC); default: time.start.")

    @field_validator("epoch")
    @classmethod
    def _epoch_range(cls, v: datetime | None) -> datetime | None:
        return _check_instant(v, "epoch")

    @model_validator(mode="after")
    def _check_f(self):
        if self.phasing == "walker" and self.walker_f >= self.planes:
            raise ValueError(f"walker_f must be in 0..planes-1 = 0..{self.planes - 1}, got {self.walker_f}")
        return self


class OrbitFileSpec(_Model):
    """A file of real orbit data: TLE (2- or 3-line) or OMM (CelesTrak JSON, CSV or XML)."""

    path: str
    format: Literal["auto", "tle", "omm", "hypatia"] = Field(
        "auto", description="auto (by extension), tle, omm, or hypatia (tles.txt with an '<orbits> <sats>' header)."
    )
    shell: str | None = Field(None, description="Shell name for these satellites; default the file's stem.")
    plane_assignment: str | None = Field(
        None, description="CSV catalog_id,plane,slot; default: inferred from the elements."
    )
    station_keeping: bool = Field(False, description=(
        "The operator holds each satellite's orbit (Starlink's thrusters do): SGP4's drag terms (B*, "
        "mean-motion derivatives) are set to zero, so runs of months do not decay the satellites."))


class ConstellationSpec(_Model):
    preset: str | None = Field(None, description="A constellation preset (see `leonet presets`).")
    description: str | None = None
    shells: list[ShellSpec] = []
    orbit_files: list[OrbitFileSpec] = []

    @model_validator(mode="after")
    def _nonempty(self):
        if not self.shells and not self.orbit_files:
            raise ValueError("a constellation needs a preset, shells or orbit_files")
        return self


class SiteSpec(_Model):
    name: str = Field(..., min_length=1)
    lat_deg: float = Field(..., ge=-90, le=90)
    lon_deg: float = Field(..., ge=-180, le=180)
    elevation_m: float = Field(0.0, ge=-500, le=9_000)
    kind: Literal["dish", "gateway", "pop", "station"] = "dish"
    group: str = ""
    dishes: int = Field(1, ge=1, le=10_000_000, description="For a dish site: how many identical dishes it stands for.")
    kit: str | None = Field(None, description="Dish kit (leonet/data/terminal_kits.csv); default service.kit.")

    @field_validator("kit")
    @classmethod
    def _known_kit(cls, v):
        return _check_kit(v)


class SiteFileSpec(_Model):
    path: str
    kind: Literal["dish", "gateway", "pop", "station"] | None = Field(
        None, description="Kind for rows without a kind column."
    )


class BuiltinSitesSpec(_Model):
    name: Literal["hypatia-top100", "starlink-gateways-2023", "starlink-pops-2023",
                  "starlink-gateways-2026", "starlink-pops-2026"]
    regions: list[str] | None = Field(
        None, description="Keep only these regions (Europe, North America, South America, APAC, Africa); 2023 sets."
    )
    statuses: Literal["operational", "carried-traffic", "all"] = Field(
        "operational",
        description="Gateway sets: 'operational' (status says built), 'carried-traffic' (2023 only: also the sites "
        "the map colours live), 'all'. starlink-pops-2026: 'operational' = PoPs at an internet facility.",
    )
    antennas: Literal["default", "from-data"] = Field(
        "default",
        description="starlink-gateways-2023: 'from-data' gives each gateway the map's Ka antenna count "
        "instead of network.gateway_antennas.",
    )


class DishGroupSpec(_Model):
    """Dishes placed at random (area-uniform, seeded) in a disc around a city centre."""

    name: str = Field(..., min_length=1, description="Group (city) name; dishes are <name>-<k>.")
    lat_deg: float = Field(..., ge=-90, le=90)
    lon_deg: float = Field(..., ge=-180, le=180)
    count: int = Field(..., ge=0, le=10_000_000)
    radius_km: float = Field(10.0, ge=0, le=2_000)
    seed: int = Field(0, ge=0, le=SEED_MAX, description="Random seed, 0 to 2**32-1.")
    dishes_per_site: int = Field(
        1, ge=1, le=1_000_000,
        description="Each generated site stands for this many identical dishes (same sky, same route; capacity counts them all).",
    )
    kit: str | None = Field(None, description="Dish kit (leonet/data/terminal_kits.csv); default service.kit.")
    users_per_dish: int = Field(1, ge=1, le=100_000, description=(
        "Backhaul: users behind each dish (a village network, a cell tower); their traffic shares the one "
        "terminal (its kit cap), needs the service model."))

    @field_validator("kit")
    @classmethod
    def _known_kit(cls, v):
        return _check_kit(v)


class ObstructionSpec(_Model):
    """A horizon profile (lowest clear elevation per azimuth) applied to some dishes."""

    sites: list[str] = Field([], description="Site names the mask applies to.")
    groups: list[str] = Field([], description="Site groups (e.g. dish_groups names) the mask applies to.")
    profile: list[tuple[float, float]] = Field(
        [], description="[[azimuth_deg, elevation_deg], ...], clockwise from north, linearly interpolated."
    )
    file: str | None = Field(None, description="CSV with columns azimuth_deg,elevation_deg (instead of profile).")

    @model_validator(mode="after")
    def _one_source(self):
        if bool(self.profile) == bool(self.file):
            raise ValueError("give either profile or file")
        if not self.sites and not self.groups:
            raise ValueError("name the sites or groups the mask applies to")
        return self


class PopulationDishesSpec(_Model):
    """Dishes in the most populous cities of some countries: population x take_up, placed in
    ``sites_per_city`` sites around each city (GeoNames cities over 15,000 people, shipped with leonet)."""

    countries: list[str] = Field([], description="ISO 3166 alpha-2 codes, e.g. [UA].")
    cities: list[str] = Field([], description="Only these cities (names or GeoNames alternate names).")
    min_population: int = Field(100_000, ge=15_000, le=10_000_000_000)
    max_cities: int = Field(50, ge=1, le=10_000)
    take_up: float = Field(..., gt=0, le=1, description="Dishes per inhabitant, e.g. 0.001.")
    sites_per_city: int = Field(5, ge=1, le=10_000)
    radius_km: float = Field(10.0, ge=0, le=500)
    seed: int = Field(0, ge=0, le=SEED_MAX, description="Random seed, 0 to 2**32-1.")

    @model_validator(mode="after")
    def _where(self):
        if not self.countries and not self.cities:
            raise ValueError("give countries, cities, or both")
        return self


class DemandFileSpec(_Model):
    """A CSV of dishes per city (columns city, dishes, optional country)."""

    path: str
    sites_per_city: int = Field(5, ge=1, le=10_000)
    radius_km: float = Field(10.0, ge=0, le=500)
    seed: int = Field(0, ge=0, le=SEED_MAX, description="Random seed, 0 to 2**32-1.")


class GroundSpec(_Model):
    sites: list[SiteSpec] = []
    site_files: list[SiteFileSpec] = []
    builtin: list[BuiltinSitesSpec] = []
    dish_groups: list[DishGroupSpec] = []
    obstructions: list[ObstructionSpec] = Field([], description="Horizon masks for dishes (later entries win).")
    population_dishes: list[PopulationDishesSpec] = Field([], description="Dishes from city populations x take-up.")
    demand_files: list[DemandFileSpec] = Field([], description="Dishes per city from a CSV.")


class TimeWindowSpec(_Model):
    """A stretch of the calendar simulated at its own (usually finer) step: time that zooms in on
    chosen moments (an attack, a fix landing) inside coarse steps for the months around them."""

    name: str = Field("", max_length=200, description="What happens in the window (for reports).")
    start: datetime | None = Field(None, description="UTC start (or start_s).")
    start_s: float | None = Field(None, ge=0, description="Seconds after time.start (instead of start).")
    duration_s: float = Field(..., gt=0, le=366 * 86_400)
    step_s: float = Field(..., ge=0.001, le=86_400)

    @field_validator("start")
    @classmethod
    def _utc(cls, v):
        if v is not None and v.tzinfo is None:
            raise ValueError("start has no timezone; write it in UTC, e.g. 2022-03-09T10:00:00Z")
        return v.astimezone(timezone.utc) if v is not None else v

    @model_validator(mode="after")
    def _one_start(self):
        if (self.start is None) == (self.start_s is None):
            raise ValueError("give start (UTC) or start_s (seconds after time.start)")
        if self.step_s > self.duration_s:
            raise ValueError(f"step_s ({self.step_s:g}) is longer than duration_s ({self.duration_s:g})")
        if abs(round(self.step_s * 1e9) - self.step_s * 1e9) > 1e-3:
            raise ValueError("step_s must be a whole number of nanoseconds")
        return self


#: Refuse calendars with more instants than this (each instant is a full network step).
MAX_STEPS = 50_000_000


class TimeSpec(_Model):
    start: datetime = Field(..., description="UTC start, e.g. 2022-03-01T12:00:00Z.")
    duration_s: float = Field(..., gt=0, le=366 * 86_400)
    step_s: float = Field(..., ge=0.001, le=86_400)
    windows: list[TimeWindowSpec] = Field([], max_length=1000, description=(
        "Stretches simulated at their own step inside the calendar (time that zooms); they must not overlap."))

    @field_validator("start")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return _check_instant(v, "start")

    @model_validator(mode="after")
    def _steps(self):
        # A calendar shorter than its step holds one instant (``leonet run --duration 60`` on a
        # preset of hourly steps is a one-step look, not an error).
        if abs(round(self.step_s * 1e9) - self.step_s * 1e9) > 1e-3:
            raise ValueError("step_s must be a whole number of nanoseconds")
        spans = sorted((self._window_span_ns(w), k) for k, w in enumerate(self.windows))
        end_ns = round(self.duration_s * 1e9)
        for (a, b), k in spans:
            if a < 0:
                raise ValueError(f"windows[{k}] ({self.windows[k].name or 'unnamed'}) starts before time.start")
        for ((a0, b0), k0), ((a1, b1), k1) in zip(spans, spans[1:]):
            if a1 < b0:
                raise ValueError(f"windows[{k0}] and windows[{k1}] overlap; windows must not overlap")
        # A windowed calendar lists its instants (a uniform one is sized by the run-size budget).
        upper = self._coarse_count() + sum(int(math.ceil(round(w.duration_s * 1e9) / round(w.step_s * 1e9)))
                                           for w in self.windows)
        if self.windows and upper > MAX_STEPS:
            raise ValueError(f"the calendar has about {upper:,} steps (more than {MAX_STEPS:,}); use coarser steps "
                             "or shorter windows")
        return self

    def _window_span_ns(self, w: TimeWindowSpec) -> tuple[int, int]:
        """A window's [start, end) in ns after time.start."""
        a = round(w.start_s * 1e9) if w.start_s is not None else round((w.start - self.start).total_seconds() * 1e9)
        return a, a + round(w.duration_s * 1e9)

    def _coarse_count(self) -> int:
        return int(math.ceil(round(self.duration_s * 1e9) / self.step_ns))

    @property
    def step_ns(self) -> int:
        """The calendar's (coarse) step in ns; windows have their own."""
        return int(round(self.step_s * 1e9))

    @property
    def uniform(self) -> bool:
        """True when every step is ``step_s`` apart (no window inside the calendar)."""
        end_ns = round(self.duration_s * 1e9)
        return not any(self._window_span_ns(w)[0] < end_ns for w in self.windows)

    def skipped_windows(self) -> list[str]:
        """Windows that start at or after the calendar's end (a run shortened with --duration):
        they are not simulated; the run warns about them."""
        end_ns = round(self.duration_s * 1e9)
        return [w.name or f"windows[{k}]" for k, w in enumerate(self.windows) if self._window_span_ns(w)[0] >= end_ns]

    def offsets_ns(self):
        """int64 (T,): every instant as ns after ``start``, sorted: the coarse grid (start, start +
        step_s, ... before start + duration_s) and each window's own grid."""
        import numpy as np

        parts = [np.arange(self._coarse_count(), dtype=np.int64) * self.step_ns]
        end_ns = round(self.duration_s * 1e9)
        for w in self.windows:
            a, b = self._window_span_ns(w)
            # a window past the calendar's end (a shortened run) is clipped or skipped, and said so
            parts.append(np.arange(a, min(b, end_ns), round(w.step_s * 1e9), dtype=np.int64))
        return np.unique(np.concatenate(parts))

    @property
    def n_steps(self) -> int:
        """How many instants the calendar holds (start, start+step, ... strictly before
        start+duration, and the windows' instants)."""
        if self.uniform:
            return self._coarse_count()
        return len(self.offsets_ns())


class VisibilitySpec(_Model):
    min_elevation_deg: float | None = Field(25.0, ge=0, lt=90, description="REFERENCE.md: 25 deg (FCC 2020).")
    max_range_m: float | None = Field(
        None, gt=0, le=50_000_000, description="Maximum slant range (Hypatia: 1,089,686 m at 550 km)."
    )
    nearest_k: int | None = Field(
        None, ge=1, le=1000,
        description="Scale mode: keep only each dish's k nearest satellites in view (all when null); gateways, PoPs and stations keep all.",
    )

    @model_validator(mode="after")
    def _one_rule(self):
        if self.min_elevation_deg is None and self.max_range_m is None:
            raise ValueError("give min_elevation_deg, max_range_m, or both")
        return self


class IslSpec(_Model):
    """Inter-satellite laser links."""

    topology: Literal["none", "plus-grid", "list"] = Field(
        "plus-grid", description="none (bent pipe), plus-grid (4 per satellite), or list (list_file)."
    )
    inter_plane_shift: int = Field(0, ge=-10_000, le=10_000, description="+Grid: slot offset of the neighbour in the next plane.")
    list_file: str | None = Field(None, description="For topology: list - one 'a b' satellite index pair per line.")
    grazing_height_km: float = Field(80.0, ge=0, le=1000, description="Line of sight must clear the Earth by this (Hypatia: 80 km).")
    max_range_km: float | None = Field(None, gt=0, le=100_000, description="Longest usable link (REFERENCE: > 5,400 km).")
    shells: list[str] | None = Field(None, description=(
        "Only satellites of these shells carry lasers (default: every shell); the others are bent pipe."))
    min_catalog_number: int | None = Field(None, ge=1, le=10_000_000, description=(
        "Only satellites with a NORAD catalog number at least this carry lasers (a launch-date rule on real "
        "element sets: Starlink's first laser satellites, June-Sept 2021, start at 48879; the 53 deg v1.0 "
        "shell launched before them has none)."))

    @model_validator(mode="after")
    def _list_needs_file(self):
        if self.topology == "list" and not self.list_file:
            raise ValueError("topology: list needs list_file")
        return self


class SlotSpec(_Model):
    """Reconfiguration slots: dishes are assigned a satellite once per slot (REFERENCE.md)."""

    period_s: float = Field(15.0, gt=0, le=3600)
    offset_s: float = Field(12.0, ge=0, le=3600, description="Slots start at UTC seconds 12, 27, 42, 57.")
    policy: Literal["highest-elevation", "longest-visibility", "load-aware"] = Field(
        "highest-elevation",
        description="load-aware: a cell's dishes are spread over up to max_sats_per_cell of their best satellites.",
    )
    max_sats_per_cell: int = Field(4, ge=1, le=64, description="For load-aware: satellites (beams) serving one cell at once.")


class NetworkSpec(_Model):
    enabled: bool = Field(True, description="Route dishes and station pairs (false: visibility only).")
    isl: IslSpec = IslSpec()
    gateway_antennas: int = Field(8, ge=1, le=1000, description="Satellites each gateway tracks (REFERENCE: up to 40).")
    fibre_route_factor: float = Field(1.5, ge=1.0, le=10.0)
    fibre_refractive_index: float = Field(1.468, ge=1.0, le=3.0)
    backbone: Literal["community-2023", "none"] = Field(
        "community-2023", description="PoP-to-PoP fibre: the 2023 community map's backbone, or none."
    )
    slots: SlotSpec = SlotSpec()
    home_pop: Literal["geoip", "nearest", "any"] = Field("nearest", description=(
        "Each dish's PoP, sticky for the run: 'geoip' (Starlink's place -> PoP feed, leonet/data/geoip; the "
        "scenario's PoPs need codes), 'nearest' (the PoP nearest the dish), or 'any' (the nearest reachable "
        "PoP at each slot, leonet's behaviour before home PoPs). A dish whose home PoP is unreachable is NO_PATH."))
    pairs: list[tuple[str, str]] = Field([], description="Ground-station pairs [src, dst] by site name.")
    all_station_pairs: bool = Field(False, description="Route every ordered pair of kind: station sites.")


class SatelliteHardwareSpec(_Model):
    """User-side resources of every satellite (one generation for the whole constellation)."""

    generation: Literal["v1.5", "v2-mini", "custom"] = Field(
        "v1.5", description="Sets the defaults below: v1.5 ~20 Gbps down, v2-mini ~96 Gbps down (REFERENCE.md, uncertain)."
    )
    beams: int | None = Field(None, ge=1, le=1000, description="User beams per satellite (uncertain: v1.5 24, v2-mini 48).")
    down_capacity_gbps: float | None = Field(None, gt=0, le=10_000)
    up_capacity_gbps: float | None = Field(None, gt=0, le=10_000)
    v2_mini_from_catalog: int | None = Field(None, ge=1, le=10_000_000, description=(
        "With the service model on real element sets: satellites with a NORAD catalog number at least this are "
        "V2 Mini (their capacity and beams), the others the generation above. Starlink's first V2 Minis "
        "(Group 6-1, 2023-02-27, COSPAR 2023-026) start at 55695."))


class DemandSpec(_Model):
    """Busy-hour demand of every dish (surges scale it per dish)."""

    down_mbps: float = Field(25.0, ge=0, le=100_000, description="Demand of an active dish, downlink (assumption).")
    up_mbps: float = Field(3.0, ge=0, le=100_000, description="Demand of an active dish, uplink (assumption).")
    activity: float = Field(
        0.15, gt=0, le=1,
        description="Busy-hour activity factor: mean share of the demand offered (25 x 0.15 = 3.75 Mbps per dish; assumption).",
    )


class RadioSpec(_Model):
    """Overrides of the radio defaults (leonet.capacity.linkbudget.RadioDefaults; sources there).
    Ranges refuse physically impossible values, not merely unusual ones."""

    user_downlink_frequency_hz: float | None = Field(None, ge=1e9, le=100e9)
    user_uplink_frequency_hz: float | None = Field(None, ge=1e9, le=100e9)
    user_downlink_bandwidth_hz: float | None = Field(None, gt=0, le=10e9)
    user_uplink_bandwidth_hz: float | None = Field(None, gt=0, le=10e9)
    satellite_eirp_density_dbw_per_mhz: float | None = Field(None, ge=-50, le=80)
    user_terminal_g_over_t_db_per_k: float | None = Field(None, ge=-40, le=60)
    user_terminal_eirp_dbw: float | None = Field(None, ge=-30, le=80)
    satellite_g_over_t_db_per_k: float | None = Field(None, ge=-40, le=60)
    user_terminal_dish_diameter_m: float | None = Field(None, gt=0, le=20)

    @model_validator(mode="after")
    def _bandwidth_below_carrier(self):
        for bw, f in (("user_downlink_bandwidth_hz", "user_downlink_frequency_hz"),
                      ("user_uplink_bandwidth_hz", "user_uplink_frequency_hz")):
            b, c = getattr(self, bw), getattr(self, f)
            if b is not None and c is not None and b >= c:
                raise ValueError(f"{bw} ({b:g} Hz) must be below {f} ({c:g} Hz)")
        return self


class CapacitySpec(_Model):
    """The capacity model (off unless enabled): link budgets, beams, feeders, lasers, PoPs and
    max-min fair sharing. Every default is approximate; see the README's capacity section."""

    enabled: bool = False
    demand: DemandSpec = DemandSpec()
    satellite: SatelliteHardwareSpec = SatelliteHardwareSpec()
    radio: RadioSpec = RadioSpec()
    cell_size_km: float = Field(24.0, gt=0.1, le=500, description="Cells are squares of this side; a beam serves one cell.")
    gateway_antenna_gbps: float = Field(10.0, gt=0, le=10_000, description="Capacity of one gateway antenna (one satellite).")
    isl_gbps: float = Field(100.0, gt=0, le=10_000, description="Laser link capacity per direction (REFERENCE: 100 Gbps).")
    pop_gbps: float = Field(400.0, gt=0, le=1_000_000, description="Capacity of each PoP.")
    margin_db: float = Field(3.0, ge=0, le=20, description="Link margin before choosing a MODCOD.")
    atmosphere: bool = Field(True, description="ITU-R rain/gas/cloud attenuation (itur) at availability_pct.")
    availability_pct: float = Field(99.5, ge=90, le=99.999)
    congested_below_mbps: float = Field(5.0, ge=0, le=10_000, description="A connected dish that gets less than this (and less than it asks for) is CONGESTED.")
    queue_scale_ms: float = Field(2.0, ge=0, le=1000, description="Queueing delay = scale x rho / (1 - rho) at the busiest link.")
    queue_max_ms: float = Field(50.0, ge=0, le=10_000, description="Per direction: a full buffer of ~50 ms (assumption).")
    jamming_rejection_db: float = Field(20.0, ge=0, le=100, description="Dish off-axis rejection of a jammer (phased-array nulling).")
    satellite_jamming_rejection_db: float = Field(10.0, ge=0, le=100, description="Satellite receive off-axis rejection of a ground jammer.")


class ExchangeSpec(_Model):
    name: str = Field(..., min_length=1)
    lat_deg: float = Field(..., ge=-90, le=90)
    lon_deg: float = Field(..., ge=-180, le=180)


class TerrestrialSpec(_Model):
    """Each dish's ground (terrestrial) internet: fibre to the nearest internet exchange."""

    exchanges: Literal["builtin"] | list[ExchangeSpec] = Field(
        "builtin", description="'builtin' (major exchange cities, see leonet/data/exchanges.csv) or a list."
    )
    route_factor: float = Field(1.5, ge=1.0, le=10.0)
    refractive_index: float = Field(1.468, ge=1.0, le=3.0)
    providers: str | None = Field(None, description=(
        "Who provides ground internet where: 'builtin-ua-2022' (Ukrainian cities, shares assumed) or a CSV "
        "country,city,lat_deg,lon_deg,provider,share; needed by isp_outage events."))


class FramesSpec(_Model):
    """How satellite positions become Earth-fixed (see :mod:`leonet.space.frames`)."""

    earth_rotation: Literal["ut1", "utc"] = Field(
        "ut1", description="ut1: the Earth's real angle (IERS UT1-UTC, offline); utc: as Hypatia (satellites up to ~450 m off).",
    )
    polar_motion: bool = Field(False, description="Also rotate by the IERS pole offset (moves satellites ~5-20 m); needs ut1.")

    @model_validator(mode="after")
    def _polar_needs_ut1(self):
        if self.polar_motion and self.earth_rotation != "ut1":
            raise ValueError("polar_motion: true needs earth_rotation: ut1")
        return self


class OutputSpec(_Model):
    dir: str = Field("results/{name}", description="Results folder; {name} is the scenario name.")
    chunk_steps: int = Field(60, ge=1, le=1_000_000, description="Steps per Parquet chunk.")
    visibility_pairs: bool = Field(True, description="Write every (step, site, satellite) in view.")
    positions: bool = Field(False, description="Write satellite positions at every step.")


class Scenario(_Model):
    """A whole scenario. Build one with :func:`load_scenario`."""

    name: str = Field(..., min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    description: str = ""
    constellation: ConstellationSpec
    ground: GroundSpec = GroundSpec()
    time: TimeSpec
    visibility: VisibilitySpec = VisibilitySpec()
    network: NetworkSpec = NetworkSpec()
    terrestrial: TerrestrialSpec = TerrestrialSpec()
    capacity: CapacitySpec = CapacitySpec()
    service: ServiceSpec = Field(ServiceSpec(), description="The service model (docs/service-model.md); needs capacity.")
    events: list[EventSpec] = Field([], description="The threat timeline (see the README's events section).")
    frames: FramesSpec = FramesSpec()
    outputs: OutputSpec = OutputSpec()
    #: Folder that relative paths in the scenario are resolved against (not part of the file).
    base_dir: str = Field(".", exclude=True)
    #: Where the scenario came from (its file, or "preset NAME"), for error messages.
    source: str = Field("<scenario>", exclude=True)

    @model_validator(mode="after")
    def _service_needs_capacity(self):
        if self.service.enabled and not (self.capacity.enabled and self.network.enabled):
            raise ValueError("service.enabled needs capacity.enabled and network.enabled")
        return self

    @model_validator(mode="after")
    def _nearest_k_is_enough(self):
        k = self.visibility.nearest_k
        if k is not None and self.network.slots.policy == "load-aware" and k < self.network.slots.max_sats_per_cell:
            raise ValueError(f"visibility.nearest_k ({k}) must be at least network.slots.max_sats_per_cell")
        return self

    def resolve_path(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    def output_dir(self) -> Path:
        return Path(self.outputs.dir.replace("{name}", self.name)).expanduser()

    def to_yaml(self) -> str:
        """The resolved scenario (presets expanded, overrides applied) as YAML."""
        data = self.model_dump(mode="json", exclude_none=True)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# ---------------------------------------------------------------------------------------------
# Presets

def _preset_root():
    return resources.files("leonet") / "presets"


def _read_preset_yaml(kind: str, name: str, source: str | None = None, location: str | None = None) -> tuple[dict, str]:
    from .errors import did_you_mean

    root = _preset_root() / kind
    names = [p["name"] for p in list_presets() if p["kind"] == kind[:-1]]
    path = root / f"{name}.yaml"
    if name not in names or not path.is_file():
        available = ", ".join(names) or "none"
        raise InputError(f"unknown {kind[:-1]} preset {quote(name)}{did_you_mean(name, names)}; available: {available}",
                         source=source, location=location)
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text), str(path)


def list_presets() -> list[dict[str, str]]:
    """Every embedded preset: dicts with ``kind`` (scenario/constellation), ``name``, ``description``."""
    out = []
    for kind in ("scenarios", "constellations"):
        folder = _preset_root() / kind
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
                desc = data.get("description") or data.get("constellation", {}).get("description", "")
                out.append({"kind": kind[:-1], "name": entry.name[:-5], "description": " ".join(str(desc).split())})
    return out


DEFAULT_SCENARIO = "ukraine-2022"


# ---------------------------------------------------------------------------------------------
# Loading and error reporting

def _yaml_line(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the YAML node at ``loc`` (as far as it exists), for error messages."""
    line = None
    for key in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            node = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if node is None:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _loc_to_path(loc: tuple) -> str:
    out = ""
    for key in loc:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += ("." if out else "") + str(key)
    return out


def _format_validation_error(err: ValidationError, source: str, node: yaml.Node | None, data: dict | None = None) -> InputError:
    lines = []
    for e in err.errors():
        loc = tuple(k for k in e["loc"] if not (isinstance(k, str) and k.startswith("function-")))
        path = _loc_to_path(loc) or "(top level)"
        if data and len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            try:  # name the event, not only its position
                event_name = data["events"][loc[1]].get("name")
            except (IndexError, AttributeError, TypeError):
                event_name = None
            if event_name:
                path = path.replace(f"events[{loc[1]}]", f"events[{loc[1]}] ({event_name})", 1)
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check its spelling; see the scenario format in the README)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        given = e.get("input")
        if e["type"] not in ("missing", "extra_forbidden") and not isinstance(given, (dict, list)):
            shown = quote(given) if isinstance(given, (str, int, float, bool, type(None))) else quote(str(given))
            msg += f" (got {shown})"
        line = _yaml_line(node, loc)
        where = f"{path} (line {line})" if line else path
        lines.append(f"{where}: {msg}")
    first, *rest = lines
    message = first if not rest else first + "".join(f"\n  {r}" for r in rest)
    return InputError(message, source=source)


def _expand_constellation_preset(data: dict, source: str) -> dict:
    cons = data.get("constellation")
    if isinstance(cons, str):
        cons = {"preset": cons}
    if isinstance(cons, dict) and cons.get("preset"):
        preset, _ = _read_preset_yaml("constellations", str(cons["preset"]), source, "constellation.preset")
        merged = copy.deepcopy(preset["constellation"])
        for key, value in cons.items():
            if key != "preset" and value not in (None, [], ""):
                merged[key] = value
        merged["preset"] = cons["preset"]
        data = dict(data)
        data["constellation"] = merged
    return data


_OVERRIDE_KEY = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


def _override_path(dotted: str, source: str) -> list[str | int]:
    """``"ground.dish_groups[0].count"`` -> ``["ground", "dish_groups", 0, "count"]``."""
    keys: list[str | int] = []
    for part in dotted.split("."):
        m = _OVERRIDE_KEY.fullmatch(part.strip())
        if m is None:
            raise InputError(f"cannot override {quote(dotted)}: expected a field path such as "
                             "time.step_s or ground.dish_groups[0].count", source=source)
        keys.append(m.group(1))
        keys.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return keys


def _apply_override(data: dict, dotted: str, value: Any, source: str) -> None:
    """Set the field at ``dotted`` (dots between fields, ``[i]`` for list items) to ``value``;
    missing mappings on the way are created, list items must exist."""
    keys = _override_path(dotted, source)
    target: Any = data
    walked = ""
    for key, nxt in zip(keys[:-1], keys[1:]):
        if isinstance(key, int):
            if not isinstance(target, list) or key >= len(target):
                have = f"has {len(target)} item(s)" if isinstance(target, list) else "is not a list"
                raise InputError(f"cannot override {dotted}: {walked} {have}", source=source)
            target = target[key]
            walked += f"[{key}]"
        else:
            if not isinstance(target, dict):
                raise InputError(f"cannot override {dotted}: {walked} is not a mapping", source=source)
            if key not in target or target[key] is None:
                if isinstance(nxt, int):
                    raise InputError(f"cannot override {dotted}: {(walked + '.' if walked else '') + key} "
                                     "is not given in the scenario (no list to index)", source=source)
                target[key] = {}
            target = target[key]
            walked += ("." if walked else "") + key
    last = keys[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last >= len(target):
            raise InputError(f"cannot override {dotted}: {walked} has no item {last}", source=source)
    elif not isinstance(target, dict):
        raise InputError(f"cannot override {dotted}: {walked} is not a mapping", source=source)
    target[last] = value


def scenario_from_dict(
    data: Any, source: str = "<scenario>", base_dir: str | Path = ".", node: yaml.Node | None = None,
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """Validate a scenario given as a dict (as parsed from YAML).

    ``overrides`` maps dotted field paths (``"time.duration_s"``) to values applied before validation.
    """
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise InputError(f"a scenario must be a YAML mapping with name, constellation, ground, time; got {kind}", source=source)
    data = _expand_constellation_preset(data, source)
    data = copy.deepcopy(data)
    for dotted, value in (overrides or {}).items():
        _apply_override(data, dotted, value, source)
    data["base_dir"] = str(base_dir)
    data["source"] = str(source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise _format_validation_error(err, source, node, data) from None


def load_scenario(name_or_path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a scenario from a YAML file or an embedded scenario preset (default: the embedded default).

    Raises :class:`~leonet.errors.InputError` naming the file, field and line for any problem.
    """
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    path = Path(name_or_path)
    text_path = _preset_root() / "scenarios" / f"{name_or_path}.yaml"
    looks_like_path = path.suffix.lower() in (".yaml", ".yml") or "/" in str(name_or_path) or "\\" in str(name_or_path)
    # A preset name wins over a folder of the same name in the current folder; a file wins over it.
    is_preset = not looks_like_path and text_path.is_file() and not path.is_file()
    if not is_preset and (looks_like_path or path.exists()):
        from .textfiles import read_bytes

        source = str(path)
        raw = read_bytes(path, MAX_SCENARIO_BYTES)  # refuses missing files, folders, devices, giants
        base_dir = path.resolve().parent
    else:
        if not text_path.is_file():
            import difflib

            names = [p["name"] for p in list_presets() if p["kind"] == "scenario"]
            cons = [p["name"] for p in list_presets() if p["kind"] == "constellation"]
            hint = ""
            if str(name_or_path) in cons:
                hint = f" ({name_or_path} is a constellation preset: use it as `constellation: {name_or_path}` in a scenario)"
            else:
                close = difflib.get_close_matches(str(name_or_path), names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"no file or scenario preset named {quote(str(name_or_path))}{hint}; "
                             f"scenario presets: {', '.join(names)}")
        source = f"preset {name_or_path}"
        raw = text_path.read_bytes()
        base_dir = Path(str(text_path)).parent
    data, node = parse_scenario_yaml(raw, source)
    return scenario_from_dict(data, source=source, base_dir=base_dir, node=node, overrides=overrides)


def parse_scenario_yaml(raw: bytes, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse a scenario file's bytes once: the data and the YAML node tree (for line numbers).

    Refuses, naming ``source``: empty, binary or non-UTF-8 text, invalid YAML, nesting deeper than
    :data:`MAX_NESTING`, more than :data:`MAX_YAML_NODES` nodes (alias bombs included) and values
    Python cannot hold (integers of thousands of digits).
    """
    if not raw.strip():
        raise InputError("file is empty; expected a scenario in YAML", source=source)
    if b"\x00" in raw:
        raise InputError("file is binary, not a YAML text file", source=source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InputError(f"file is not UTF-8 text (byte {err.start})", source=source, location=f"line {line}") from None
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                raise InputError("file is empty; expected a scenario in YAML", source=source)
            _check_yaml_shape(node, source)
            data = loader.construct_document(node)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
            problem = getattr(err, "problem", None) or str(err)
            raise InputError(f"not valid YAML: {quote(problem, 200)}", source=source, location=where) from None
        except RecursionError:
            raise InputError(f"nested too deeply (more than {MAX_NESTING} levels of mappings and lists)",
                             source=source) from None
        except (ValueError, OverflowError) as err:  # e.g. an integer of more than 4,300 digits
            raise InputError(f"a value cannot be read: {quote(str(err), 200)}", source=source) from None
    finally:
        loader.dispose()
    return data, node


def _check_yaml_shape(root: yaml.Node, source: str) -> None:
    """Depth and size of the node tree, walked without recursion; aliases count every use."""
    stack = [(root, 1)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if depth > MAX_NESTING:
            raise InputError(f"nested too deeply (more than {MAX_NESTING} levels of mappings and lists)",
                             source=source, location=f"line {node.start_mark.line + 1}")
        if seen > MAX_YAML_NODES:
            raise InputError(f"holds more than {MAX_YAML_NODES:,} values (aliases counted each time they "
                             "are used); a scenario this large is not plausible", source=source)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
