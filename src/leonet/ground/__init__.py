"""Ground segment: sites (dishes, gateways, PoPs, stations), built-in site sets, geodesy."""

from .geodesy import MEAN_EARTH_RADIUS_M, destination_point, great_circle_distance_m
from .builtin import (
    BUILTIN_SITE_SETS,
    OPERATIONAL_GATEWAY_STATUSES,
    STARLINK_POP_CITY_REGION,
    STARLINK_REGIONS,
    UnresolvedEndpoint,
    hypatia_top100_cities,
    nearest_pop,
    resolve_backbone,
    starlink_backbone_2023,
    starlink_gateways_2023,
    starlink_pops_2023,
)
from .dishes import dishes_around
from .sites import KINDS, Sites
from .sites_csv import ELEVATION_LIMITS_M, parse_sites_csv_text, read_sites_csv

__all__ = [
    "BUILTIN_SITE_SETS",
    "ELEVATION_LIMITS_M",
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
