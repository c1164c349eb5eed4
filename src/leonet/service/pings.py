"""Compiled per-ping draws (numba) of the latency model: :func:`dish_second` and
:func:`ping_rtt_ms` equal :func:`leonet.service.latency.dish_second` and
:func:`leonet.service.latency.rtt_ms` (the numpy references) bit for bit.

The reference draws each random term of every ping as a separate counter-RNG call over a
(dishes x pings) array: five SplitMix64 chains of three mixes each per ping, each chain a dozen
numpy passes over 150,000 values for 10,000 dishes. The kernel walks the pings once and mixes
each chain's (seed, stream) and (seed, stream, dish) prefixes once per dish, so a ping costs one
mix per term. What stays in numpy is what must match numpy to the bit: the logarithm of the
jitter draws (numpy's own vectorised ``log`` may differ from the C library's in the last bit) and
the mean over each second's pings (numpy's pairwise summation). The per-dish terms (propagation,
processing, laser hops, queueing, PoP to target) come from the reference's own functions.

Term order matters to the bit: a ping's RTT is summed in :func:`leonet.service.latency.rtt_terms_ms`'s
order, :data:`RTT_TERM_ORDER` (a test holds the two equal).
"""

from __future__ import annotations

import numpy as np

from .rng import _GOLDEN, _M1, _M2, hash_u64

NS_PER_S = 1_000_000_000

#: The order in which :func:`leonet.service.latency.rtt_terms_ms` sums a ping's RTT terms.
RTT_TERM_ORDER = ("propagation", "mac", "processing", "laser_hops", "queueing", "target", "jitter")

_INV_2_53 = 9007199254740992.0   # 2**53


