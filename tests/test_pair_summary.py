"""The streaming per-pair summary equals the pandas reference exactly (issue 15, item 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.results.pair_summary import group_quantiles, pair_summary


def reference(p: pd.DataFrame, name: np.ndarray) -> pd.DataFrame:
    """The per-pair table as the summary computed it before streaming (pandas over all rows)."""
    p = p.copy()
    p["ok"] = np.isfinite(p["rtt_ms"].to_numpy(dtype=np.float64))
    g = p.groupby(["src", "dst"], sort=False)
    out = pd.DataFrame({"availability": g["ok"].mean(), "path_changes": g["path_changed"].sum().astype(int)})
    finite = p[p["ok"]]
    cols = ["rtt_p5_ms", "rtt_p50_ms", "rtt_p95_ms"]
    if finite.empty:  # (the pre-streaming summary raised here: a join with no index names)
        q = pd.DataFrame(columns=cols, dtype=np.float64,
                         index=pd.MultiIndex.from_arrays([[], []], names=["src", "dst"]))
    else:
        q = finite.groupby(["src", "dst"], sort=False)["rtt_ms"].quantile([0.05, 0.5, 0.95]).unstack()
        q.columns = cols
    out = out.join(q)
    out = out.join(p[p["hops"] >= 0].groupby(["src", "dst"], sort=False)["hops"].median().rename("hops_p50"))
    out = out.reset_index()
    out.insert(0, "src_name", name[out["src"].to_numpy()])
    out.insert(1, "dst_name", name[out["dst"].to_numpy()])
    return out.drop(columns=["src", "dst"]).rename(columns={"src_name": "src", "dst_name": "dst"})


def write_parts(tmp_path, frame: pd.DataFrame, n_parts: int) -> list:
    paths = []
    for i, chunk in enumerate(np.array_split(np.arange(len(frame)), n_parts)):
        path = tmp_path / f"part-{i:06d}.parquet"
        pq.write_table(pa.Table.from_pandas(frame.iloc[chunk], preserve_index=False), path)
        paths.append(path)
    return paths


def random_pairs(rng, n_sites: int, n_steps: int, p_inf: float) -> pd.DataFrame:
    src, dst = np.meshgrid(np.arange(n_sites), np.arange(n_sites), indexing="ij")
    keep = src != dst
    src, dst = src[keep], dst[keep]
    rows = []
    for _ in range(n_steps):  # pairs in shuffled order, some missing at a step, as a tricky table
        sel = rng.permutation(len(src))[: rng.integers(len(src) // 2, len(src) + 1)]
        rtt = rng.uniform(5, 200, len(sel)).astype(np.float32)
        rtt[rng.random(len(sel)) < p_inf] = np.inf
        rtt[rng.random(len(sel)) < 0.1] = np.round(rtt[rng.random(len(sel)) < 0.1][:1].sum())  # ties
        hops = np.where(np.isfinite(rtt), rng.integers(1, 30, len(sel)), -1).astype(np.int16)
        rows.append(pd.DataFrame({"src": src[sel].astype(np.int32), "dst": dst[sel].astype(np.int32), "rtt_ms": rtt,
                                  "hops": hops, "path_changed": rng.random(len(sel)) < 0.2}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("budget", [1, 37, 10_000_000])
@pytest.mark.parametrize("p_inf", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("lut", [True, False])
def test_streaming_equals_pandas(tmp_path, monkeypatch, budget, p_inf, lut):
    if not lut:
        monkeypatch.setattr("leonet.results.pair_summary.LUT_MAX_ENTRIES", 0)
    rng = np.random.default_rng(7)
    frame = random_pairs(rng, 9, 23, p_inf)
    names = np.array([f"site-{i}" for i in range(9)], dtype=object)
    got = pair_summary(write_parts(tmp_path, frame, 4), 9, names, budget_values=budget)
    want = reference(frame, names)
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_dtype=False)
    assert got.dtypes.to_dict() == want.dtypes.to_dict()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=1, max_size=40),
       st.sampled_from([0.0, 0.05, 0.1, 0.5, 0.95, 1.0]))
def test_group_quantiles_equal_pandas(values, q):
    v = np.sort(np.array(values, dtype=np.float32))
    got = group_quantiles(v, np.array([len(v)]), (q,))[0, 0]
    want = pd.Series(values, dtype=np.float32).groupby(np.zeros(len(values))).quantile(q).iloc[0]
    assert got == want


class _Cal:
    """A calendar stand-in: step k at k seconds, standing for ``weights[k]`` coarse steps."""

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.even = False

    def weight_of(self, t_ns):
        return self.weights[(np.asarray(t_ns) // 1_000_000_000).astype(np.int64)]


def _with_time(frame: pd.DataFrame, n_steps: int) -> pd.DataFrame:
    # random_pairs writes its steps one after another; recover each row's step from the pair order
    step = np.zeros(len(frame), dtype=np.int64)
    k, seen = 0, set()
    for i, (a, b) in enumerate(zip(frame["src"], frame["dst"])):
        if (a, b) in seen:
            k, seen = k + 1, set()
        seen.add((a, b))
        step[i] = k
    frame = frame.copy()
    frame.insert(0, "t", pd.to_datetime(step * 1_000_000_000, unit="ns", utc=True))
    return frame, step


@pytest.mark.parametrize("budget", [7, 10_000])
def test_windowed_pair_summary_weighs_steps_by_their_time(tmp_path, budget):
    """Windowed calendars: each pair-step weighs its step's time (brute force per pair)."""
    from leonet.results.quantiles import weighted_quantiles

    rng = np.random.default_rng(5)
    frame, step = _with_time(random_pairs(rng, 4, 9, 0.2), 9)
    weights = rng.choice([1.0, 0.25, 1 / 360], size=step.max() + 1)
    names = np.array([f"s{k}" for k in range(4)], dtype=object)
    got = pair_summary(write_parts(tmp_path, frame, 3), 4, names, budget_values=budget, cal=_Cal(weights))
    for _, row in got.iterrows():
        sel = (names[frame["src"]] == row["src"]) & (names[frame["dst"]] == row["dst"])
        f, w = frame[sel], weights[step[sel]]
        ok = np.isfinite(f["rtt_ms"].to_numpy(dtype=np.float64))
        assert row["availability"] == pytest.approx(w[ok].sum() / w.sum())
        want = weighted_quantiles(f["rtt_ms"].to_numpy(dtype=np.float64)[ok], w[ok], [0.05, 0.5, 0.95]) \
            if ok.any() else [np.nan] * 3
        np.testing.assert_allclose(row[["rtt_p5_ms", "rtt_p50_ms", "rtt_p95_ms"]].to_numpy(dtype=float), want)
        assert row["path_changes"] == f["path_changed"].sum()


def test_a_windowed_summary_of_equal_weights_is_the_plain_one(tmp_path):
    rng = np.random.default_rng(6)
    frame, step = _with_time(random_pairs(rng, 4, 6, 0.2), 6)
    names = np.array([f"s{k}" for k in range(4)], dtype=object)
    parts = write_parts(tmp_path, frame, 2)
    plain = pair_summary(parts, 4, names)
    weighted = pair_summary(parts, 4, names, cal=_Cal(np.ones(step.max() + 1)))
    pd.testing.assert_frame_equal(weighted, plain, check_exact=False, rtol=1e-12)
