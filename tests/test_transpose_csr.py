"""The tracker's compiled CSR transpose (the reversed graph it repairs on) against scipy's
``matrix.T.tocsr()``, which it replaces: same arrays, columns sorted within each row."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.network.incremental import _transpose_fast

from test_incremental import hypatia_graphs


def transposed(matrix):
    n, nnz = matrix.shape[0], matrix.nnz
    t_ptr, t_idx, t_w = np.empty(n + 1, np.int64), np.empty(nnz, np.int32), np.empty(nnz, np.float64)
    _transpose_fast(n, matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data, t_ptr, t_idx, t_w)
    return t_ptr, t_idx, t_w


def assert_same(matrix):
    ref = matrix.T.tocsr()
    t_ptr, t_idx, t_w = transposed(matrix)
    assert np.array_equal(t_ptr, ref.indptr) and np.array_equal(t_idx, ref.indices) and np.array_equal(t_w, ref.data)
    assert ref.has_sorted_indices


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 40), st.floats(0.0, 0.5), st.integers(0, 2**32 - 1))
def test_random_matrices(n, density, seed):
    m = sp.random(n, n, density=density, format="csr", random_state=np.random.default_rng(seed))
    m.sort_indices()
    assert_same(m)


def test_hypatia_graphs():
    graphs, *_ = hypatia_graphs(3)
    for g in graphs:
        assert_same(g)