def _mix1(z):
    """SplitMix64 finaliser of one uint64 (as :func:`leonet.service.rng._mix`)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _uniform1(z):
    """The (0, 1) float of a final hash (as :func:`leonet.service.rng.uniform`)."""
    return (np.float64(z >> np.uint64(11)) + 0.5) / _INV_2_53


def _jitter_uniforms(dish, t0, offset_ns, z_jitter):
    """(D, n) uniforms of stream "latency.jitter" at (dish, t0 + offset) (``z_jitter``: the
    stream's prefix hash)."""
    n_d, n = len(dish), len(offset_ns)
    out = np.empty((n_d, n))
    for i in range(n_d):
        zd = _mix1(z_jitter + _GOLDEN + np.uint64(dish[i]))
        for k in range(n):
            out[i, k] = _uniform1(_mix1(zd + _GOLDEN + np.uint64(t0[i] + offset_ns[k])))
    return out


def _ping_kernel(dish, t0, offset_ns, prop, processing, laser, queue, target, jitter,
                 z_loss, z_outage, z_up, z_down, z_disturbance,
                 mac_on, frame_ms, grant_frames,
                 disturbance_on, period_ns, slot_offset_ns, disturbance_ns, disturbance_loss, spread_ns,
                 outage_on, outage_duration_s, outage_p_start, loss_on):
    """Each ping's RTT (D, n) float64 ms, 0 where it is lost (never with ``loss_on`` False), and the pings lost per dish (D,)
    int64 (latency.py's terms).

    A ping is lost when its loss draw u (in (0, 1)) is below its loss probability p; with p = 0
    (most pings) or p = 1 (an outage) the draw cannot change that, so it is skipped. A dish's
    outage draws are made once per second its pings fall in, its disturbance draw once per slot
    (latency.in_disturbance: the burst centred (u - 0.5) x spread from the nearest slot start)."""
    n_d, n = len(dish), len(offset_ns)
    rtt = np.empty((n_d, n))
    n_lost = np.zeros(n_d, dtype=np.int64)
    for i in range(n_d):
        key = np.uint64(dish[i])
        zl = _mix1(z_loss + _GOLDEN + key)
        zo = _mix1(z_outage + _GOLDEN + key)
        zu = _mix1(z_up + _GOLDEN + key)
        zw = _mix1(z_down + _GOLDEN + key)
        zd = _mix1(z_disturbance + _GOLDEN + key)
        seen_second = np.int64(0)
        seen_out = False
        have_second = False
        seen_slot = np.int64(0)
        have_slot = False
        centre = 0.0
        for k in range(n):
            t = t0[i] + offset_ns[k]
            tk = np.uint64(t)
            p = 0.0
            if not loss_on:
                pass
            elif disturbance_on:
                x = t - slot_offset_ns
                slot = (x + period_ns // 2) // period_ns
                if not (have_slot and slot == seen_slot):
                    centre = (_uniform1(_mix1(zd + _GOLDEN + np.uint64(slot))) - 0.5) * spread_ns
                    seen_slot, have_slot = slot, True
                dist = np.float64(x - slot * period_ns) - centre
                if dist >= -disturbance_ns / 2.0 and dist < disturbance_ns / 2.0:
                    p = disturbance_loss
            if outage_on and loss_on:
                second = t // NS_PER_S
                if not (have_second and second == seen_second):
                    seen_out = False
                    for back in range(outage_duration_s):
                        if _uniform1(_mix1(zo + _GOLDEN + np.uint64(second - back))) < outage_p_start:
                            seen_out = True
                    seen_second, have_second = second, True
                if seen_out:
                    p = 1.0
            if p >= 1.0:
                lost = True
            elif p > 0.0:
                lost = _uniform1(_mix1(zl + _GOLDEN + tk)) < p
            else:
                lost = False
            if lost:
                n_lost[i] += 1
                rtt[i, k] = 0.0
                continue
            mac = 0.0
            if mac_on:
                up = _uniform1(_mix1(zu + _GOLDEN + tk))
                down = _uniform1(_mix1(zw + _GOLDEN + tk))
                mac = frame_ms * (up + grant_frames + down)
            acc = prop[i] + mac
            acc = acc + processing
            acc = acc + laser[i]
            acc = acc + queue[i]
            acc = acc + target[i]
            rtt[i, k] = acc + jitter[i, k]
    return rtt, n_lost


try:  # numba compiles the kernels once per machine (cached on disk)
    from numba import njit

    _mix1 = njit(cache=True, nogil=True)(_mix1)
    _uniform1 = njit(cache=True, nogil=True)(_uniform1)
    _jitter_uniforms_fast = njit(cache=True, nogil=True)(_jitter_uniforms)
    _ping_kernel_fast = njit(cache=True, nogil=True)(_ping_kernel)
    COMPILED = True
except ImportError:  # pragma: no cover - numba is a dependency
    COMPILED = False


def _prefix(seed: int, stream: str) -> np.uint64:
    """The (seed, stream) hash every draw of ``stream`` starts from."""
    return np.uint64(hash_u64(seed, stream))


def dish_second(dish_ids, t_ns, seed: int, propagation_ms, *, offered_bps=0.0, rate_bps=np.inf,
                pop_target_ms=0.0, isl_hops=0, params=None):
    """:func:`leonet.service.latency.dish_second` (same arguments, same values to the bit): the
    mean RTT of the second's pings that came back (NaN when none did) and the share lost, (...)."""
    from .latency import DEFAULT_LATENCY, dish_second as dish_second_numpy

    params = DEFAULT_LATENCY if params is None else params
    if not COMPILED:  # pragma: no cover - numba is a dependency
        return dish_second_numpy(dish_ids, t_ns, seed, propagation_ms, offered_bps=offered_bps, rate_bps=rate_bps,
                                 pop_target_ms=pop_target_ms, isl_hops=isl_hops, params=params)
    n = int(params.pings_per_s)
    offset_ns = ((np.arange(n) + 0.5) * (NS_PER_S / n)).astype(np.int64)       # as the reference's ping times
    kept_rtt, n_lost = _pings(dish_ids, t_ns, seed, propagation_ms, offered_bps, rate_bps, pop_target_ms, isl_hops,
                              params, offset_ns, True)
    received = n - n_lost
    with np.errstate(invalid="ignore"):   # the reference's mean: numpy's sums of the same values
        latency = np.where(received > 0, kept_rtt.sum(axis=-1) / np.maximum(received, 1), np.nan)
    return latency, n_lost / n


def ping_rtt_ms(dish_ids, t_ns, seed: int, propagation_ms, *, offered_bps=0.0, rate_bps=np.inf,
                pop_target_ms=0.0, isl_hops=0, params=None) -> np.ndarray:
    """:func:`leonet.service.latency.rtt_ms` (same arguments, same values to the bit): one ping's
    RTT at ``t_ns``, ms, drawn by the kernel (needs numba: :data:`COMPILED`)."""
    from .latency import DEFAULT_LATENCY, rtt_ms

    params = DEFAULT_LATENCY if params is None else params
    if not COMPILED:  # pragma: no cover - numba is a dependency
        return rtt_ms(dish_ids, t_ns, seed, propagation_ms, offered_bps=offered_bps, rate_bps=rate_bps,
                      pop_target_ms=pop_target_ms, isl_hops=isl_hops, params=params)
    rtt, _ = _pings(dish_ids, t_ns, seed, propagation_ms, offered_bps, rate_bps, pop_target_ms, isl_hops, params,
                    np.zeros(1, dtype=np.int64), False)
    return rtt[..., 0]


def _pings(dish_ids, t_ns, seed, propagation_ms, offered_bps, rate_bps, pop_target_ms, isl_hops, params,
           offset_ns, loss_on: bool):
    """RTT (..., n) of pings at ``t_ns + offset_ns`` (0 where lost) and the pings lost (...)."""
    from . import latency as L

    n = len(offset_ns)
    arrays = np.broadcast_arrays(np.asarray(dish_ids, dtype=np.int64), np.asarray(t_ns, dtype=np.int64),
                                 np.asarray(propagation_ms, dtype=float), np.asarray(offered_bps, dtype=float),
                                 np.asarray(rate_bps, dtype=float), np.asarray(pop_target_ms, dtype=float),
                                 np.asarray(isl_hops, dtype=float))
    shape = arrays[0].shape
    # copies: a broadcast view handed to a compiled kernel draws numba's FutureWarning on its flags
    dish, t0, prop, offered, rate, target, hops = (a.reshape(-1).copy() for a in arrays)
    processing = float(L.processing_ms(params))
    laser = np.ascontiguousarray(L.laser_hops_ms(hops, params), dtype=float)
    queue = np.ascontiguousarray(L.queueing_ms(offered, rate, params), dtype=float)
    target = target if params.target_on else np.zeros(len(dish))
    if params.jitter_on:
        jitter = -params.jitter_mean_ms * np.log(_jitter_uniforms_fast(dish, t0, offset_ns, _prefix(seed, "latency.jitter")))
    else:
        jitter = np.zeros((len(dish), n))
    period_ns = int(round(params.slot_period_s * NS_PER_S))
    slot_offset_ns = int(round(params.slot_offset_s * NS_PER_S))
    outage_on = bool(params.outages_on and params.outage_time_fraction != 0)
    rtt, n_lost = _ping_kernel_fast(
        dish, t0, offset_ns, prop, processing, laser, queue, target, np.ascontiguousarray(jitter),
        _prefix(seed, "latency.loss"), _prefix(seed, "latency.outage"), _prefix(seed, "latency.mac.up"),
        _prefix(seed, "latency.mac.down"), _prefix(seed, "latency.disturbance"),
        bool(params.mac_on), float(params.frame_period_ms), float(params.uplink_grant_frames),
        bool(params.reconfiguration_on), period_ns, slot_offset_ns, float(params.disturbance_ms * L.NS_PER_MS),
        float(params.disturbance_loss), float(params.disturbance_spread_s * NS_PER_S),
        outage_on, int(params.outage_duration_s), float(params.outage_time_fraction / params.outage_duration_s),
        bool(loss_on))
    return rtt.reshape(shape + (n,)), n_lost.reshape(shape)
