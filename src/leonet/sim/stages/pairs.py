"""Stage 3b, the station pairs: routes between ground stations, afresh at every step (Hypatia's
semantics: stations link to every clear satellite, satellites relay over lasers, stations never
relay; see :mod:`leonet.network.pairs`)."""

from __future__ import annotations

import numpy as np

from ...network.pairs import PairRoutes, forwarding_state, route_pairs, station_graph
from ..instants import subset_pairs
from ..model import SimulationModel
from .links import Links
from .sky import Sky


def route_station_pairs(model: SimulationModel, sky: Sky, links: Links) -> PairRoutes | None:
    """Routes of the scenario's M station pairs at ``sky``'s instant (``one_way_s`` (M,) s,
    ``hops`` (M,), ``path_sats`` (M, L)); None for a scenario without pairs."""
    net, n_sats, n_sites = model.network, len(model.constellation), len(model.sites)
    if not len(net.pair_src):
        return None
    stations = np.unique(np.r_[net.pair_src, net.pair_dst])
    s_local, s_sat, _, s_rng = subset_pairs(sky.clear, stations, n_sites)
    matrix = station_graph(n_sats, len(stations), links.isl.links, links.isl.length_m, s_local, s_sat, s_rng)
    number = np.full(n_sites, -1, dtype=np.int64)
    number[stations] = np.arange(len(stations))
    src, dst = number[net.pair_src], number[net.pair_dst]
    return route_pairs(forwarding_state(matrix, n_sats, len(stations), np.unique(dst)), src, dst)
