"""Demand as traffic, not a fluid: on/off dishes, a diurnal profile, a mix of uses; speed tests.

The traffic model
-----------------
Time is cut into periods of ``period_s`` (each dish's periods shifted by its own random phase,
so dishes do not all change at once). In each period a dish is either off or on; when on, it is
doing one *use* (browsing, video streaming, a video call or a bulk download), each with its own
rate down and up. The probability of being on follows local solar time (longitude / 15 h from
UTC) through a diurnal profile with its busy hour in the evening and its trough before dawn.
Every draw is a pure function of (seed, dish id, period index) through :mod:`.rng`, so any time
chunking gives the same values.

A site standing for N dishes draws its aggregate at once, exactly: the number of dishes on is
``Binomial(N, p_on(t))`` and the split of those over the uses is multinomial (as successive
conditional binomials), both drawn by inverting their CDFs at counter-RNG uniforms. Its demand
is then ``sum over uses of count x rate``, which has exactly the distribution of the sum of N
independent single-dish processes at that instant (the same mean and variance). A single dish
is the case N = 1.

A bulk download is elastic: its rate is the dish's terminal cap (it takes what it can get, and
never more than the dish carries); every other use's rate is also clipped at the cap.

Speed tests
-----------
A multi-connection speed test (Ookla opens several TCP connections) saturates the dish: it is
the dish's flow with its demand raised to the terminal cap, competing with whatever else is
active at that moment. The exact measurement is a max-min re-run with that one demand changed;
:func:`speed_test_bps` computes instead, for many probing dishes at once and without re-running,
the *water level* each probe reaches on each link of its route against the other flows' current
rates, ``x`` such that ``sum_i w_i min(r_i, x) + w_p x = C`` (the probe's own current flow
replaced by the probe), and takes the lowest over its route and its cap. Other flows on a link
can only lose to the probe, so their current rates bound them; the result equals the max-min
re-run whenever the flows sharing the probe's bottleneck are held by their demand or by that
same link (the usual case: a dish's beam or terminal); in general it is an estimate (a flow
slowed by the probe might free capacity elsewhere that the re-run hands on). The tests compare it
with re-running :func:`leonet.capacity.maxmin.max_min_fair` one probe at a time, on random
dish-beam-gateway trees and on random weighted networks: equal within 1e-9 in every case tried.
One call handles every probing dish at once (each alone, as if only it were testing), in
O(pairs x log(flows per link)), with no max-min re-run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from .rng import uniform

NS_PER_S = 1_000_000_000
NS_PER_HOUR = 3_600 * NS_PER_S


@dataclass(frozen=True)
class Use:
    """One kind of use while a dish is on.

    share : fraction of a dish's on-time spent on this use (the shares sum to 1).
    down_bps, up_bps : its rate while on, bps; ``inf`` for elastic (takes the terminal cap).
    """

    name: str
    share: float
    down_bps: float
    up_bps: float


#: Uses and their on-rates. Assumptions, of the order of published application guidance:
#: browsing 3 / 0.5 Mbps (web pages average a few Mbps while loading); video streaming 8 / 0.3 Mbps
#: (Netflix recommends 5 Mbps for HD and 15 for 4K); video call 3 / 3 Mbps (Zoom's recommended
#: group HD video: about 3 Mbps each way); bulk download elastic down / 1 Mbps up (ACKs, sync).
#: Shares of on-time (assumption): browsing 50 %, video 40 %, calls 9 %, bulk 1 %.
DEFAULT_USES: tuple[Use, ...] = (
    Use("browsing", 0.50, 3e6, 0.5e6),
    Use("video", 0.40, 8e6, 0.3e6),
    Use("video_call", 0.09, 3e6, 3e6),
    Use("bulk", 0.01, np.inf, 1e6),
)

#: Relative activity by local solar hour (value at the start of each hour, linear in between,
#: busy hour = 1). Assumption with the published shape of residential broadband traffic: a
#: trough around 04:00 at about a fifth of the peak, a slow rise through the day and the busy
#: hour at 20-22 (e.g. Feldmann et al., "The Lockdown Effect", IMC 2020, ISP and IXP diurnal
#: curves; the values themselves are leonet's).
DEFAULT_DIURNAL: tuple[float, ...] = (
    0.70, 0.50, 0.35, 0.25, 0.20, 0.22, 0.30, 0.40, 0.48, 0.53, 0.57, 0.60,
    0.63, 0.64, 0.65, 0.67, 0.70, 0.75, 0.82, 0.90, 0.97, 1.00, 0.95, 0.85,
)


@dataclass(frozen=True)
class TrafficParams:
    """Parameters of the on/off traffic model (all assumptions; see the module docstring).

    period_s : length of an on/off period, s (60: activity changes on the scale of minutes).
    busy_hour_on_share : probability that a dish is on at the busy hour (0.5).
    uses : the mix of uses (:data:`DEFAULT_USES`).
    diurnal : 24 relative activity values by local solar hour (:data:`DEFAULT_DIURNAL`).
    """

    period_s: float = 60.0
    busy_hour_on_share: float = 0.5
    uses: tuple[Use, ...] = DEFAULT_USES
    diurnal: tuple[float, ...] = field(default=DEFAULT_DIURNAL)

    def __post_init__(self) -> None:
        if not self.period_s > 0:
            raise InputError(f"must be > 0 s, got {self.period_s}", "TrafficParams", "period_s")
        if not 0 <= self.busy_hour_on_share <= 1:
            raise InputError("must be in [0, 1]", "TrafficParams", "busy_hour_on_share")
        if len(self.diurnal) != 24 or min(self.diurnal) < 0 or max(self.diurnal) > 1:
            raise InputError("must be 24 values in [0, 1], one per local hour", "TrafficParams", "diurnal")
        shares = np.array([u.share for u in self.uses], dtype=np.float64)
        bad = [u for u in self.uses if not 0 <= u.share <= 1]   # NaN fails too
        if bad:
            raise InputError("each use share must be within 0..1, got " + ", ".join(f"{u.name} {u.share:g}" for u in bad),
                             "TrafficParams", "uses")
        if not self.uses or not abs(shares.sum() - 1) <= 1e-9:
            raise InputError(f"use shares must be >= 0 and sum to 1, got {shares.sum():g}", "TrafficParams", "uses")
        for k, u in enumerate(self.uses):
            if not (u.down_bps >= 0 and u.up_bps >= 0):
                raise InputError("rates must be >= 0 bps", "TrafficParams", f"uses[{k}]")

    @property
    def period_ns(self) -> int:
        return int(round(self.period_s * NS_PER_S))


DEFAULT_TRAFFIC = TrafficParams()


def local_solar_hour(lon_deg, t_ns) -> np.ndarray:
    """Local mean solar time, hours in [0, 24): UTC hour + longitude / 15 deg per hour.

    lon_deg : (...) degrees east; t_ns : (...) int64 ns since the Unix epoch (UTC). Broadcast.
    """
    utc_hour = (np.asarray(t_ns, dtype=np.int64) % (24 * NS_PER_HOUR)) / NS_PER_HOUR
    return np.mod(utc_hour + np.asarray(lon_deg, dtype=float) / 15.0, 24.0)


def diurnal_factor(local_hour, profile=DEFAULT_DIURNAL) -> np.ndarray:
    """Relative activity (busy hour = 1) at local solar hours (...), periodic linear
    interpolation of the 24 hourly values."""
    values = np.asarray(profile, dtype=float)
    hour = np.mod(np.asarray(local_hour, dtype=float), 24.0)
    return np.interp(hour, np.arange(25.0), np.append(values, values[0]))


def on_probability(lon_deg, t_ns, params: TrafficParams = DEFAULT_TRAFFIC) -> np.ndarray:
    """Probability that a dish is on at ``t_ns`` (broadcast with ``lon_deg``)."""
    return params.busy_hour_on_share * diurnal_factor(local_solar_hour(lon_deg, t_ns), params.diurnal)


def binomial_draws(u: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Binomial(n, p) draws by inverting the CDF at uniforms u (all arrays of one shape)."""
    out = np.zeros(u.shape, dtype=np.int64)
    p = np.clip(p, 0.0, 1.0)
    full = (p >= 1.0) & (n > 0)
    out[full] = n[full]
    live = (n > 0) & (p > 0.0) & ~full
    if live.any():
        from scipy import stats  # here, not at the top: scipy.stats costs ~0.4 s of every start-up (workers too)

        out[live] = stats.binom.ppf(u[live], n[live], p[live]).astype(np.int64)
    return out


