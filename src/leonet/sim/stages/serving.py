"""Stage 3a, the serving assignment: once per reconfiguration slot (``network.slots.period_s``), at
the slot's start, the network gives each dish a serving satellite by the scenario's policy and
a route from it; the dish holds them for the slot (see :mod:`leonet.network.slots`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..instants import Chunk
from ..model import SimulationModel
from .choice import choose_by_policy
from .links import GroundLinks, ground_links_at, links_at
from .routes import DishPaths, HomeRoutes, internet_routes_at, paths_along
from .sky import sky_at

@dataclass(frozen=True)
class SlotPlan:
    """What the network decided for each dish at a slot's start, held for the slot.

    Attributes
    ----------
    slot_start_ns : int, the slot's start (ns, UTC).
    paths : DishPaths, each dish's serving satellite and route (D dishes).
    """

    slot_start_ns: int
    paths: DishPaths


def plan_slot(chunk: Chunk, slot_start_ns: int) -> SlotPlan:
    """The plan of the slot that starts at ``slot_start_ns``: serving satellites chosen from the
    sky at that instant, routes on the network at that instant."""
    sky = sky_at(chunk, slot_start_ns)
    routes = internet_routes_at(chunk, links_at(chunk, sky))
    serving = assign_serving(chunk.model, ground_links_at(chunk, sky), sky.t_ns, routes, sat_ecef_m=sky.sat_ecef_m)
    return SlotPlan(sky.t_ns, paths_along(routes, serving, len(chunk.model.constellation)))


def assign_serving(model: SimulationModel, ground: GroundLinks, slot_start_ns: int,
                   routes: HomeRoutes | None = None, sat_ecef_m: np.ndarray | None = None) -> np.ndarray:
    """(D,) int32 serving satellite of each dish for the slot (-1: nothing clear in view), by the
    scenario's policy: highest elevation, longest visibility, load-aware (a cell's dishes spread
    over its best satellites) or max-rate (the satellite that offers the dish's cell the most,
    :func:`.choice.offered_rates_bps`; it needs ``sat_ecef_m`` (N, 3), the satellites at the slot start, m).

    Backhaul-aware: with ``routes``, a dish chooses among the clear satellites that reach its PoP
    at the slot start (bent pipe: a gateway in view of the same satellite; lasers: a path). A dish
    that no clear satellite connects chooses among all of them (it will be NO_PATH)."""
    net = model.network
    n_d = len(net.dish_sites)
    if routes is not None and len(ground.dish):
        reach = routes.reaches(ground.dish, ground.sat)
        some = np.zeros(n_d, dtype=bool)
        some[ground.dish[reach]] = True
        ground = ground.subset(reach | ~some[ground.dish])
    return choose_by_policy(model, ground, slot_start_ns, sat_ecef_m)
