"""Stage 3b, the station pairs: routes between ground stations at every step (Hypatia's
semantics: stations link to every clear satellite, satellites relay over lasers, stations never
relay; see :mod:`leonet.network.pairs`). :func:`station_forwarding` is also what the Hypatia
export (:mod:`leonet.hypatia.export`) writes, step by step."""

from __future__ import annotations

import numpy as np

from ...network.incremental import ForwardingTracker
from ...network.pairs import ForwardingState, PairRoutes, forwarding_state, route_pairs, station_graph
from ..instants import subset_pairs
from ..model import SimulationModel
from .links import Links
from .sky import Sky


def pair_tracker(model: SimulationModel) -> ForwardingTracker | None:
    """A tracker that repairs last step's shortest-path trees (one per destination station)
    instead of recomputing them; one per chunk, fed the chunk's steps in time order. Its output
    never depends on its history (the first update is a full computation and every repair gives
    the full computation's values exactly), so chunks stay independent."""
    net = model.network
    if not len(net.pair_src):
        return None
    stations = np.unique(np.r_[net.pair_src, net.pair_dst])
    number = np.full(len(model.sites), -1, dtype=np.int64)
    number[stations] = np.arange(len(stations))
    return ForwardingTracker(len(model.constellation), len(stations), np.unique(number[net.pair_dst]))


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
                        tracker: ForwardingTracker | None = None) -> PairRoutes | None:
    """Routes of the scenario's M station pairs at ``sky``'s instant (``one_way_s`` (M,) s,
    ``hops`` (M,), ``path_sats`` (M, L)); None for a scenario without pairs. With ``tracker``
    (:func:`pair_tracker`), the forwarding state is repaired from the previous step's."""
    net = model.network
    if not len(net.pair_src):
        return None
    stations = np.unique(np.r_[net.pair_src, net.pair_dst])
    number = np.full(len(model.sites), -1, dtype=np.int64)
    number[stations] = np.arange(len(stations))
    src, dst = number[net.pair_src], number[net.pair_dst]
    return route_pairs(station_forwarding(model, sky, links, stations, np.unique(dst), tracker), src, dst)