def default_caps_bps(cap_down_bps=None, cap_up_bps=None) -> tuple:
    """The given caps, or the default kit's (``standard``, leonet/data/terminal_kits.csv) where None."""
    if cap_down_bps is None or cap_up_bps is None:
        from .kits import DEFAULT_KIT, kit_caps_bps

        down, up = kit_caps_bps(DEFAULT_KIT)
        cap_down_bps = float(down) if cap_down_bps is None else cap_down_bps
        cap_up_bps = float(up) if cap_up_bps is None else cap_up_bps
    return cap_down_bps, cap_up_bps


def period_index(dish_ids, t_ns, seed: int, params: TrafficParams = DEFAULT_TRAFFIC, *, stream: str = "traffic"):
    """(period index, period start ns) of each dish at ``t_ns``: periods of ``period_s`` shifted
    by a per-dish phase drawn from (seed, dish) (``stream``: as :func:`use_counts`). Broadcast shapes."""
    period_ns = params.period_ns
    offset_ns = _phase_offset_ns(dish_ids, seed, params, stream)
    index = (np.asarray(t_ns, dtype=np.int64) + offset_ns) // period_ns
    return index, index * period_ns - offset_ns


def _phase_offset_ns(dish_ids, seed: int, params: TrafficParams, stream: str = "traffic") -> np.ndarray:
    """Each dish's period phase, int64 ns in [0, period): drawn from (seed, dish)."""
    return (uniform(seed, f"{stream}.phase", np.asarray(dish_ids, dtype=np.int64)) * params.period_ns).astype(np.int64)


