"""The ``visibility:``, ``network:`` and ``terrestrial:`` sections: which satellites a site may
use, lasers, reconfiguration slots, gateways, PoPs, station pairs and ground internet."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .common import FilePath, Spec


class VisibilitySpec(Spec):
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


class IslSpec(Spec):
    """Inter-satellite laser links."""

    topology: Literal["none", "plus-grid", "list"] = Field(
        "plus-grid", description="none (bent pipe), plus-grid (4 per satellite), or list (list_file)."
    )
    inter_plane_shift: int = Field(0, ge=-10_000, le=10_000, description="+Grid: slot offset of the neighbour in the next plane.")
    list_file: FilePath | None = Field(None, description="For topology: list - one 'a b' satellite index pair per line.")
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


class SlotSpec(Spec):
    """Reconfiguration slots: dishes are assigned a satellite once per slot (REFERENCE.md)."""

    period_s: float = Field(15.0, ge=0.001, le=3600, description=(
        "Slot length, s (Starlink: 15). At least 1 ms, the finest step the simulation takes (time.step_s); "
        "the slot clock works in whole nanoseconds, and a period that rounds to none has no slots."))
    offset_s: float = Field(12.0, ge=0, le=3600, description="Slots start at UTC seconds 12, 27, 42, 57.")
    policy: Literal["highest-elevation", "longest-visibility", "load-aware", "max-rate"] = Field(
        "highest-elevation",
        description=("load-aware: a cell's dishes are spread over up to max_sats_per_cell of their best satellites; "
                     "max-rate: each dish takes the satellite that offers its cell the most (beam time per occupied "
                     "background cell x one beam's rate at its range, at most the satellite's capacity per beam; "
                     "leonet.service.beamtime)."),
    )
    max_sats_per_cell: int = Field(4, ge=1, le=64, description="For load-aware: satellites (beams) serving one cell at once.")


class NetworkSpec(Spec):
    enabled: bool = Field(True, description="Route dishes and station pairs (false: visibility only).")
    isl: IslSpec = IslSpec()
    gateway_antennas: int = Field(8, ge=1, le=1000, description="Satellites each gateway tracks (REFERENCE: up to 40).")
    gateway_tracking: Literal["laser-islands", "highest", "traffic"] = Field("laser-islands", description=(
        "Which satellites a gateway's antennas track. 'highest': its highest in view. 'laser-islands' (assumption): "
        "first the highest satellite of each laser island in view (satellites joined by laser candidates: +grid "
        "joins a shell, not shells), then the highest of the rest; so a shell of its own, such as the polar one that "
        "serves Antarctica over lasers, lands somewhere. With one island, or none, the two are the same. "
        "'traffic' (assumption): first the satellites the run's dishes that carry traffic would choose by the slot "
        "policy were every satellite connected, where they stay in the gateway's view to the slot's end, then the "
        "rest, each group in the 'laser-islands' order."))
    fibre_route_factor: float = Field(1.5, ge=1.0, le=10.0)
    fibre_refractive_index: float = Field(1.468, ge=1.0, le=3.0)
    backbone: Literal["community-2023", "community-2023-joined", "none"] = Field("community-2023", description=(
        "PoP-to-PoP fibre: the 2023 community map's backbone (its 23 PoPs, by name or reverse-DNS code); "
        "'community-2023-joined': the same, and the PoPs it leaves apart joined by the shortest links that join "
        "every part to the rest (assumption: Starlink's backbone reaches every PoP; leonet.network.backbone_join); "
        "or none."))
    slots: SlotSpec = SlotSpec()
    home_pop: Literal["geoip", "nearest", "any"] = Field("nearest", description=(
        "Each dish's PoP, sticky for the run: 'geoip' (Starlink's place -> PoP feed, leonet/data/geoip; the "
        "scenario's PoPs need codes), 'nearest' (the PoP nearest the dish), or 'any' (the nearest reachable "
        "PoP at each slot, leonet's behaviour before home PoPs). A dish whose home PoP is unreachable is NO_PATH."))
    bent_pipe_only_gateways: list[str] = Field([], description=(
        "Gateways (by site name) that take no laser-borne traffic: only dishes within bent-pipe reach of one "
        "(a satellite at the constellation's median altitude sees both above the minimum elevation) may land "
        "there; every other dish's routes skip it (station pairs are not dishes: they may use it)."))
    landing: Literal["anywhere", "home-in-reach"] = Field("anywhere", description=(
        "Where a dish's traffic may land. 'anywhere': at any gateway its shortest route to its PoP takes (lasers carry "
        "it to a gateway near the PoP where that is shorter). 'home-in-reach' (assumption; the calibrated model's): at "
        "a gateway of its home PoP (one whose nearest PoP it is) within the dish's bent-pipe reach, where it has one "
        "(a satellite at the constellation's median altitude sees both above the minimum elevation), the fibre "
        "carrying it on to the PoP; a dish with none in reach lands anywhere but at bent-pipe-only gateways beyond its "
        "reach, and so does one whose landing gateways are all lost or cut off at the moment (leonet.network.landing)."))
    landing_route: Literal["shortest", "bent-pipe-first"] = Field("shortest", description=(
        "How a dish's traffic reaches a gateway it may land at. 'shortest': the route of least delay to its PoP "
        "(lasers may carry it past a gateway in view to one nearer the PoP). 'bent-pipe-first' (assumption): a "
        "satellite that sees a gateway the dish may land at sends the traffic down there; lasers carry it only to "
        "the first such satellite (Starlink's path: dish, satellite, gateway, or lasers to a farther gateway)."))
    pairs: list[tuple[str, str]] = Field([], description="Ground-station pairs [src, dst] by site name.")
    all_station_pairs: bool = Field(False, description="Route every ordered pair of kind: station sites.")


class ExchangeSpec(Spec):
    name: str = Field(..., min_length=1)
    lat_deg: float = Field(..., ge=-90, le=90)
    lon_deg: float = Field(..., ge=-180, le=180)


class TerrestrialSpec(Spec):
    """Each dish's ground (terrestrial) internet: fibre to the nearest internet exchange."""

    exchanges: Literal["builtin"] | list[ExchangeSpec] = Field(
        "builtin", description="'builtin' (major exchange cities, see leonet/data/exchanges.csv) or a list."
    )
    route_factor: float = Field(1.5, ge=1.0, le=10.0)
    refractive_index: float = Field(1.468, ge=1.0, le=3.0)
    providers: FilePath | None = Field(None, description=(
        "Who provides ground internet where: 'builtin-ua-2022' (Ukrainian cities, shares assumed) or a CSV "
        "country,city,lat_deg,lon_deg,provider,share; needed by isp_outage events."))
