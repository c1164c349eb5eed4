"""The step function: what happens at instants t, as a pure function of the model and t.

A step is a pipeline of stages, each a small function from the earlier stages' results to its
own, a frozen dataclass of arrays (:mod:`leonet.sim.stages`):

    sky         positions, visibility, events            Sky             stages/sky.py
    links       lasers, feeder links, fibre              Links           stages/links.py
                each dish's radio links                  GroundLinks     stages/links.py
    routes      every satellite's route to a PoP         InternetRoutes  stages/routes.py
                serving satellites, once per slot        SlotPlan        stages/serving.py
                each dish's route now                    DishRoutes      stages/routes.py
                station pairs                            PairPaths       stages/pairs.py
    allocation  max-min fair rates (capacity model)      Allocation      stages/allocation.py
    service     states, RTT, terrestrial alternative     DishService     stages/service.py
    tables      rows of the result tables                TableRows       stages/tables.py

A chunk of instants is computed together (SGP4 propagates all of them in one call), but the
result for each instant depends on that instant alone (and on the start of its slot, whose period
is the scenario's ``network.slots.period_s``, and on the step before it for "did the path
change"), so chunks can run in any order on any worker and give the same rows. The tables and
their columns are declared in :mod:`leonet.sim.schemas`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from ..states import STATE_NAMES
from .instants import Chunk
from .model import SimulationModel
from .stages.allocation import allocate
from .stages.links import ground_links_at, links_at
from .stages.pairs import pair_tracker, route_station_pairs
from .stages.routes import internet_routes_at, route_dishes
from .stages.service import serve
from .stages.serving import SlotPlan, plan_slot
from .stages.sky import sky_at
from .stages.result import Step
from .stages.tables import PathChanges, TableRows

#: The state names in code order (kept for older imports; the vocabulary is leonet.states).
STATES = STATE_NAMES


def step_at(chunk: Chunk, t: int, plans: dict[int, SlotPlan], tracker=None) -> Step:
    """The stages at instant ``t`` (ns). ``plans`` holds the slot plans already made (slot start ->
    plan); a slot's plan is made at its first step and held for the slot. ``tracker`` repairs the
    station pairs' routes from the previous step's (:func:`~leonet.sim.stages.pairs.pair_tracker`)."""
    model = chunk.model
    sky = sky_at(chunk, t)
    if not model.scenario.network.enabled:
        return Step(sky.t_ns, sky)
    links = links_at(chunk, sky)
    ground = ground_links_at(chunk, sky)
    routes = internet_routes_at(chunk, links)
    slot = int(model.network.clock.slot_start(sky.t_ns))

    def dish_stages():
        plan = plans[slot] if slot in plans else plans.setdefault(slot, plan_slot(chunk, slot))
        dishes = route_dishes(model, sky, ground, routes, plan.paths)
        allocation = allocate(model, sky, dishes) if model.scenario.capacity.enabled else None
        return dishes, allocation, serve(model, sky, dishes, allocation)

    if len(model.network.dish_sites) or model.scenario.capacity.enabled:
        dishes, allocation, service = dish_stages()
    else:  # no dishes (Hypatia's workload): the dish stages give empty arrays, the same at every step
        dishes, allocation, service = chunk.kept("no dishes", dish_stages, _all_empty)
    pairs = route_station_pairs(model, sky, links, tracker)
    return Step(sky.t_ns, sky, slot, links, dishes, pairs, allocation, service)


def _all_empty(results) -> bool:
    """Whether every array of the dish stages' results has no rows (then they hold for any step)."""
    dishes, allocation, service = results
    if allocation is not None:
        return False
    for r in (dishes, service):
        for f in dataclasses.fields(r):
            v = getattr(r, f.name)
            if v is not None and (not isinstance(v, np.ndarray) or len(v)):
                return False
    return True


def compute_chunk(model: SimulationModel, t_ns: np.ndarray, prev_t_ns: int | None = None) -> dict[str, pa.Table]:
    """Results for the instants ``t_ns`` (int64, shape (T,)) as pyarrow tables (see
    :mod:`leonet.sim.schemas`).

    ``prev_t_ns`` is the step before ``t_ns[0]`` (None for a run's first step); it is recomputed
    here so that "path changed" needs nothing from another chunk.
    """
    t_ns = np.asarray(t_ns, dtype=np.int64)
    steps = t_ns if prev_t_ns is None else np.r_[np.int64(prev_t_ns), t_ns]
    chunk = Chunk(model, instants_needed(model, steps))
    plans: dict[int, SlotPlan] = {}
    changes, rows = PathChanges(), TableRows(model, len(t_ns))
    tracker = pair_tracker(model) if model.scenario.network.enabled else None
    for k, t in enumerate(steps):
        step = step_at(chunk, int(t), plans, tracker)
        chunk.forget_until(int(t))  # a chunk of many dishes would otherwise hold every step's pairs
        dish_changed, pair_changed = changes.update(step)
        if prev_t_ns is None or k > 0:
            rows.add(step, dish_changed, pair_changed)
    return rows.tables(chunk, t_ns)


def instants_needed(model: SimulationModel, steps: np.ndarray) -> np.ndarray:
    """The steps, and the starts of their slots (where the dishes' satellites are chosen)."""
    if not model.scenario.network.enabled:
        return steps
    return np.r_[steps, model.network.clock.slot_start(steps)]
