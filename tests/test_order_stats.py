"""Exact order statistics by radix selection equal a full sort (issue 15, item 3: streaming report)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from leonet.results.order_stats import ecdf_points, order_statistics, sortable_keys, values_of_keys


def chunked(values: np.ndarray, n_chunks: int):
    return lambda: iter(np.array_split(values, n_chunks))


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 300), elements=st.floats(width=32, allow_nan=False)),
       st.integers(1, 5), st.data())
def test_order_statistics_equal_sort(values, n_chunks, data):
    ranks = np.array(data.draw(st.lists(st.integers(0, len(values) - 1), min_size=1, max_size=20)))
    got = order_statistics(chunked(values, n_chunks), ranks)
    want = np.sort(values)[ranks]
    assert np.array_equal(got, want)  # -0.0 == 0.0: compare bits where they must agree
    assert np.array_equal(got[want != 0].view(np.uint32), want[want != 0].view(np.uint32))


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 50), elements=st.floats(width=32, allow_nan=False)))
def test_keys_round_trip_and_order(values):
    keys = sortable_keys(values)
    assert np.array_equal(values_of_keys(keys).view(np.uint32), values.view(np.uint32))
    assert np.array_equal(np.sort(values), values_of_keys(np.sort(keys)))


@pytest.mark.parametrize("n, points, p_inf", [(10, 600, 0.0), (100_000, 600, 0.2), (5_000, 7, 0.0), (3, 600, 1.0)])
def test_ecdf_equals_sorted_reference(n, points, p_inf):
    rng = np.random.default_rng(n)
    values = rng.gamma(4.0, 20.0, n).astype(np.float32)
    values[rng.random(n) < 0.3] = np.float32(50.0)  # heavy ties
    values[rng.random(n) < p_inf] = np.inf
    x, y, n_finite = ecdf_points(chunked(values, 7), points)
    assert n_finite == int(np.isfinite(values).sum())
    v = np.sort(values[np.isfinite(values)].astype(np.float64))  # the report's former _ecdf
    if len(v) == 0:
        assert len(x) == 0 and len(y) == 0
        return
    idx = np.unique(np.linspace(0, len(v) - 1, min(len(v), points)).round().astype(np.int64))
    assert np.array_equal(x, v[idx].astype(np.float32)) and x.dtype == np.float32
    assert np.array_equal(y, ((idx + 1) / len(v)).astype(np.float32))