def demand_bps(dish_ids, n_dishes, lon_deg, t_ns, seed: int, *, cap_down_bps=None, cap_up_bps=None,
               params: TrafficParams = DEFAULT_TRAFFIC):
    """Offered traffic of each dish (or site standing for ``n_dishes`` dishes) at instants.

    Parameters
    ----------
    dish_ids : int array (D,), stable ids (a site's id keys its aggregate draw).
    n_dishes : int array (D,) or scalar, dishes each id stands for (1 for a dish).
    lon_deg : (D,) longitude, deg east (sets local solar time).
    t_ns : int64 scalar, (D,) or (T, 1) for a (T, D) result: UTC ns since the Unix epoch.
    seed : the run's seed.
    cap_down_bps, cap_up_bps : (D,) or scalar, the terminal cap of one dish (kit), bps: the rate
        of elastic uses and the ceiling of every use (None: the default kit's,
        :func:`default_caps_bps`).

    Returns
    -------
    down_bps, up_bps : float64 arrays, broadcast shape, offered load of the N dishes, bps
        (constant within each period; never above ``n_active`` x cap).
    n_active : int64 array, dishes on.
    """
    cap_down_bps, cap_up_bps = default_caps_bps(cap_down_bps, cap_up_bps)
    counts, n_active = use_counts(dish_ids, n_dishes, lon_deg, t_ns, seed, params=params)
    cap_down, cap_up = np.asarray(cap_down_bps, dtype=float), np.asarray(cap_up_bps, dtype=float)
    shape = np.broadcast_shapes(n_active.shape, cap_down.shape, cap_up.shape)
    counts = np.broadcast_to(counts, shape + counts.shape[-1:])
    down, up = _rates_bps(counts, cap_down, cap_up, params)
    return down, up, np.broadcast_to(n_active, shape).copy()


def _rates_bps(counts: np.ndarray, cap_down_bps, cap_up_bps, params: TrafficParams):
    """Offered (down_bps, up_bps) of the dishes on each use, ``counts`` (..., K): the sum over
    uses of count x the use's rate, every rate clipped at the terminal cap (broadcast with ``...``)."""
    shape = np.broadcast_shapes(counts.shape[:-1], np.shape(cap_down_bps), np.shape(cap_up_bps))
    down = np.zeros(shape)
    up = np.zeros(shape)
    for k, use in enumerate(params.uses):   # a handful of uses, not dishes
        down += counts[..., k] * np.minimum(use.down_bps, cap_down_bps)
        up += counts[..., k] * np.minimum(use.up_bps, cap_up_bps)
    return down, up


