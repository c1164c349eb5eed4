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
* scaling every weight (seconds or coarse steps) changes nothing.

The two factors of a dish-step's weight are not alike. A step's duration is a *reliability*
weight: a 10 s window step is one observation that stands for little time. A site's dish count
is a *frequency* weight: a site standing for N identical dishes is N observations (N dishes
measuring the same value), so it counts N times. The functions take the dish counts apart as
``counts`` (c_i) with the full weights w_i = c_i t_i, and expand each row into c_i rows of
weight t_i: the expanded rows of one value lie side by side on the cumulative-weight axis, so
they hold the same stretch as the row they came from, and only Kish's n* changes:

    n* = (sum_i c_i t_i)^2 / sum_i c_i t_i^2 = (sum w)^2 / sum (w^2 / c).

Equal steps then make n* the number of dish-steps, and the estimator is type 7 over the
dish-steps, each dish counted (numpy.quantile of ``np.repeat(values, counts)`` for whole
counts). Without ``counts`` (each row one observation) n* = (sum w)^2 / sum w^2 as above; so
with few sites of many dishes the quantiles would interpolate across sites (n* near the number
of site-steps), far from the dish-weighted distribution (a group of 30 dishes at 100 Mbps and 6
at 0 has p10 0 counting dishes, 81 Mbps over one step treating its two sites as two samples).

:func:`group_quantiles` takes groups (dishes, dish groups) whose weights are all equal, and
whose counts (if any) are all 1, the plain pandas way, so a run of equal steps and one dish a
site gives the figures it gave before, bit for bit; other groups go through
:func:`weighted_quantiles`, one group at a time (each group's figures come from its own rows
only, in their order, so a table taken apart in blocks of whole groups gives the same figures as
the whole table).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _sorted_quantiles(v: np.ndarray, w: np.ndarray, qs: Sequence[float], c: np.ndarray | None = None) -> np.ndarray:
    """float64 (len(qs),): :func:`weighted_quantiles` of values ``v`` sorted ascending, weights
    ``w`` (> 0, finite), counts ``c`` (> 0, finite; None: every row one observation), at least
    one value."""
    cum = np.cumsum(w)  # sequential: the figure depends on these rows only, in this order
    total = cum[-1]
    # Kish's n* of the rows expanded into c rows of weight w / c each (the module docstring)
    n_eff = total * total / np.cumsum(w * w if c is None else w * w / c)[-1]
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


def _counts(counts, shape, name: str, weights) -> np.ndarray | None:
    """``counts`` as float64 of ``shape`` (None stays None); each must be finite and > 0, or 0 in
    a row of weight 0 (a row that stands for no dish, e.g. one not yet delivered)."""
    if counts is None:
        return None
    c = np.broadcast_to(np.asarray(counts, dtype=np.float64), shape).ravel()
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), shape).ravel()
    if not np.isfinite(c).all() or (c < 0).any() or ((c == 0) & (w != 0)).any():
        raise ValueError(f"{name}: counts must be finite and > 0 (0 only in a row of weight 0)")
    return c


def weighted_quantiles(values, weights, qs: Sequence[float], counts=None) -> np.ndarray:
    """float64 (len(qs),): the q-quantiles (each q in 0..1) of ``values`` with ``weights`` (see the
    module docstring). NaN values and zero weights are left out; all NaN when nothing is left.

    values, weights : (N,) array-likes (weights >= 0, finite; a scalar weight applies to all).
    counts : None, or (N,) (or a scalar) frequency weights: how many identical observations each
        value stands for (a site's dishes; finite, > 0), already part of ``weights`` (a dish-step's
        weight is its dishes x its step's time). They change only Kish's n*:
        (sum w)^2 / sum (w^2 / counts). None: each value is one observation."""
    v = np.asarray(values, dtype=np.float64).ravel()
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), v.shape).ravel()
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weighted_quantiles: weights must be finite and >= 0")
    c = _counts(counts, v.shape, "weighted_quantiles", w)
    keep = ~np.isnan(v) & (w > 0)
    v, w = v[keep], w[keep]
    c = None if c is None else c[keep]
    if not len(v):
        return np.full(len(qs), np.nan)
    order = np.argsort(v, kind="stable")
    return _sorted_quantiles(v[order], w[order], qs, None if c is None else c[order])


