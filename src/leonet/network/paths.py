"""Compiled helpers for paths stored as padded rows (int32 (M, L), satellites then -1).

- :func:`same_rows`: which rows of two such matrices hold the same path (``path_changed`` is its
  negation between consecutive steps); the widths may differ, the shorter is padded with -1.
- :func:`list_offsets_values`: the rows without their padding as the offsets and values of an
  Arrow ``list<int32>`` column (what ``pyarrow.ListArray.from_arrays`` takes).

Each has a numpy reference (``*_reference``) that the tests compare it with.
"""

from __future__ import annotations

import numpy as np

try:  # numba compiles the kernels once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


def _same_rows(a, b, out):
    m = a.shape[0]
    wa, wb = a.shape[1], b.shape[1]
    w = min(wa, wb)
    for i in range(m):
        same = True
        for j in range(w):
            if a[i, j] != b[i, j]:
                same = False
                break
        if same:
            for j in range(w, wa):
                if a[i, j] != -1:
                    same = False
                    break
        if same:
            for j in range(w, wb):
                if b[i, j] != -1:
                    same = False
                    break
        out[i] = same


def _list_offsets_values(path, offsets, values):
    m, w = path.shape
    top = 0
    offsets[0] = 0
    for i in range(m):
        for j in range(w):
            v = path[i, j]
            if v >= 0:
                values[top] = v
                top += 1
        offsets[i + 1] = top
    return top


if njit is not None:
    _same_rows_fast = njit(cache=True, nogil=True)(_same_rows)
    _list_offsets_values_fast = njit(cache=True, nogil=True)(_list_offsets_values)
else:  # pragma: no cover
    _same_rows_fast, _list_offsets_values_fast = _same_rows, _list_offsets_values


def _check_paths(*arrays: np.ndarray) -> list[np.ndarray]:
    out = []
    for a in arrays:
        a = np.asarray(a)
        if a.ndim != 2:
            raise ValueError(f"paths must be a 2-D array (M, L), got shape {a.shape}")
        if len(a) and a.shape[1] and not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"paths must hold integer node numbers, got dtype {a.dtype}")
        out.append(np.ascontiguousarray(a, dtype=np.int32))
    return out


def same_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """bool (M,): row i of ``a`` (M, La) equals row i of ``b`` (M, Lb) once both are padded with
    -1 to the same width."""
    a, b = _check_paths(a, b)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"same_rows: {a.shape[0]} rows against {b.shape[0]}")
    out = np.empty(a.shape[0], dtype=bool)
    _same_rows_fast(a, b, out)
    return out


def same_rows_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`same_rows` in numpy (pad both, compare)."""
    width = max(a.shape[1], b.shape[1])
    pa_ = np.full((a.shape[0], width), -1, dtype=np.int32)
    pb_ = np.full((b.shape[0], width), -1, dtype=np.int32)
    pa_[:, : a.shape[1]] = a
    pb_[:, : b.shape[1]] = b
    return (pa_ == pb_).all(axis=1)


def list_offsets_values(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets int32 (M + 1,) and values int32 (total,) of the rows of ``path`` (M, L) without
    their -1 padding (every entry >= 0 is kept, in row order)."""
    (path,) = _check_paths(path)
    offsets = np.empty(path.shape[0] + 1, dtype=np.int32)
    values = np.empty(path.size, dtype=np.int32)
    top = _list_offsets_values_fast(path, offsets, values)
    return offsets, values[:top].copy()


def list_offsets_values_reference(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`list_offsets_values` in numpy."""
    valid = path >= 0
    offsets = np.r_[0, np.cumsum(valid.sum(axis=1))].astype(np.int32)
    return offsets, path[valid].astype(np.int32)
