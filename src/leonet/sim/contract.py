"""What a run writes beside its tables so that readers need nothing else (the shapes are in
:mod:`leonet.results.contract`): resolved horizon masks, events with resolved instants and
targets, slot clock, laser-link candidates and rules, the state vocabulary and the warnings.
"""

from __future__ import annotations

import numpy as np

from .. import states
from ..results import contract as c
from ..results.store import ResultStore
from .model import SimulationModel

_NEVER = np.iinfo(np.int64).max


def run_facts(model: SimulationModel) -> c.RunFacts:
    s = model.settings
    warnings = list(model.network.warnings) if s.network else []
    return c.RunFacts(
        name=s.name, description=s.description, network=s.network, capacity=s.capacity,
        min_elevation_deg=s.visibility.min_elevation_deg,
        slot=c.SlotFacts(period_s=s.slot_period_s, offset_s=s.slot_offset_s, policy=s.slot_policy),
        isl=c.IslFacts(topology=s.isl_topology, grazing_height_m=s.isl_grazing_height_m, max_range_m=s.isl_max_range_m),
        congested_below_mbps=s.congested_below_mbps,
        states=[c.StateRecord(**s) for s in states.as_json()],
        warnings=warnings,
    )


def event_records(model: SimulationModel) -> list[c.EventRecord]:
    """The events as the engine resolved them (an empty list without the network model)."""
    if not model.settings.network or not model.settings.events:
        return []
    names = np.asarray(model.sites.name, dtype=object)
    net = model.network
    pop_names = names[net.pop_sites] if len(net.pop_sites) else np.zeros(0, dtype=object)
    out = []
    for r in model.timeline.events:
        rec = c.EventRecord(
            name=r.spec.name, type=r.spec.type, description=r.spec.description or "",
            start_ns=int(r.start_ns), end_ns=None if int(r.end_ns) >= _NEVER else int(r.end_ns),
            sites=[str(x) for x in names[np.asarray(r.sites, dtype=np.int64)]],
            satellites=[int(x) for x in r.sats],
            satellite_fail_ns=None if r.fail_ns is None else [int(x) for x in r.fail_ns],
            gateway_fibres=[str(x) for x in names[net.gateway_sites[np.asarray(r.gateway_links, dtype=np.int64)]]],
            backbone_links=[[str(pop_names[a]), str(pop_names[b])]
                            for a, b in net.backbone[np.asarray(r.backbone_links, dtype=np.int64)]],
        )
        out.append(rec)
    return out


def isl_candidates(model: SimulationModel) -> c.IslCandidates:
    if not model.settings.network:
        return c.IslCandidates()
    return c.IslCandidates(pairs=np.asarray(model.network.isl_candidates, dtype=np.int64).reshape(-1, 2).tolist())


def write_contract(store: ResultStore, model: SimulationModel) -> None:
    """Write ``run.json``, ``obstructions.json``, ``events.json`` and ``isl_candidates.json``."""
    store.write_json(c.RUN_FILE, run_facts(model).model_dump())
    store.write_json(c.OBSTRUCTIONS_FILE, c.Obstructions(
        masks_deg=np.asarray(model.masks, dtype=np.float64).reshape(-1, c.N_AZIMUTH).tolist(),
        mask_of_site=(np.asarray(model.mask_of_site, dtype=np.int64) if len(model.mask_of_site)
                      else np.full(len(model.sites), -1, dtype=np.int64)).tolist(),
    ).model_dump(), compact=True)
    store.write_json(c.EVENTS_FILE, [e.model_dump() for e in event_records(model)])
    store.write_json(c.ISL_FILE, isl_candidates(model).model_dump(), compact=True)
