"""Ground segment: sites (dishes, gateways, PoPs, stations), built-in site sets, geodesy."""

from .geodesy import MEAN_EARTH_RADIUS_M, destination_point, great_circle_distance_m
from .builtin import (
    BUILTIN_SITE_SETS,
    LIVE_MAP_COLOURS,
    OPERATIONAL_GATEWAY_STATUSES,
    STARLINK_POP_CITY_REGION,
    STARLINK_REGIONS,
    UnresolvedEndpoint,
    builtin_sites,
    hypatia_top100_cities,
    nearest_pop,
    pop_codes_of,
    resolve_backbone,
    starlink_backbone_2023,
    starlink_gateways_2023,
    starlink_gateways_2026,
    starlink_pops_2023,
    starlink_pops_2026,
)
from .dishes import dishes_around
from .sites import KINDS, Sites
from .sites_csv import ELEVATION_LIMITS_M, parse_sites_csv_text, read_sites_csv

__all__ = [
    "BUILTIN_SITE_SETS",
    "ELEVATION_LIMITS_M",
    "KINDS",
    "LIVE_MAP_COLOURS",
    "MEAN_EARTH_RADIUS_M",
    "OPERATIONAL_GATEWAY_STATUSES",
    "STARLINK_POP_CITY_REGION",
    "STARLINK_REGIONS",
    "Sites",
    "UnresolvedEndpoint",
    "builtin_sites",
    "destination_point",
    "dishes_around",
    "great_circle_distance_m",
    "hypatia_top100_cities",
    "nearest_pop",
    "parse_sites_csv_text",
    "pop_codes_of",
    "read_sites_csv",
    "resolve_backbone",
    "starlink_backbone_2023",
    "starlink_gateways_2023",
    "starlink_gateways_2026",
    "starlink_pops_2023",
    "starlink_pops_2026",
]
