"""The ``ground:`` section: explicit sites, site files, built-in sets, generated dishes and
horizon masks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .common import SEED_MAX, FilePath, Spec, check_kit


SITE_KINDS = ("dish", "gateway", "pop", "station")
BUILTIN_SITE_SET_NAMES = ("hypatia-top100", "starlink-gateways-2023", "starlink-pops-2023")


class SiteSpec(Spec):
    name: str = Field(..., min_length=1)
    lat_deg: float = Field(..., ge=-90, le=90)
    lon_deg: float = Field(..., ge=-180, le=180)
    elevation_m: float = Field(0.0, ge=-500, le=9_000)
    kind: Literal["dish", "gateway", "pop", "station"] = "dish"
    group: str = ""
    dishes: int = Field(1, ge=1, le=10_000_000, description="For a dish site: how many identical dishes it stands for.")
    kit: str | None = Field(None, description="Dish kit (leonet/data/terminal_kits.csv); default service.kit.")
    home_pop: str | None = Field(None, pattern=r"^[a-z][a-z0-9]{2,15}$", description=(
        "For a dish site: its home PoP by code (e.g. frntdeu1, as in Starlink's reverse DNS), pinned "
        "whatever network.home_pop's rule would give (a place's minority PoP; not with home_pop: any)."))
    antennas: int | None = Field(None, ge=1, le=1000, description=(
        "For a gateway site: its antennas, the satellites it tracks at once (default network.gateway_antennas; "
        "a sites CSV's antennas column says the same)."))

    @field_validator("kit")
    @classmethod
    def _known_kit(cls, v):
        return check_kit(v)

    @model_validator(mode="after")
    def _home_pop_of_a_dish(self):
        if self.home_pop is not None and self.kind != "dish":
            raise ValueError(f"home_pop is for dish sites; {self.name!r} is a {self.kind}")
        if self.antennas is not None and self.kind != "gateway":
            raise ValueError(f"antennas is for gateway sites; {self.name!r} is a {self.kind}")
        return self


class SiteFileSpec(Spec):
    path: FilePath
    kind: Literal["dish", "gateway", "pop", "station"] | None = Field(
        None, description="Kind for rows without a kind column."
    )


class BuiltinSitesSpec(Spec):
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


class DishGroupSpec(Spec):
    """Dishes placed at random (area-uniform, seeded) in a disc around a city centre."""

    name: str = Field(..., min_length=1, description=(
        "Group (city) name; its sites are named <name><k>, k zero-padded to the width of count - 1 "
        "(Kyiv0 ... Kyiv9; Kyiv00 ... Kyiv10 for 11)."))
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
        return check_kit(v)


class ObstructionSpec(Spec):
    """A horizon profile (lowest clear elevation per azimuth) applied to some dishes."""

    sites: list[str] = Field([], description="Site names the mask applies to.")
    groups: list[str] = Field([], description="Site groups (e.g. dish_groups names) the mask applies to.")
    profile: list[tuple[float, float]] = Field(
        [], description="[[azimuth_deg, elevation_deg], ...], clockwise from north, linearly interpolated."
    )
    file: FilePath | None = Field(None, description="CSV with columns azimuth_deg,elevation_deg (instead of profile).")

    @model_validator(mode="after")
    def _one_source(self):
        if bool(self.profile) == bool(self.file):
            raise ValueError("give either profile or file")
        if not self.sites and not self.groups:
            raise ValueError("name the sites or groups the mask applies to")
        return self


class PopulationDishesSpec(Spec):
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


class DemandFileSpec(Spec):
    """A CSV of dishes per city (columns city, dishes, optional country)."""

    path: FilePath
    sites_per_city: int = Field(5, ge=1, le=10_000)
    radius_km: float = Field(10.0, ge=0, le=500)
    seed: int = Field(0, ge=0, le=SEED_MAX, description="Random seed, 0 to 2**32-1.")


class GroundSpec(Spec):
    sites: list[SiteSpec] = []
    site_files: list[SiteFileSpec] = []
    builtin: list[BuiltinSitesSpec] = []
    dish_groups: list[DishGroupSpec] = []
    obstructions: list[ObstructionSpec] = Field([], description="Horizon masks for dishes (later entries win).")
    population_dishes: list[PopulationDishesSpec] = Field([], description="Dishes from city populations x take-up.")
    demand_files: list[DemandFileSpec] = Field([], description="Dishes per city from a CSV.")