def use_counts(ids, n_dishes, lon_deg, t_ns, seed: int, *, params: TrafficParams = DEFAULT_TRAFFIC,
               stream: str = "traffic"):
    """How many of N dishes are on, and on which use, at instants: the draws of :func:`demand_bps`.

    ids : int array, stable keys of the draws (a dish or site, or a background cell with its own
        ``stream``); n_dishes : int array, dishes each key stands for; lon_deg : deg east (local
        time); t_ns : int64 ns UTC; all broadcast together. stream : prefix of the RNG streams
        (``"traffic"`` for the scenario's dishes; another name gives independent draws).

    Returns
    -------
    counts : int64 array (..., K), dishes on each of the K uses of ``params.uses`` (broadcast
        shape of the inputs, then K); n_active : int64 array (...), dishes on (the counts' sum).
    """
    ids, n, lon, t = np.broadcast_arrays(np.asarray(ids, dtype=np.int64), np.asarray(n_dishes, dtype=np.int64),
                                         np.asarray(lon_deg, dtype=float), np.asarray(t_ns, dtype=np.int64))
    if (n < 0).any():
        raise InputError("must be >= 0", location="n_dishes")
    index, start_ns = period_index(ids, t, seed, params, stream=stream)
    p_on = on_probability(lon, start_ns, params)          # constant over the period
    n_active = binomial_draws(uniform(seed, f"{stream}.on", ids, index), n, p_on)
    counts = np.zeros(n_active.shape + (len(params.uses),), dtype=np.int64)
    remaining = n_active.copy()
    share_left = 1.0
    for k, use in enumerate(params.uses):   # a handful of uses, not dishes
        if k == len(params.uses) - 1:
            count = remaining
        else:
            q = np.full(remaining.shape, use.share / share_left if share_left > 0 else 0.0)
            count = binomial_draws(uniform(seed, f"{stream}.use", ids, index, k), remaining, q)
        remaining = remaining - count
        share_left -= use.share
        counts[..., k] = count
    return counts, n_active


class PeriodUseCounts:
    """:func:`use_counts` of fixed keys (dishes, sites or background cells) at successive
    instants, each key's draw computed once per on/off period: the counts are a pure function of
    the key's period index (the draws, and ``p_on`` at the period's start), so only the keys whose
    period changed since the previous call are drawn again (about 1 in 60 per 1 s step with 60 s
    periods; all of them on the first call or after a jump). The values are :func:`use_counts`'s.

    ids, n_dishes, lon_deg : (D,) as :func:`use_counts`; stream : its RNG stream prefix.
    Safe to share between threads: the remembered state is replaced whole, never edited.
    """

    def __init__(self, ids, n_dishes, lon_deg, seed: int, *, params: TrafficParams = DEFAULT_TRAFFIC,
                 stream: str = "traffic"):
        self.ids, self.n_dishes, self.lon_deg = np.broadcast_arrays(
            np.asarray(ids, dtype=np.int64), np.asarray(n_dishes, dtype=np.int64), np.asarray(lon_deg, dtype=float))
        self.seed, self.params, self.stream = seed, params, stream
        self._offset_ns = _phase_offset_ns(self.ids, seed, params, stream)
        self._last = None     # (period index (D,), counts (D, K), n_active (D,))

    def __call__(self, t_ns: int):
        """(counts (D, K), n_active (D,)) of every key at instant ``t_ns`` (int ns, UTC): fresh arrays."""
        index = (np.int64(t_ns) + self._offset_ns) // self.params.period_ns     # as period_index
        last = self._last
        redo = None if last is None else np.flatnonzero(index != last[0])
        if redo is None or len(redo) == len(index):
            counts, n_on = use_counts(self.ids, self.n_dishes, self.lon_deg, t_ns, self.seed, params=self.params,
                                      stream=self.stream)
        else:
            counts, n_on = last[1].copy(), last[2].copy()
            if len(redo):
                counts[redo], n_on[redo] = use_counts(self.ids[redo], self.n_dishes[redo], self.lon_deg[redo], t_ns,
                                                      self.seed, params=self.params, stream=self.stream)
        self._last = (index, counts, n_on)
        return counts.copy(), n_on.copy()


class PeriodDemand:
    """:func:`demand_bps` of fixed dishes (or sites) at successive instants, each dish's draw
    computed once per on/off period (:class:`PeriodUseCounts`). The values are
    :func:`demand_bps`'s, to the bit.

    dish_ids, n_dishes, lon_deg, cap_down_bps, cap_up_bps : (D,) as :func:`demand_bps`.
    Safe to share between threads.
    """

    def __init__(self, dish_ids, n_dishes, lon_deg, seed: int, *, cap_down_bps, cap_up_bps,
                 params: TrafficParams = DEFAULT_TRAFFIC):
        self.dish_ids, self.n_dishes, self.lon_deg, self.cap_down_bps, self.cap_up_bps = (
            np.broadcast_arrays(np.asarray(dish_ids, dtype=np.int64), np.asarray(n_dishes, dtype=np.int64),
                                np.asarray(lon_deg, dtype=float), np.asarray(cap_down_bps, dtype=float),
                                np.asarray(cap_up_bps, dtype=float)))
        self.params = params
        self._counts = PeriodUseCounts(self.dish_ids, self.n_dishes, self.lon_deg, seed, params=params)

    def __call__(self, t_ns: int):
        """(down_bps, up_bps, n_active) of every dish at instant ``t_ns`` (int ns, UTC), (D,) each."""
        counts, n_on = self._counts(t_ns)
        down, up = _rates_bps(counts, self.cap_down_bps, self.cap_up_bps, self.params)
        return down, up, n_on


