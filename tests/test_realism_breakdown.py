"""leonet.realism.breakdown on a table small enough to count by hand."""

import numpy as np
import pandas as pd
import pytest

from leonet.realism.breakdown import home_pop_rows


def test_rows_counted_by_hand():
    # sites: two dishes homed at PoP 4 (weights 3 and 1), one at PoP 5 (weight 2); gateways 2 and 3
    sites = pd.DataFrame({"name": ["d0", "d1", "GW-A", "GW-B", "P4", "P5", "d2"]})
    weights = np.array([3.0, 1.0, 0, 0, 0, 0, 2.0])
    steps = pd.DataFrame({
        "site":     [0, 0, 1, 1, 6, 6],
        "home_pop": [4, 4, 4, 4, 5, 5],
        "pop":      [4, 4, 5, -1, 5, 5],
        "gateway":  [2, 3, 2, -1, 3, 3],
        "rtt_ms":   [30.0, 50.0, 40.0, np.nan, 60.0, 70.0],
        "propagation_rtt_ms": [12.0, 30.0, 20.0, np.nan, 41.0, 45.0],
        "speedtest_down_bps": [100e6, 200e6, 150e6, 0.0, 80e6, 90e6],
        "speedtest_up_bps": [10e6] * 6,
        "isl_hops": [0, 2, 1, -1, 3, 3],
        "state": ["CONNECTED", "CONNECTED", "CONGESTED", "NO_PATH", "CONNECTED", "CONNECTED"],
    })
    rows = {r["home_pop"]: r for r in home_pop_rows("XYZ", sites, steps, weights, {4: "pop4", 5: "pop5"})}
    a, b = rows["pop4"], rows["pop5"]
    assert a["country"] == "XYZ" and a["subscriber_share"] == pytest.approx(4 / 6) and b["subscriber_share"] == pytest.approx(2 / 6)
    # dish-step weights 3, 3, 1, 1: one of 8 is an outage
    assert a["connected_share"] == pytest.approx(7 / 8) and b["connected_share"] == 1.0
    # GW-A carries 3 + 1 of the 7 connected weight, GW-B 3
    assert a["landing"] == "GW-A 57%; GW-B 43%" and b["landing"] == "GW-B 100%"
    assert a["laser_hops_mean"] == pytest.approx((3 * 0 + 3 * 2 + 1 * 1) / 7) and b["laser_hops_mean"] == 3.0
    assert a["at_home_pop_share"] == pytest.approx(6 / 7) and b["at_home_pop_share"] == 1.0
    # weighted p50 of 30 (3), 50 (3), 40 (1): 40 ms lies at the middle of the 7; the outage not counted
    assert a["latency_p50_ms"] == pytest.approx(40.0) and a["download_p50_mbps"] == pytest.approx(150.0)
    # the route alone: 12 (3), 30 (3), 20 (1) -> 20 ms at the middle
    assert a["propagation_p50_ms"] == pytest.approx(20.0) and 41.0 <= b["propagation_p50_ms"] <= 45.0
    assert 60.0 <= b["latency_p50_ms"] <= 70.0


def test_no_connected_step_gives_no_landing():
    sites = pd.DataFrame({"name": ["d0", "P1"]})
    steps = pd.DataFrame({"site": [0], "home_pop": [1], "pop": [-1], "gateway": [-1], "rtt_ms": [np.nan], "propagation_rtt_ms": [np.nan],
                          "speedtest_down_bps": [0.0], "speedtest_up_bps": [0.0], "isl_hops": [-1], "state": ["NO_PATH"]})
    (row,) = home_pop_rows("XYZ", sites, steps, np.array([1.0, 0.0]), {1: "p1"})
    assert row["landing"] == "-" and row["connected_share"] == 0.0 and np.isnan(row["laser_hops_mean"])
    assert np.isnan(row["propagation_p50_ms"])
