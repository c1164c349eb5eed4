"""Stage 3b, the station pairs: routes between ground stations, afresh at every step (Hypatia's
semantics: stations link to every clear satellite, satellites relay over lasers, stations never
relay; see :mod:`leonet.network.pairs`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...network.incremental import ForwardingTracker
from ...network.pair_walk import PairPaths, PairPathWalker
from ...network.pairs import forwarding_state, station_graph
from ..instants import subset_pairs
from ..model import SimulationModel
from .links import Links
from .sky import Sky


@dataclass
class PairTracker:
    """What the pairs stage keeps from one step to the next within a chunk: the shortest-path
    trees (one per destination station, repaired rather than recomputed) and the pairs' paths
    (copied where none of the next hops they use changed). Its output never depends on its
    history (the first step is computed in full and every repair gives the full computation's
    values exactly), except that ``path_changed`` compares with the step before, as it must."""

    stations: np.ndarray
    number: np.ndarray
    forwarding: ForwardingTracker
    paths: PairPathWalker


def pair_tracker(model: SimulationModel) -> PairTracker | None:
    """A tracker for the scenario's station pairs (None without pairs); one per chunk, fed the
    chunk's steps in time order."""
    net = model.network
    if not len(net.pair_src):
        return None
    stations = np.unique(np.r_[net.pair_src, net.pair_dst])
    number = np.full(len(model.sites), -1, dtype=np.int64)
    number[stations] = np.arange(len(stations))
    src, dst = number[net.pair_src], number[net.pair_dst]
    return PairTracker(stations, number, ForwardingTracker(len(model.constellation), len(stations), np.unique(dst)),
                       PairPathWalker(src, dst))


def route_station_pairs(model: SimulationModel, sky: Sky, links: Links,
                        tracker: PairTracker | None = None) -> PairPaths | None:
    """Routes of the scenario's M station pairs at ``sky``'s instant (:class:`PairPaths`:
    ``one_way_s`` (M,) s, ``hops`` (M,), the paths in list layout and ``changed`` (M,) against the
    tracker's previous step); None for a scenario without pairs. Without ``tracker`` the step
    stands alone: the forwarding state is computed in full and no path has changed."""
    net, n_sats, n_sites = model.network, len(model.constellation), len(model.sites)
    if not len(net.pair_src):
        return None
    standalone = tracker is None
    if standalone:
        tracker = pair_tracker(model)
    s_local, s_sat, _, s_rng = subset_pairs(sky.clear, tracker.stations, n_sites)
    matrix = station_graph(n_sats, len(tracker.stations), links.isl.links, links.isl.length_m, s_local, s_sat, s_rng)
    if standalone:
        state = forwarding_state(matrix, n_sats, len(tracker.stations), tracker.forwarding.dests)
    else:
        state = tracker.forwarding.update(matrix)
    return tracker.paths.walk(state)