def weighted_quantile(values, weights, q: float, counts=None) -> float:
    """The q-quantile (0..1) of ``values`` with ``weights`` and frequency ``counts``
    (:func:`weighted_quantiles`); NaN when nothing is left."""
    return float(weighted_quantiles(values, weights, [q], counts=counts)[0])


def group_quantiles(keys, values, weights, qs: dict[str, float], median: bool = False,
                    counts=None) -> pd.DataFrame:
    """The weighted quantiles of ``values`` per group of ``keys``: one row per key (in order of
    first appearance), one column per item of ``qs`` (column name -> q in 0..1). NaN values are
    left out (as pandas' quantile leaves them out); a key with none left gets no row.

    keys, values, weights : (N,) each (weights >= 0: a dish-step's dishes x its duration; a row of
        weight 0, such as a dish not yet delivered, is left out as a NaN value is).
    median : take q = 0.5 of a group of equal weights with pandas' ``median`` (the figures the
        summaries gave before weighting used ``median`` for some columns, ``quantile`` for others).
    counts : None, or (N,) frequency weights (a dish-step's dishes, part of ``weights`` already:
        :func:`weighted_quantiles`); a group whose counts are all 1 is as without them.
    """
    frame = pd.DataFrame({"k": np.asarray(keys), "v": np.asarray(values, dtype=np.float64),
                          "w": np.asarray(weights, dtype=np.float64)})
    c = _counts(counts, frame["v"].shape, "group_quantiles", frame["w"].to_numpy())
    if c is not None:
        frame["c"] = c
    w = frame["w"].to_numpy()
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("group_quantiles: weights must be finite and >= 0")
    frame = frame[frame["v"].notna().to_numpy() & (w > 0)]
    names = list(qs)
    if frame.empty:
        return pd.DataFrame(columns=names, dtype=np.float64)
    w = frame["w"].to_numpy()
    by = frame.groupby("k", sort=False)["w"]
    even = (by.transform("min") == by.transform("max")).to_numpy()
    if c is not None:  # and one observation a row: a site of many dishes is many (module docstring)
        byc = frame.groupby("k", sort=False)["c"]
        even = even & ((byc.transform("min") == 1.0) & (byc.transform("max") == 1.0)).to_numpy()
    parts = []
    if even.any():  # equal weights: the plain quantile, computed as before weighting
        g = frame[even].groupby("k", sort=False)["v"]
        parts.append(pd.DataFrame({n: (g.median() if median and q == 0.5 else g.quantile(q)) for n, q in qs.items()}))
    if not even.all():
        rest = frame[~even]
        code, uniq = pd.factorize(rest["k"], sort=False)
        v, w = rest["v"].to_numpy(), rest["w"].to_numpy()
        rc = rest["c"].to_numpy() if c is not None else None
        order = np.lexsort((v, code))  # by group, then value; ties keep table order (lexsort is stable)
        code, v, w = code[order], v[order], w[order]
        rc = rc[order] if rc is not None else None
        bounds = np.r_[0, np.flatnonzero(np.diff(code)) + 1, len(code)]
        qv = [qs[n] for n in names]
        rows = np.array([_sorted_quantiles(v[a:b], w[a:b], qv, None if rc is None else rc[a:b])
                         for a, b in zip(bounds[:-1], bounds[1:])])
        parts.append(pd.DataFrame(rows.reshape(-1, len(names)), columns=names, index=pd.Index(uniq[code[bounds[:-1]]])))
    out = pd.concat(parts) if len(parts) > 1 else parts[0]
    first = frame.drop_duplicates("k")["k"]
    return out.reindex(pd.Index(first.to_numpy()))
