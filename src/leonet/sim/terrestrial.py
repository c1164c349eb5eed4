"""The terrestrial alternative: each site's fibre path to the nearest internet exchange.

Latency = 2 x great-circle length x route factor / (c / n), as for leonet's other fibre. Whether
the ground path is up at t comes from ``terrestrial_outage`` events. This is what a user would have
without a dish, so results can say whether each user is online by ground, by satellite, by both,
or not at all.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..ground.geodesy import great_circle_distance_m
from ..ground.sites import Sites
from ..network.fibre import fibre_delay_s
from ..scenario import Scenario


@dataclass(frozen=True)
class Terrestrial:
    """Per site (S,): the nearest exchange's name and the ground round trip (ms)."""

    exchange: np.ndarray
    ground_rtt_ms: np.ndarray


def builtin_exchanges() -> tuple[list[str], np.ndarray, np.ndarray]:
    text = (resources.files("leonet") / "data" / "exchanges.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    return ([r["name"] for r in rows], np.array([float(r["lat_deg"]) for r in rows]),
            np.array([float(r["lon_deg"]) for r in rows]))


def build_terrestrial(scenario: Scenario, sites: Sites) -> Terrestrial:
    spec = scenario.terrestrial
    if spec.exchanges == "builtin":
        names, lat, lon = builtin_exchanges()
    else:
        names = [e.name for e in spec.exchanges]
        lat = np.array([e.lat_deg for e in spec.exchanges])
        lon = np.array([e.lon_deg for e in spec.exchanges])
    if len(sites) == 0 or len(names) == 0:
        return Terrestrial(np.zeros(len(sites), dtype=object), np.full(len(sites), np.nan))
    d = great_circle_distance_m(sites.lat_deg[:, None], sites.lon_deg[:, None], lat[None, :], lon[None, :])
    nearest = np.argmin(d, axis=1)  # sites x exchanges is small (tens of exchanges)
    one_way_s = fibre_delay_s(sites.lat_deg, sites.lon_deg, lat[nearest], lon[nearest],
                              spec.route_factor, spec.refractive_index)
    return Terrestrial(np.array(names, dtype=object)[nearest], 2e3 * one_way_s)
