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
from .instants import Chunk, SharedInstants
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
    station pairs' routes from the previous step's (:func:`~leonet.sim.stages.pairs.pair_tracker`).

    Allocation and service see the events' dish side only (:meth:`ThreatState.dish_side`): with
    the dishes' routes, that is all they depend on, so chunks sharing a sky
    (:class:`~leonet.sim.instants.SharedInstants`) compute them once for equal inputs."""
    model = chunk.model
    sky = sky_at(chunk, t)
    if not model.settings.network:
        return Step(sky.t_ns, sky)
    links = links_at(chunk, sky)
    ground = ground_links_at(chunk, sky)
    routes = internet_routes_at(chunk, links)
    slot = int(model.network.clock.slot_start(sky.t_ns))

    def dish_stages():
        plan = plans[slot] if slot in plans else plans.setdefault(slot, plan_slot(chunk, slot))
        dishes = route_dishes(model, sky, ground, routes, plan.paths)
        dish_sky = sky if sky.events is None else dataclasses.replace(sky, events=sky.events.dish_side())
        allocation, service = chunk.by_content("service", sky.t_ns, (dishes, dish_sky.events),
                                               lambda: _allocate_and_serve(model, dish_sky, dishes))
        return dishes, allocation, service

    if len(model.network.dish_sites) or model.settings.capacity:
        dishes, allocation, service = dish_stages()
    else:  # no dishes (Hypatia's workload): the dish stages give empty arrays, the same at every step
        dishes, allocation, service = chunk.kept("no dishes", dish_stages, _all_empty)
    pairs = route_station_pairs(model, sky, links, tracker)
    return Step(sky.t_ns, sky, slot, links, dishes, pairs, allocation, service)


def _allocate_and_serve(model: SimulationModel, sky, dishes):
    allocation = allocate(model, sky, dishes) if model.settings.capacity else None
    return allocation, serve(model, sky, dishes, allocation)


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


class ChunkSteps:
    """One model's way through a chunk: its slot plans, path changes, station-pair tracker and
    table rows (for ``n_steps`` output steps), fed the chunk's instants in time order (:meth:`step`)."""

    def __init__(self, model: SimulationModel, chunk: Chunk, n_steps: int):
        self.model, self.chunk = model, chunk
        self.plans: dict[int, SlotPlan] = {}
        self.changes, self.rows = PathChanges(), TableRows(model, n_steps)
        self.tracker = pair_tracker(model) if model.settings.network else None

    def step(self, t: int, output: bool) -> None:
        """Compute instant ``t``; its rows go to the tables when ``output`` (not for the step
        before a chunk, recomputed only for "path changed")."""
        step = step_at(self.chunk, t, self.plans, self.tracker)
        self.chunk.forget_until(t)  # a chunk of many dishes would otherwise hold every step's pairs
        dish_changed, pair_changed = self.changes.update(step)
        if output:
            self.rows.add(step, dish_changed, pair_changed)

    def tables(self, t_ns: np.ndarray) -> dict[str, pa.Table]:
        return self.rows.tables(self.chunk, t_ns)


def compute_chunk(model: SimulationModel, t_ns: np.ndarray, prev_t_ns: int | None = None) -> dict[str, pa.Table]:
    """Results for the instants ``t_ns`` (int64, shape (T,)) as pyarrow tables (see
    :mod:`leonet.sim.schemas`).

    ``prev_t_ns`` is the step before ``t_ns[0]`` (None for a run's first step); it is recomputed
    here so that "path changed" needs nothing from another chunk.
    """
    return compute_chunks([model], t_ns, prev_t_ns)[0]


def compute_chunks(models: list[SimulationModel], t_ns: np.ndarray, prev_t_ns: int | None = None,
                   stats: dict | None = None) -> list[dict[str, pa.Table]]:
    """:func:`compute_chunk` for several models that differ only in their events
    (:func:`~leonet.sim.model.same_but_events`), stepping through the instants together: the sky
    and what depends on it alone are computed once per instant, the stages after it per model
    (shared where their inputs agree). Each model's tables equal :func:`compute_chunk`'s for it.
    ``stats`` (a dict) receives ``shared_results``: results one model reused from another."""
    from .model import share_event_free_parts

    if not models:
        return []
    first = models[0]
    for m in models[1:]:
        # variants of one build (model_with_events) share its inputs; the scenarios were compared there
        if (m.constellation is not first.constellation or m.sites is not first.sites
                or not np.array_equal(first.t_ns, m.t_ns)):
            raise ValueError("compute_chunks: the models are not variants of one build (model_with_events)")
    if len(models) > 1:
        first.visibility  # built once: the models share it (and the other event-free parts)
        for m in models[1:]:
            share_event_free_parts(first, m)
    t_ns = np.asarray(t_ns, dtype=np.int64)
    steps = t_ns if prev_t_ns is None else np.r_[np.int64(prev_t_ns), t_ns]
    instants = instants_needed(first, steps)
    shared = SharedInstants(first, instants, sharers=len(models)) if len(models) > 1 else None
    runs = [ChunkSteps(m, Chunk(m, instants, shared), len(t_ns)) for m in models]
    for k, t in enumerate(steps):
        for r in runs:
            r.step(int(t), prev_t_ns is None or k > 0)
        if shared is not None:
            shared.forget_until(int(t))
    if stats is not None:
        stats["shared_results"] = stats.get("shared_results", 0) + (shared.hits if shared is not None else 0)
    return [r.tables(t_ns) for r in runs]


def instants_needed(model: SimulationModel, steps: np.ndarray) -> np.ndarray:
    """The steps, and the starts of their slots (where the dishes' satellites are chosen)."""
    if not model.settings.network:
        return steps
    return np.r_[steps, model.network.clock.slot_start(steps)]
