"""How fast one TCP transfer can go: the receive window over the round trip.

A TCP sender may have at most one receive window of data unacknowledged, so a transfer moves at
most ``window / RTT`` however fast the link is (the bandwidth-delay product limit). On a
satellite path the RTT is long enough for this to bind below the dish's own rate: with the
default window below, 3 MiB, a transfer over 50 ms can reach 503 Mbps (the dish's cap binds
first) but over 170 ms only 148 Mbps.

Why this is in the service model: Starlink's published per-country download speeds fall with
the country's latency (across the 39 countries of Jan 2024, download p80 ~ latency^-0.35; the
countries ~170 ms from their PoP measure 100-145 Mbps however lightly loaded), which a
link-limited test would not show and a window-limited transfer does.

Parameters (:class:`leonet.service.spec.SpeedTestSpec`)
    tcp_window_bytes = 3 MiB: Linux's default largest receive buffer is ``tcp_rmem`` max
    6 MiB (6,291,456 bytes) and ``tcp_adv_win_scale = 1`` advertises half of it as the window
    (Linux kernel documentation, networking/ip-sysctl.rst). **Assumption:** the measured transfer
    is one connection with that window (a test over N parallel connections has N windows:
    ``connections``).
"""

from __future__ import annotations

import numpy as np

#: Linux's default tcp_rmem maximum (bytes) and the share of it advertised as the window.
LINUX_RMEM_MAX_BYTES = 6_291_456
LINUX_ADVERTISED_SHARE = 0.5
DEFAULT_WINDOW_BYTES = int(LINUX_RMEM_MAX_BYTES * LINUX_ADVERTISED_SHARE)


def window_limited_bps(window_bytes: float, rtt_ms: np.ndarray, connections: int = 1) -> np.ndarray:
    """Largest rate of ``connections`` TCP transfers, each with ``window_bytes`` of receive
    window, over a round trip of ``rtt_ms`` (any shape, ms): ``connections x window x 8 / RTT``,
    bit/s. A non-positive or NaN RTT gives NaN (no transfer)."""
    rtt_s = np.asarray(rtt_ms, dtype=np.float64) / 1e3
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = connections * float(window_bytes) * 8.0 / rtt_s
    return np.where(rtt_s > 0, rate, np.nan)


def transfer_bps(link_bps: np.ndarray, rtt_ms: np.ndarray, window_bytes: float | None,
                 connections: int = 1) -> np.ndarray:
    """What a TCP transfer measures: the smaller of the rate the link gives it (``link_bps``,
    bit/s) and the window limit at ``rtt_ms``; ``window_bytes`` None: the link rate alone. Where
    the RTT is NaN (no service) the link rate is kept as it is."""
    link = np.asarray(link_bps, dtype=np.float64)
    if window_bytes is None:
        return link
    limit = window_limited_bps(window_bytes, rtt_ms, connections)
    return np.where(np.isfinite(limit), np.minimum(link, limit), link)