def mean_demand_bps(n_dishes, lon_deg, t_ns, *, cap_down_bps=None, cap_up_bps=None,
                    params: TrafficParams = DEFAULT_TRAFFIC):
    """Expected offered load (down_bps, up_bps) of N dishes at local time (broadcast shapes):
    ``N x p_on(t) x sum over uses of share x min(rate, cap)``."""
    cap_down_bps, cap_up_bps = default_caps_bps(cap_down_bps, cap_up_bps)
    p_on = on_probability(lon_deg, t_ns, params)
    down = sum(u.share * np.minimum(u.down_bps, np.asarray(cap_down_bps, float)) for u in params.uses)
    up = sum(u.share * np.minimum(u.up_bps, np.asarray(cap_up_bps, float)) for u in params.uses)
    n = np.asarray(n_dishes, dtype=float)
    return n * p_on * down, n * p_on * up


def busy_hour_demand_per_dish_bps(*, cap_down_bps=None, cap_up_bps=None,
                                  params: TrafficParams = DEFAULT_TRAFFIC) -> tuple[float, float]:
    """Mean offered load of one dish at the busy hour (diurnal factor 1), (down_bps, up_bps)."""
    cap_down_bps, cap_up_bps = default_caps_bps(cap_down_bps, cap_up_bps)
    down = sum(u.share * min(u.down_bps, cap_down_bps) for u in params.uses)
    up = sum(u.share * min(u.up_bps, cap_up_bps) for u in params.uses)
    return params.busy_hour_on_share * down, params.busy_hour_on_share * up


def speed_test_bps(routing, capacity_bps, rate_bps, probe_flow, probe_cap_bps, *,
                   alongside: bool = False) -> np.ndarray:
    """What a multi-connection speed test would measure for each probing flow (module docstring).

    Parameters
    ----------
    routing : scipy sparse (F, L), as given to ``max_min_fair`` (weights w > 0).
    capacity_bps : (L,) link capacities, bps (``inf`` allowed).
    rate_bps : (F,) the current allocation (``max_min_fair(...).rate_bps``) with the dishes'
        normal demands.
    probe_flow : int array (P,), the flow of each probing dish (its own flow, which the probe
        replaces: the test saturates the dish).
    probe_cap_bps : (P,) or scalar, the probing dish's terminal cap, bps (the test never reports
        more).
    alongside : False: the probe replaces the flow (a dish flow: the dish's own traffic becomes
        the test). True: the probe is one more flow on the same route and the flow keeps its
        rate as a competitor (a site flow standing for N dishes, one of which tests).

    Returns
    -------
    float64 array (P,), the rate each probe reaches, bps: the lowest over its route of the water
    level ``x`` with ``sum_i w_i min(r_i, x) + w_p x = C`` on each link, and its cap.
    Each probe is computed alone (probes do not compete with one another). The search runs in
    a compiled kernel (:mod:`.waterlevel`), equal to the bit to :func:`speed_test_bps_reference`.
    """
    from . import waterlevel

    if not waterlevel.COMPILED:  # pragma: no cover - numba is a dependency
        return speed_test_bps_reference(routing, capacity_bps, rate_bps, probe_flow, probe_cap_bps,
                                        alongside=alongside)
    pairs, sorted_rate, cum_wr, cum_w, cap = _speed_test_pairs(routing, capacity_bps, rate_bps, probe_flow,
                                                               probe_cap_bps, alongside)
    return waterlevel.water_levels(*pairs, sorted_rate, cum_wr, cum_w, cap)


