"""What the engine reads of a scenario, read once at the door.

:func:`run_settings` copies the few scalars the step, its stages, the results contract and the
runner need out of a validated :class:`~leonet.scenario.Scenario` into a frozen
:class:`RunSettings`; everything bigger (sites, satellites, the network, capacity, service and
terrestrial models, the events' timeline) is built by :func:`leonet.sim.model.build_model`. The
engine reads these, never the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..network.visibility import VisibilityRule
from ..scenario import Scenario


@dataclass(frozen=True)
class RunSettings:
    """A scenario's switches and scalars, as the engine uses them.

    Attributes
    ----------
    name, description : the scenario's name and description (run.json, the manifest).
    source : where the scenario came from (its file or "preset NAME"), for error messages.
    network, capacity, service : whether the network, capacity and service models are on.
    events : whether the scenario has events (they act only with the network model on).
    deliveries : whether an event brings dishes in over time (``deliveries``): ``dish_steps`` then
        has each row's ``delivered`` share, which weighs its dish-time.
    station_pairs : whether the scenario routes station pairs (``network.pairs`` or
        ``network.all_station_pairs``).
    visibility : the ground-link rule (minimum elevation, deg; maximum slant range, m; nearest k).
    slot_period_s, slot_offset_s : the reconfiguration slots, s; slot_policy : how dishes pick.
    isl_topology : none, plus-grid or list; isl_grazing_height_m, m; isl_max_range_m : m or None.
    congested_below_mbps : capacity.congested_below_mbps (None with the capacity model off).
    visibility_pairs, positions : whether the visibility and positions tables are written.
    chunk_steps : steps per chunk file.
    step_ns : the calendar's (coarse) step, ns; uniform_steps : no window inside the calendar;
    duration_ns : the calendar's length, ns.
    """

    name: str
    description: str
    source: str
    network: bool
    capacity: bool
    service: bool
    events: bool
    station_pairs: bool
    visibility: VisibilityRule
    slot_period_s: float
    slot_offset_s: float
    slot_policy: str
    isl_topology: str
    isl_grazing_height_m: float
    isl_max_range_m: float | None
    congested_below_mbps: float | None
    visibility_pairs: bool
    positions: bool
    chunk_steps: int
    step_ns: int
    uniform_steps: bool
    duration_ns: int
    deliveries: bool = False


def run_settings(scenario: Scenario) -> RunSettings:
    """The :class:`RunSettings` of ``scenario``."""
    net, cap, v = scenario.network, scenario.capacity, scenario.visibility
    return RunSettings(
        name=scenario.name, description=scenario.description, source=scenario.source,
        network=net.enabled, capacity=cap.enabled, service=scenario.service.enabled, events=bool(scenario.events),
        station_pairs=bool(net.pairs or net.all_station_pairs),
        visibility=VisibilityRule(v.min_elevation_deg, v.max_range_m, v.nearest_k),
        slot_period_s=net.slots.period_s, slot_offset_s=net.slots.offset_s, slot_policy=net.slots.policy,
        isl_topology=net.isl.topology, isl_grazing_height_m=net.isl.grazing_height_km * 1e3,
        isl_max_range_m=None if net.isl.max_range_km is None else net.isl.max_range_km * 1e3,
        congested_below_mbps=cap.congested_below_mbps if cap.enabled else None,
        visibility_pairs=scenario.outputs.visibility_pairs, positions=scenario.outputs.positions,
        chunk_steps=scenario.outputs.chunk_steps, step_ns=scenario.time.step_ns,
        uniform_steps=scenario.time.uniform, duration_ns=round(scenario.time.duration_s * 1e9),
        deliveries=any(e.type == "deliveries" for e in scenario.events),
    )
