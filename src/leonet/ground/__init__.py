"""Ground segment: sites (dishes, gateways, PoPs, stations), built-in site sets, geodesy."""

from .geodesy import MEAN_EARTH_RADIUS_M, destination_point, great_circle_distance_m
# .sites defines Sites and then re-exports the names of sites_csv, dishes and builtin (which
# import Sites from it), so it is imported here before any of those modules.
from .sites import (
    BUILTIN_SITE_SETS,
    KINDS,
    OPERATIONAL_GATEWAY_STATUSES,
    STARLINK_POP_CITY_REGION,
    STARLINK_REGIONS,
    Sites,
    UnresolvedEndpoint,
    dishes_around,
    hypatia_top100_cities,
    nearest_pop,
    parse_sites_csv_text,
    read_sites_csv,
    resolve_backbone,
    starlink_backbone_2023,
    starlink_gateways_2023,
    starlink_pops_2023,
)

__all__ = [
    "BUILTIN_SITE_SETS",
    "KINDS",
    "MEAN_EARTH_RADIUS_M",
    "OPERATIONAL_GATEWAY_STATUSES",
    "STARLINK_POP_CITY_REGION",
    "STARLINK_REGIONS",
    "Sites",
    "UnresolvedEndpoint",
    "destination_point",
    "dishes_around",
    "great_circle_distance_m",
    "hypatia_top100_cities",
    "nearest_pop",
    "parse_sites_csv_text",
    "read_sites_csv",
    "resolve_backbone",
    "starlink_backbone_2023",
    "starlink_gateways_2023",
    "starlink_pops_2023",
]
