"""The counter-based RNG (leonet.service.rng): uniform, keyed, independent streams."""

import numpy as np
from scipy import stats

from leonet.service.rng import hash_u64, uniform


def test_uniform_and_pure():
    u = uniform(1, "a", np.arange(200_000))
    assert (u > 0).all() and (u < 1).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    np.testing.assert_array_equal(u[12345:12350], uniform(1, "a", np.arange(12345, 12350)))
    # Keys broadcast: (T, 1) x (D,) gives the same values as elementwise.
    grid = uniform(1, "b", np.arange(5)[:, None], np.arange(7))
    assert grid.shape == (5, 7) and grid[3, 4] == uniform(1, "b", 3, 4)


def test_streams_seeds_and_keys_are_independent():
    k = np.arange(100_000)
    a, b, c = uniform(1, "a", k), uniform(1, "b", k), uniform(2, "a", k)
    for x, y in ((a, b), (a, c), (a, uniform(1, "a", k + 1)), (a, uniform(1, "a", k, 0))):
        assert abs(stats.pearsonr(x, y)[0]) < 0.02
    assert hash_u64(1, "a", 5, 6) != hash_u64(1, "a", 6, 5)     # key order matters
    assert len(np.unique(hash_u64(0, "x", k))) == k.size
