"""The one ISO 8601 formatter (leonet.timeutil.ns_to_iso / ns_to_iso_array), used by the app's API,
the CSV and CZML exports and error messages: read back by pandas' parser (not ours) it gives the
same nanosecond, and a fraction of a second is written only when the instant has one."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from hypothesis import given, strategies as st

from leonet.timeutil import ns_to_iso, ns_to_iso_array, utc_to_ns

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.(\d{3}|\d{6}|\d{9}))?Z$")
START_NS = utc_to_ns("2022-03-01T12:00:00Z")


def test_whole_seconds_have_no_fraction_and_others_the_shortest():
    # The app's API and its tests expect "2022-03-01T12:00:59Z" for a whole second.
    assert ns_to_iso(START_NS + 59 * 10**9) == "2022-03-01T12:00:59Z"
    assert ns_to_iso(START_NS + 500_000_000) == "2022-03-01T12:00:00.500Z"
    assert ns_to_iso(START_NS + 1_000) == "2022-03-01T12:00:00.000001Z"
    assert ns_to_iso(START_NS + 1) == "2022-03-01T12:00:00.000000001Z"
    assert isinstance(ns_to_iso(np.int64(START_NS)), str)


def test_an_array_shares_one_unit_and_keeps_missing_instants_missing():
    t = np.array([START_NS, START_NS + 250_000_000, np.iinfo(np.int64).min], dtype=np.int64)
    assert list(ns_to_iso_array(t)) == ["2022-03-01T12:00:00.000Z", "2022-03-01T12:00:00.250Z", None]


@given(st.integers(min_value=0, max_value=4_102_444_800 * 10**9))  # 1970 .. 2100
def test_pandas_reads_back_the_same_nanosecond(t_ns):
    text = ns_to_iso(t_ns)
    assert ISO.match(text), text
    assert pd.Timestamp(text).value == t_ns
