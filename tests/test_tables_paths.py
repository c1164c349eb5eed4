"""The tables stage's path column from per-step (offsets, values) equals the former build from
padded matrices (issue 15: a chunk no longer holds its padded path matrices)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from leonet.network.paths import list_offsets_values, list_offsets_values_reference
from leonet.sim.stages.tables import _list_column


def padded_steps(rng, n_steps: int, m: int) -> list[np.ndarray]:
    out = []
    for _ in range(n_steps):
        width = int(rng.integers(0, 9))
        lengths = rng.integers(0, width + 1, m)
        mat = np.full((m, width), -1, dtype=np.int32)
        for i, n in enumerate(lengths):
            mat[i, :n] = rng.integers(0, 1584, n)
        out.append(mat)
    return out


def former(parts: list[np.ndarray]) -> pa.Array:
    """The column as built before: pad every step to the widest, concatenate, drop the padding."""
    width = max((p.shape[1] for p in parts), default=0)
    padded = [np.pad(p, ((0, 0), (0, width - p.shape[1])), constant_values=-1) for p in parts]
    offsets, values = list_offsets_values_reference(np.concatenate(padded) if padded else np.zeros((0, 0), np.int32))
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))


@pytest.mark.parametrize("seed, n_steps, m", [(1, 5, 40), (2, 1, 0), (3, 0, 0), (4, 12, 7)])
def test_compact_parts_equal_padded_build(seed, n_steps, m):
    parts = padded_steps(np.random.default_rng(seed), n_steps, m)
    want = former(parts)
    assert _list_column([list_offsets_values(p) for p in parts]).equals(want)
    assert _list_column(parts).equals(want)
    assert _list_column([list_offsets_values(p) for p in parts]).type == want.type