def speed_test_bps_reference(routing, capacity_bps, rate_bps, probe_flow, probe_cap_bps, *,
                             alongside: bool = False) -> np.ndarray:
    """:func:`speed_test_bps` with the search as a vectorised bisection in numpy (the reference
    the compiled kernel is tested against; same arguments, same result to the bit)."""
    (pair_probe, s0, n_l, w_p, r_p, c), sorted_rate, cum_wr, cum_w, cap = _speed_test_pairs(
        routing, capacity_bps, rate_bps, probe_flow, probe_cap_bps, alongside)
    end = s0 + n_l

    def g(k):
        """Load on the link at x = the k-th smallest rate (k in 0..n_l-1), probe included."""
        e = s0 + k
        x = sorted_rate[e]
        before_wr = cum_wr[e] - cum_wr[s0]
        from_w = cum_w[end] - cum_w[e]
        return before_wr + x * from_w + w_p * np.maximum(x - r_p, 0.0)

    # Largest k with g(k) <= C (k = -1: none), by vectorised bisection over the sorted entries.
    lo = np.full(len(s0), -1, dtype=np.int64)
    hi = n_l.astype(np.int64)                       # g(hi) > C treated as true (hi = n_l: beyond)
    while True:
        active = hi - lo > 1
        if not active.any():
            break
        mid = (lo + hi) // 2
        ok = np.zeros(len(s0), dtype=bool)
        ok[active] = g(np.where(active, mid, 0))[active] <= c[active]
        lo = np.where(active & ok, mid, lo)
        hi = np.where(active & ~ok, mid, hi)
    k = lo + 1                                      # entries s0 .. s0+k-1 have r <= x
    s = cum_wr[s0 + k] - cum_wr[s0]
    w_rest = cum_w[end] - cum_w[s0 + k]
    with np.errstate(divide="ignore", invalid="ignore"):
        x_above = (c - s + w_p * r_p) / (w_rest + w_p)          # x >= r_p
        x_below = np.where(w_rest > 0, (c - s) / w_rest, np.inf)  # x < r_p (own flow still in w_rest)
    # The solution is whichever side of the kink at r_p is consistent; within rounding (or with
    # no other flow above x) it is the x >= r_p one.
    x = np.where((x_above >= r_p * (1 - 1e-9)) | (w_rest <= 0), x_above, x_below)
    x = np.where(np.isinf(c), np.inf, np.maximum(x, 0.0))

    out = cap.astype(float).copy()
    np.minimum.at(out, pair_probe, x)
    return out


def _speed_test_pairs(routing, capacity_bps, rate_bps, probe_flow, probe_cap_bps, alongside: bool):
    """What the water-level search needs (:func:`speed_test_bps`): per (probe, link) pair of the
    probes' routes its probe, the link's first entry and count in the link-major entries sorted by
    rate, the probe's weight, the rate it replaces and the link's capacity; the sorted rates; the
    prefix sums of weight x rate and of weight (before entry e: [e]); each probe's cap."""
    matrix = sp.csr_matrix(routing, dtype=np.float64)
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    n_flows, n_links = matrix.shape
    capacity_bps = np.asarray(capacity_bps, dtype=float)
    rate_bps = np.asarray(rate_bps, dtype=float)
    probe_flow = np.asarray(probe_flow, dtype=np.int64)
    cap = np.broadcast_to(np.asarray(probe_cap_bps, dtype=float), probe_flow.shape)
    if capacity_bps.shape != (n_links,) or rate_bps.shape != (n_flows,):
        raise InputError(f"capacity_bps must be ({n_links},) and rate_bps ({n_flows},)", location="speed_test_bps")
    if ((probe_flow < 0) | (probe_flow >= n_flows)).any():
        raise InputError(f"flow numbers must be in 0..{n_flows - 1}", location="probe_flow")

    # Link-major entries sorted by rate within each link, with prefix sums.
    csc = matrix.tocsc()
    link_of = np.repeat(np.arange(n_links), np.diff(csc.indptr))
    entry_rate = rate_bps[csc.indices]
    order = np.lexsort((entry_rate, link_of))
    sorted_rate = entry_rate[order]
    sorted_w = csc.data[order]
    starts = csc.indptr[:-1]
    counts = np.diff(csc.indptr)
    cum_wr = np.concatenate([[0.0], np.cumsum(sorted_w * sorted_rate)])   # before entry e: cum_wr[e]
    cum_w = np.concatenate([[0.0], np.cumsum(sorted_w)])

    # (probe, link) pairs from the probes' routes.
    rows = matrix[probe_flow]
    pair_probe = np.repeat(np.arange(len(probe_flow)), np.diff(rows.indptr))
    link = rows.indices
    w_p = rows.data
    r_p = np.zeros(len(pair_probe)) if alongside else rate_bps[probe_flow][pair_probe]
    c = capacity_bps[link]
    s0, n_l = starts[link], counts[link]
    return (pair_probe, s0, n_l, w_p, r_p, c), sorted_rate, cum_wr, cum_w, cap
