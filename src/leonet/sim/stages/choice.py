"""The slot policy's choice among a dish's clear satellites (``network.slots.policy``): highest
elevation, longest visibility, load-aware, or max-rate (the satellite that offers the dish's cell
the most). It knows nothing of routes: the serving stage (:mod:`.serving`) first keeps the
satellites that reach each dish's PoP, and the links stage (:mod:`.links`) asks it which satellites
the dishes would choose were every satellite connected (``network.gateway_tracking: traffic``).

``ground`` below is a :class:`.links.GroundLinks` (its ``dish``, ``sat``, ``elevation_deg`` and
``range_m`` arrays); this module does not import it, so that the links stage may call it.
"""

from __future__ import annotations

import numpy as np

from ...constants import NS_PER_S
from ...network.slots import choose_serving, spread_over_satellites
from ...space.propagate import propagate
from ..model import SimulationModel

#: How far ahead the longest-visibility policy looks, s (about one pass at 25 deg).
LOOKAHEAD_S = 600.0
#: The lookahead's finest sample, s: a pass lasts minutes, so sampling it more finely than every
#: second (a slot period of 1 ms would mean 600,000 instants of the whole constellation) costs
#: work and memory without changing which satellite stays longest.
LOOKAHEAD_MIN_STEP_S = 1.0
LOOKAHEAD_MIN_STEP_NS = int(LOOKAHEAD_MIN_STEP_S * NS_PER_S)


def choose_by_policy(model: SimulationModel, ground, slot_start_ns: int, sat_ecef_m: np.ndarray | None = None) -> np.ndarray:
    """(D,) int32 the satellite each dish chooses among ``ground``'s clear links by the slot policy
    (-1: none); max-rate needs ``sat_ecef_m`` (N, 3), the satellites at the instant, m."""
    net = model.network
    n_d = len(net.dish_sites)
    if net.policy == "max-rate":
        score = offered_rates_bps(model, ground, slot_start_ns, sat_ecef_m)
        # the most offered; elevation only breaks exact ties (a milli-bit per second per degree)
        return choose_serving(ground.dish, ground.sat, score + ground.elevation_deg * 1e-3, n_d, None,
                              "highest-elevation")
    if net.policy == "load-aware":
        return spread_over_satellites(ground.dish, ground.sat, ground.elevation_deg, n_d, net.dish_cell,
                                      net.max_sats_per_cell)
    remaining = remaining_visibility_s(model, ground, slot_start_ns) if net.policy == "longest-visibility" else None
    return choose_serving(ground.dish, ground.sat, ground.elevation_deg, n_d, remaining, net.policy)


def offered_rates_bps(model: SimulationModel, ground, slot_start_ns: int,
                      sat_ecef_m: np.ndarray) -> np.ndarray:
    """(K,) the rate each dish-satellite pair of ``ground`` would offer the dish's cell, bps
    (:func:`leonet.service.beamtime.offered_rate_bps`): the satellite's beam time per occupied
    background cell at the slot start (1 without the service model's background) x one beam's
    clear-sky rate at the pair's range, at most the satellite's capacity per beam. ``sat_ecef_m``
    (N, 3): the satellites at the slot start, m."""
    from ...capacity.linkbudget import RADIO_DEFAULTS, user_downlink_snr_db
    from ...capacity.modcod import DEFAULT_MARGIN_DB, spectral_efficiency
    from ...service.beamtime import beam_time_per_cell, offered_rate_bps

    cm, svc = model.capacity, model.service
    radio = cm.radio if cm is not None else RADIO_DEFAULTS
    margin = cm.margin_db if cm is not None else DEFAULT_MARGIN_DB
    eta = spectral_efficiency(user_downlink_snr_db(ground.range_m, 0.0, radio), margin)
    n = len(model.constellation)
    if svc is not None:
        beams, down = svc.sat_beams, svc.sat_down_bps
    elif cm is not None:
        beams, down = np.full(n, float(cm.beams)), np.full(n, cm.sat_down_bps)
    else:
        beams, down = np.ones(n), np.full(n, np.inf)
    if svc is None or svc.grid is None:
        time_share = np.ones(n)
    else:
        time_share = beam_time_per_cell(svc.grid, sat_ecef_m, np.unique(ground.sat), beams, down, svc.min_elevation_deg,
                                        slot_start_ns, svc.busy_down_bps, svc.cell_area_m2, svc.traffic.diurnal)
    return offered_rate_bps(time_share[ground.sat], eta, radio.user_downlink_bandwidth_hz, down[ground.sat],
                            beams[ground.sat])


def remaining_visibility_s(model: SimulationModel, ground, slot_start_ns: int) -> np.ndarray:
    """(K,) seconds each of ``ground``'s clear links stays admitted by the visibility rule after the
    slot start, sampled at the next slot starts for :data:`LOOKAHEAD_S` (at most every
    :data:`LOOKAHEAD_MIN_STEP_S`: a shorter slot period samples every that many seconds).

    Bounded work: at most ``LOOKAHEAD_S / LOOKAHEAD_MIN_STEP_S`` instants, propagated one at a
    time (one (N, 3) block of positions in memory, not (n, N, 3)), and none once every link has set."""
    clock = model.network.clock
    if clock.period_ns >= LOOKAHEAD_MIN_STEP_NS:
        step_ns, step_s = clock.period_ns, clock.period_s
    else:
        step_ns, step_s = LOOKAHEAD_MIN_STEP_NS, LOOKAHEAD_MIN_STEP_NS / NS_PER_S
    n = int(np.ceil(LOOKAHEAD_S * NS_PER_S / step_ns))
    sites = model.network.dish_sites[ground.dish]
    remaining = np.zeros(len(ground.sat))
    still = np.ones(len(ground.sat), dtype=bool)
    for k in range(1, n + 1):
        if not still.any():
            break   # every link has set: the later instants add nothing
        future = propagate(model.constellation, np.array([slot_start_ns + k * step_ns], dtype=np.int64))
        seen, _, _ = model.visibility.link(sites, future.ecef_m[0][ground.sat])
        still &= seen
        remaining += still * step_s
    return remaining
