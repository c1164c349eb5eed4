"""A speed test as a window-limited TCP transfer (leonet.service.transfer)."""

import numpy as np
import pytest

from leonet.service.spec import ServiceSpec
from leonet.service.transfer import DEFAULT_WINDOW_BYTES, LINUX_DESKTOP_WINDOW_BYTES, transfer_bps, window_limited_bps


def test_default_window_is_half_of_android_wifi_rmem_max():
    # Android net.tcp.buffersize.wifi receive max 4194304 bytes, tcp_adv_win_scale 1 (half advertised)
    assert DEFAULT_WINDOW_BYTES == 2 * 1024 * 1024
    assert LINUX_DESKTOP_WINDOW_BYTES == 3 * 1024 * 1024
    assert ServiceSpec().speed_test.tcp_window_bytes == DEFAULT_WINDOW_BYTES


def test_bandwidth_delay_product_by_hand():
    # 2 MiB over 50 ms: 16,777,216 bit / 0.05 s = 335.54 Mbps; over 170 ms: 98.69 Mbps
    assert window_limited_bps(DEFAULT_WINDOW_BYTES, 50.0) == pytest.approx(335_544_320.0, rel=1e-12)
    assert window_limited_bps(DEFAULT_WINDOW_BYTES, 170.0) == pytest.approx(98_689_505.9, rel=1e-9)
    assert window_limited_bps(65_535, 100.0, connections=4) == pytest.approx(4 * 65_535 * 8 / 0.1)


def test_transfer_is_the_smaller_limit_and_keeps_unserved_rows():
    link = np.array([300e6, 300e6, 50e6, 300e6])
    rtt = np.array([30.0, 200.0, 200.0, np.nan])
    got = transfer_bps(link, rtt, DEFAULT_WINDOW_BYTES)
    assert got[0] == 300e6                                   # the link binds
    assert got[1] == pytest.approx(DEFAULT_WINDOW_BYTES * 8 / 0.2)  # the window binds
    assert got[2] == 50e6
    assert got[3] == 300e6                                   # no RTT: nothing to limit
    np.testing.assert_array_equal(transfer_bps(link, rtt, None), link)


def test_rate_falls_as_one_over_rtt():
    rtt = np.array([20.0, 40.0, 80.0, 160.0])
    rate = window_limited_bps(1_000_000, rtt)
    np.testing.assert_allclose(rate * rtt, rate[0] * rtt[0])


def test_bad_window_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="tcp_window_bytes"):
        ServiceSpec(speed_test={"tcp_window_bytes": 10})
    with pytest.raises(ValidationError, match="connections"):
        ServiceSpec(speed_test={"connections": 0})


def test_upload_window_is_half_of_android_wifi_wmem_max():
    """The upload's data in flight: Android's Wi-Fi send buffer maximum (the sixth number of
    net.tcp.buffersize.wifi = 524288,2097152,4194304,262144,524288,1048576), half of it data."""
    from leonet.service.transfer import DEFAULT_UPLOAD_WINDOW_BYTES

    wifi = [int(x) for x in "524288,2097152,4194304,262144,524288,1048576".split(",")]
    assert DEFAULT_UPLOAD_WINDOW_BYTES == wifi[5] // 2 == 524_288
    assert ServiceSpec().speed_test.upload_window_bytes == DEFAULT_UPLOAD_WINDOW_BYTES
    assert ServiceSpec(speed_test={"upload_window_bytes": None}).speed_test.upload_window_bytes is None
    # 170 ms from the PoP (Starlink's far countries): at most ~25 Mbps up
    assert window_limited_bps(DEFAULT_UPLOAD_WINDOW_BYTES, np.array([170.0]))[0] == pytest.approx(24.67e6, rel=1e-3)
