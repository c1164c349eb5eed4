"""Availability, quality apart, Starlink's quality percentiles (leonet.service.quality), and the
proposed service schema (leonet.service.spec)."""

import numpy as np
import pytest
from pydantic import ValidationError

from leonet import states
from leonet.errors import InputError
from leonet.service.quality import (availability, is_outage_code, p10_speed_bps, quality_percentile,
                                    share_below)
from leonet.service.spec import ServiceSpec

C = {s.name: s.code for s in states.STATES}


def test_congested_counts_as_available_and_outages_do_not():
    codes = np.array([[C["CONNECTED"], C["CONGESTED"], C["NO_SATS"], C["SOLD_OUT"]]] * 3)   # (T, D)
    np.testing.assert_allclose(availability(codes, axis=0), [1, 1, 0, 0])
    assert is_outage_code(C["JAMMED"]) and not is_outage_code(C["CONGESTED"])
    with pytest.raises(InputError, match="state codes"):
        availability([99])


def test_quality_apart_from_availability():
    rate = np.array([100e6, 3e6, 0.0, 50e6])
    codes = np.array([C["CONNECTED"], C["CONGESTED"], C["OFFLINE"], C["CONNECTED"]])
    # Online steps: 100, 3, 50 -> one of three below 10 Mbps; the outage step is not quality.
    assert share_below(rate, 10e6, codes) == pytest.approx(1 / 3)
    assert p10_speed_bps(rate, codes) == pytest.approx(np.percentile([100e6, 3e6, 50e6], 10))


def test_starlink_percentile_convention_on_its_published_ukraine_figures():
    # Starlink, Ukraine Jan 2024: latency p20/p50/p80 74.6 / 60.4 / 52.7 ms (p20 the worse, i.e.
    # highest); download 42.6 / 153.4 / 223.8 Mbps (p20 the lowest). A sample with those
    # ordinary percentiles must read back in that order.
    lat = np.r_[np.full(20, 52.7), np.full(30, 60.4), np.full(30, 60.4), np.full(20, 74.6)]
    assert quality_percentile(lat, 20, "latency") > quality_percentile(lat, 50, "latency") > quality_percentile(lat, 80, "latency")
    assert quality_percentile(lat, 20, "latency") == pytest.approx(np.percentile(lat, 80))
    down = np.linspace(0, 300, 1001)
    assert quality_percentile(down, 20, "download") == pytest.approx(60.0)
    assert quality_percentile(down, 50, "download") == quality_percentile(down, 50, "latency")
    assert np.isnan(quality_percentile([np.nan, np.nan], 50, "latency"))
    assert quality_percentile([1.0, np.nan, 3.0], 50, "latency") == 2.0


def test_service_schema():
    s = ServiceSpec.model_validate({"enabled": True, "kit": "mini",
                                    "traffic": {"period_s": 30, "shares": {"browsing": 0.7, "video": 0.3}},
                                    "latency": {"jitter": False, "target": "Frankfurt"},
                                    "background": {"enabled": True, "as_of": "2023-12-01", "countries": ["ua", "pl"]},
                                    "admission": {"enabled": True, "order": "seeded"}})
    t = s.traffic.to_params()
    assert t.period_s == 30 and [u.share for u in t.uses] == [0.7, 0.3, 0.0, 0.0]
    lat = s.latency.to_params()
    assert not lat.jitter_on and lat.mac_on and lat.target_on
    assert ServiceSpec().latency.to_params().target_on is False          # the PoP itself
    assert s.background.countries == ["UA", "PL"]
    for bad, field in (({"kit": "standrd"}, "kit"), ({"traffic": {"shares": {"browsing": 0.2}}}, "traffic"),
                       ({"background": {"countries": ["Ukraine"]}}, "background"),
                       ({"admission": {"order": "random"}}, "admission"), ({"speed": 1}, "speed")):
        with pytest.raises(ValidationError, match=field):
            ServiceSpec.model_validate(bad)
