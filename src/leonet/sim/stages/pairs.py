"""Stage 3b, the station pairs: routes between ground stations, afresh at every step (Hypatia's
semantics: stations link to every clear satellite, satellites relay over lasers, stations never
relay; see :mod:`leonet.network.pairs`)."""

from __future__ import annotations

import numpy as np

from ...network.incremental import ForwardingTracker
from ...network.pairs import PairRoutes, forwarding_state, route_pairs, station_graph
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


def route_station_pairs(model: SimulationModel, sky: Sky, links: Links,
                        tracker: ForwardingTracker | None = None) -> PairRoutes | None:
    """Routes of the scenario's M station pairs at ``sky``'s instant (``one_way_s`` (M,) s,
    ``hops`` (M,), ``path_sats`` (M, L)); None for a scenario without pairs. With ``tracker``
    (:func:`pair_tracker`), the forwarding state is repaired from the previous step's."""
    net, n_sats, n_sites = model.network, len(model.constellation), len(model.sites)
    if not len(net.pair_src):
        return None
    stations = np.unique(np.r_[net.pair_src, net.pair_dst])
    s_local, s_sat, _, s_rng = subset_pairs(sky.clear, stations, n_sites)
    matrix = station_graph(n_sats, len(stations), links.isl.links, links.isl.length_m, s_local, s_sat, s_rng)
    number = np.full(n_sites, -1, dtype=np.int64)
    number[stations] = np.arange(len(stations))
    src, dst = number[net.pair_src], number[net.pair_dst]
    state = tracker.update(matrix) if tracker is not None else forwarding_state(matrix, n_sats, len(stations), np.unique(dst))
    return route_pairs(state, src, dst)
