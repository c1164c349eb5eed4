"""Stage 3b, the station pairs: routes between ground stations at every step (Hypatia's
semantics: stations link to every clear satellite, satellites relay over lasers, stations never
relay; see :mod:`leonet.network.pairs`). :func:`station_forwarding` is also what the Hypatia
export (:mod:`leonet.hypatia.export`) writes, step by step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...network.incremental import ForwardingTracker
from ...network.pair_walk import PairPaths, PairPathWalker
from ...network.pairs import ForwardingState, forwarding_state, station_graph
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


def station_forwarding(model: SimulationModel, sky: Sky, links: Links, stations: np.ndarray, dests: np.ndarray,
                       tracker: ForwardingTracker | None = None) -> ForwardingState:
    """The forwarding state among ground stations at ``sky``'s instant: every node's next hop
    toward each destination station (:class:`~leonet.network.pairs.ForwardingState`).

    ``stations`` (G,) are site indices, numbered 0..G-1 in that order; ``dests`` are station
    numbers. A station links to every satellite it sees clear (``sky.clear``: the ground-link rule
    and the obstruction masks, as for every site), satellites relay over the lasers usable now
    (``links.isl``), stations never relay. With ``tracker`` (fed the steps in time order, made for
    these stations and destinations) last step's trees are repaired instead of recomputed, with
    the same next hops. The station-pairs stage and the Hypatia export both route with this.
    """
    n_sats = len(model.constellation)
    s_local, s_sat, _, s_rng = subset_pairs(sky.clear, stations, len(model.sites))
    matrix = station_graph(n_sats, len(stations), links.isl.links, links.isl.length_m, s_local, s_sat, s_rng)
    return tracker.update(matrix) if tracker is not None else forwarding_state(matrix, n_sats, len(stations), dests)


def route_station_pairs(model: SimulationModel, sky: Sky, links: Links,
                        tracker: PairTracker | None = None) -> PairPaths | None:
    """Routes of the scenario's M station pairs at ``sky``'s instant (:class:`PairPaths`:
    ``one_way_s`` (M,) s, ``hops`` (M,), the paths in list layout and ``changed`` (M,) against the
    tracker's previous step); None for a scenario without pairs. Without ``tracker`` the step
    stands alone: the forwarding state is computed in full and no path has changed."""
    if not len(model.network.pair_src):
        return None
    standalone = tracker is None
    if standalone:
        tracker = pair_tracker(model)
    state = station_forwarding(model, sky, links, tracker.stations, tracker.forwarding.dests,
                               None if standalone else tracker.forwarding)
    return tracker.paths.walk(state)
