"""The dish, load and coverage summaries taken a block of dish groups (satellites, gateways) at a time
(leonet.results.blocks; memory flat in run length) equal the summaries of the whole tables, on
real runs: dishes with capacity and loads (ukraine-gen1), a windowed calendar with events and the
service model (ukraine-2022), many small blocks and one block per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import leonet
from leonet.results.calendar import calendar
from leonet.results.blocks import blocks_by_count, count_keys, iter_blocks
from leonet.results.store import ResultStore
from leonet.results.summary import coverage_summary, network_summary

RUNS = {
    "ukraine-gen1": {"time.duration_s": 120, "outputs.chunk_steps": 25},
    # six days: the preset's first window of 10 s steps falls in them (a calendar of uneven steps)
    "ukraine-2022": {"time.duration_s": 6 * 86400, "time.step_s": 7200, "outputs.chunk_steps": 20},
}


@pytest.fixture(scope="module", params=[pytest.param(r, marks=pytest.mark.slow) if r == "ukraine-2022" else r for r in sorted(RUNS)])
def run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    leonet.run(leonet.load_scenario(request.param, overrides=RUNS[request.param]), out_dir=out)
    return ResultStore(out)


def assert_same(a, b):
    assert a.states == b.states
    for x, y in ((a.per_dish, b.per_dish), (a.by_group(), b.by_group()), (a.most_loaded(), b.most_loaded())):
        pd.testing.assert_frame_equal(x, y, check_exact=True)


def test_blocks_equal_the_whole_table(run):
    whole = network_summary(run)
    rows = run.read("dish_steps", columns=["site"]).num_rows
    assert rows > 400 and len(whole.per_dish) > 3
    for budget in (1, 97, rows // 3):  # every group its own block; a few groups per block
        assert_same(network_summary(run, budget_rows=budget), whole)
    if "load_steps" in run.tables():
        assert len(whole.most_loaded()) > 0


def test_coverage_in_blocks_equals_the_whole_table(run):
    whole = coverage_summary(run)
    rows = run.read("site_steps", columns=["site"]).num_rows
    if "ukraine-2022" in str(run.root):  # its window makes uneven steps: gaps are weighed in seconds
        assert not calendar(run).uniform
    assert rows > 400 and whole.n_steps > 10
    for budget in (1, 97, rows // 3):
        got = coverage_summary(run, budget_rows=budget)
        assert got.n_steps == whole.n_steps and got.step_s == whole.step_s
        pd.testing.assert_frame_equal(got.per_site, whole.per_site, check_exact=True)
        pd.testing.assert_frame_equal(got.by_group(), whole.by_group(), check_exact=True)


def test_iter_blocks_keeps_every_row_once_in_order(run):
    parts = run.parts("dish_steps")
    table = run.read("dish_steps", columns=["t", "site", "rtt_ms"])
    n_sites = int(pa.compute.max(table.column("site")).as_py()) + 1
    counts, first = count_keys(parts, "site", n_sites)
    site = table.column("site").to_numpy()
    assert np.array_equal(counts, np.bincount(site, minlength=n_sites))
    seen = counts > 0
    assert np.array_equal(first[seen], np.unique(site, return_index=True)[1])
    block_of_site = blocks_by_count(counts, 150, min_units=1)
    blocks = list(iter_blocks(parts, ["t", "site", "rtt_ms"], lambda t: block_of_site[t.column("site").to_numpy()],
                              int(block_of_site.max()) + 1))
    assert len(blocks) > 2 and all(b.num_rows <= max(150, counts.max()) for b in blocks)
    for b, got in enumerate(blocks):
        want = table.filter(pa.array(block_of_site[site] == b))
        pd.testing.assert_frame_equal(got.to_pandas(), want.to_pandas(), check_exact=True)


def test_blocks_by_count():
    assert blocks_by_count(np.array([3, 3, 3, 10, 1]), 6, min_units=1).tolist() == [0, 0, 1, 2, 3]
    # at least two units a block (pandas sums one group by another path), the last one joining
    assert blocks_by_count(np.array([3, 3, 3, 10, 1]), 6).tolist() == [0, 0, 1, 1, 1]
    assert blocks_by_count(np.array([10]), 6).tolist() == [0]
    assert blocks_by_count(np.zeros(0), 6).tolist() == []
