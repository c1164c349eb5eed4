"""How fast one TCP transfer can go: the receive window over the round trip.

A TCP sender may have at most one receive window of data unacknowledged, so a transfer moves at
most ``window / RTT`` however fast the link is (the bandwidth-delay product limit). On a
satellite path the RTT is long enough for this to bind below the dish's own rate: with the
default window below, 2 MiB, a transfer over 50 ms can reach 336 Mbps (the dish's cap binds
first) but over 170 ms only 99 Mbps.

Why this is in the service model: Starlink's published per-country download speeds fall with
the country's latency (across the 39 countries of Jan 2024, download p80 ~ latency^-0.35; the
countries ~170 ms from their PoP measure 100-145 Mbps however lightly loaded), which a
link-limited test would not show and a window-limited transfer does.

Parameters (:class:`leonet.service.spec.SpeedTestSpec`)
    tcp_window_bytes = 2 MiB: the test runs where Starlink users run it, in the Starlink app on a
    phone on the dish's Wi-Fi. Android sets a Wi-Fi network's TCP buffers from
    ``net.tcp.buffersize.wifi`` = ``524288,2097152,4194304,262144,524288,1048576`` (receive
    min/default/max, then send; the AOSP default, visible in ``dumpsys connectivity`` as
    ``TcpBufferSizes``): a 4 MiB receive buffer, of which Linux advertises half as the window
    (``tcp_adv_win_scale = 1``, Linux kernel documentation, networking/ip-sysctl.rst).
    **Assumption:** the measured transfer is one connection with that window (a test over N
    parallel connections has N windows: ``connections``). A desktop Linux client (``tcp_rmem``
    max 6 MiB) would have 3 MiB: :data:`LINUX_DESKTOP_WINDOW_BYTES`.

    A check that is not a fit: in Starlink's own per-country figures (Jan 2024) the ten countries
    more than 95 ms from their PoP have download p50 x latency p50 = 14.8-18.5 Mbit (median
    17.0), i.e. 1.8-2.2 MiB in flight, as a 2 MiB window predicts (16.8 Mbit).

    upload_window_bytes = 512 KiB: on the upload the phone sends, and what it may have in flight is
    bounded by its send buffer, ``net.tcp.buffersize.wifi``'s send maximum, 1 MiB (the same AOSP
    line). Linux charges a segment's whole buffer memory (its truesize, about twice the payload
    of a 1,448-byte segment) against that buffer. **Assumption:** half of it is data in flight,
    as half the receive buffer is the window. Over 170 ms that allows 25 Mbps (Starlink's
    published upload p50 of the countries ~160-190 ms from their PoP: 15-18 Mbps, Jan 2024).
"""

from __future__ import annotations

import numpy as np

#: Linux's share of the receive buffer advertised as the window (tcp_adv_win_scale = 1).
LINUX_ADVERTISED_SHARE = 0.5
#: Android's receive buffer maximum on Wi-Fi (net.tcp.buffersize.wifi, AOSP default), bytes.
ANDROID_WIFI_RMEM_MAX_BYTES = 4_194_304
#: Linux's default tcp_rmem maximum (bytes), for a desktop client.
LINUX_RMEM_MAX_BYTES = 6_291_456
LINUX_DESKTOP_WINDOW_BYTES = int(LINUX_RMEM_MAX_BYTES * LINUX_ADVERTISED_SHARE)
DEFAULT_WINDOW_BYTES = int(ANDROID_WIFI_RMEM_MAX_BYTES * LINUX_ADVERTISED_SHARE)
#: Android's send buffer maximum on Wi-Fi (net.tcp.buffersize.wifi, AOSP default), bytes.
ANDROID_WIFI_WMEM_MAX_BYTES = 1_048_576
#: Share of a Linux send buffer that is data in flight (a segment's truesize is about twice its
#: payload; **assumption**, by analogy with tcp_adv_win_scale = 1 on the receive side).
LINUX_SEND_BUFFER_DATA_SHARE = 0.5
DEFAULT_UPLOAD_WINDOW_BYTES = int(ANDROID_WIFI_WMEM_MAX_BYTES * LINUX_SEND_BUFFER_DATA_SHARE)


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
