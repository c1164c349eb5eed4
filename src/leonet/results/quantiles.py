"""Quantiles of values that stand for unequal shares of the run: a dish-step weighs the time its
step stands for (:mod:`leonet.results.calendar`) times the dishes its site stands for.

The estimator is the weighted form of the usual linearly interpolated quantile (numpy's and
pandas' default "linear", Hyndman and Fan's type 7) given by A. Akinshin, "Weighted quantile
estimators" (2023, arXiv:2304.07265): with Kish's effective sample size n* = (sum w)^2 / sum w^2,
the sorted values share the q-quantile as a uniform window of width 1/n* starting at
(n* - 1) q / n* shares the cumulative-weight axis [0, 1], on which value i holds
[sum_{j<i} w_j, sum_{j<=i} w_j] / sum w. So:

* equal weights give type 7 (what pandas gave before time and dishes were weighed);
* a value that holds almost all the weight is almost every quantile;
* scaling every weight (seconds or coarse steps, one dish or fifty) changes nothing.

:func:`group_quantiles` takes groups (dishes, dish groups) whose weights are all equal the plain
pandas way, so a run of equal steps and one dish a site gives the figures it gave before, bit for
bit; other groups go through :func:`weighted_quantiles`, one group at a time (each group's
figures come from its own rows only, in their order, so a table taken apart in blocks of whole
groups gives the same figures as the whole table).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _sorted_quantiles(v: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """float64 (len(qs),): :func:`weighted_quantiles` of values ``v`` sorted ascending, weights
    ``w`` (> 0, finite), at least one value."""
    cum = np.cumsum(w)  # sequential: the figure depends on these rows only, in this order
    total = cum[-1]
    n_eff = total * total / np.cumsum(w * w)[-1]
    hi = cum / total
    lo = np.r_[0.0, hi[:-1]]
    out = np.empty(len(qs))
    for i, q in enumerate(qs):
        shift = (n_eff - 1.0) * q
        # share of the window [shift, shift + 1] / n* of each value's stretch [lo, hi] (>= 0: monotone)
        share = np.clip(hi * n_eff - shift, 0.0, 1.0) - np.clip(lo * n_eff - shift, 0.0, 1.0)
        used = share > 0
        out[i] = float(np.sum(share[used] * v[used]))
    return out


def weighted_quantiles(values, weights, qs: Sequence[float]) -> np.ndarray:
    """float64 (len(qs),): the q-quantiles (each q in 0..1) of ``values`` with ``weights`` (see the
    module docstring). NaN values and zero weights are left out; all NaN when nothing is left.

    values, weights : (N,) array-likes (weights >= 0, finite; a scalar weight applies to all)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), v.shape).ravel()
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weighted_quantiles: weights must be finite and >= 0")
    keep = ~np.isnan(v) & (w > 0)
    v, w = v[keep], w[keep]
    if not len(v):
        return np.full(len(qs), np.nan)
    order = np.argsort(v, kind="stable")
    return _sorted_quantiles(v[order], w[order], qs)


def weighted_quantile(values, weights, q: float) -> float:
    """The q-quantile (0..1) of ``values`` with ``weights`` (:func:`weighted_quantiles`); NaN when
    nothing is left."""
    return float(weighted_quantiles(values, weights, [q])[0])


def group_quantiles(keys, values, weights, qs: dict[str, float], median: bool = False) -> pd.DataFrame:
    """The weighted quantiles of ``values`` per group of ``keys``: one row per key (in order of
    first appearance), one column per item of ``qs`` (column name -> q in 0..1). NaN values are
    left out (as pandas' quantile leaves them out); a key with none left gets no row.

    keys, values, weights : (N,) each (weights > 0: a dish-step's dishes x its duration).
    median : take q = 0.5 of a group of equal weights with pandas' ``median`` (the figures the
        summaries gave before weighting used ``median`` for some columns, ``quantile`` for others).
    """
    frame = pd.DataFrame({"k": np.asarray(keys), "v": np.asarray(values, dtype=np.float64),
                          "w": np.asarray(weights, dtype=np.float64)})
    frame = frame[frame["v"].notna().to_numpy()]
    names = list(qs)
    if frame.empty:
        return pd.DataFrame(columns=names, dtype=np.float64)
    w = frame["w"].to_numpy()
    if not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError("group_quantiles: weights must be finite and > 0")
    by = frame.groupby("k", sort=False)["w"]
    even = (by.transform("min") == by.transform("max")).to_numpy()
    parts = []
    if even.any():  # equal weights: the plain quantile, computed as before weighting
        g = frame[even].groupby("k", sort=False)["v"]
        parts.append(pd.DataFrame({n: (g.median() if median and q == 0.5 else g.quantile(q)) for n, q in qs.items()}))
    if not even.all():
        rest = frame[~even]
        code, uniq = pd.factorize(rest["k"], sort=False)
        v, w = rest["v"].to_numpy(), rest["w"].to_numpy()
        order = np.lexsort((v, code))  # by group, then value; ties keep table order (lexsort is stable)
        code, v, w = code[order], v[order], w[order]
        bounds = np.r_[0, np.flatnonzero(np.diff(code)) + 1, len(code)]
        qv = [qs[n] for n in names]
        rows = np.array([_sorted_quantiles(v[a:b], w[a:b], qv) for a, b in zip(bounds[:-1], bounds[1:])])
        parts.append(pd.DataFrame(rows.reshape(-1, len(names)), columns=names, index=pd.Index(uniq[code[bounds[:-1]]])))
    out = pd.concat(parts) if len(parts) > 1 else parts[0]
    first = frame.drop_duplicates("k")["k"]
    return out.reindex(pd.Index(first.to_numpy()))
