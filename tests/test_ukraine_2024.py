"""The ``ukraine-2024`` preset (issue 12, item 6): it is the realism check's calibrated Ukraine run
(realism.calibrated.country_plan) (the same sampled days), compared with Starlink's published Ukraine
figures of Jan 2024 with the realism tolerances (realism.check)."""

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from leonet.realism.calibrated import country_plan
from leonet.realism.check import DOWNLOAD_TOLERANCE, LATENCY_TOLERANCE_MS, leonet_figures
from leonet.realism.metrics import read_published_metrics
from leonet.scenario import load_scenario, scenario_from_dict

METRICS_DATE = date(2024, 1, 6)


def _plan():
    return country_plan("UKR", "UA", METRICS_DATE, Path("starlink_2023-12-27.tle"), "full")


def _dump(model) -> dict:
    return model.model_dump(mode="json")


def test_preset_is_the_calibrated_plan():
    """Every model parameter of the preset equals what country_plan produces for Ukraine at the
    date of the published figures (so a change to the calibrated model cannot leave the preset
    behind); only the names and the outputs differ."""
    preset = load_scenario("ukraine-2024")
    plan = _plan()
    calibrated = scenario_from_dict(plan.scenario)
    for section in ("service", "capacity", "network", "visibility", "ground"):
        assert _dump(getattr(preset, section)) == _dump(getattr(calibrated, section)), section
    assert preset.time.start == calibrated.time.start == plan.sim_start
    assert preset.time.step_s == calibrated.time.step_s
    assert preset.time.duration_s == calibrated.time.duration_s
    # the plan's samples: every quarter hour of the local day once over 24 days (calibrated.DAY_SAMPLES)
    assert _dump(preset.time) == _dump(calibrated.time) and len(preset.time.windows) == 96
    # the same element set (shipped compressed; the realism check decompresses it)
    (mine,), (theirs,) = preset.constellation.orbit_files, calibrated.constellation.orbit_files
    assert Path(mine.path).name == Path(theirs.path).name + ".gz" and mine.shell == theirs.shell
    # the dishes are the plan's cities, none of them occupied (calibrated.UNSERVED_PLACES)
    groups = [s.group for s in preset.ground.sites]
    assert groups == list(plan.cities) and "Donetsk" not in groups and "Sevastopol" not in groups
    assert [s.dishes for s in preset.ground.sites] == [1] * len(groups)


def figures(results_dir: Path) -> dict[str, float]:
    """The nine published figures from a run of the preset, as the realism check computes them:
    quality percentiles of connected dish-steps, each dish weighted by the subscribers it stands
    for (country_plan's population x take-up)."""
    import pyarrow.parquet as pq

    sites = pq.read_table(results_dir / "sites.parquet").to_pandas()
    steps = pq.read_table(results_dir / "dish_steps").to_pandas()
    plan = _plan()
    dish = np.flatnonzero(sites["kind"].to_numpy() == "dish")
    assert list(sites["group"].to_numpy()[dish]) == list(plan.cities)
    weights = np.zeros(len(sites))
    weights[dish] = plan.weights
    return leonet_figures(steps, weights)


@pytest.fixture(scope="module")
def preset_figures(tmp_path_factory):
    import leonet

    out = tmp_path_factory.mktemp("ukraine-2024")
    # the whole preset: 96 one-step samples over 24 days (about 10 s on 2 cores)
    leonet.run(load_scenario("ukraine-2024"), out_dir=out, overwrite=True)
    return figures(out), read_published_metrics().countries["UKR"]


@pytest.mark.slow
def test_figures_are_quality_percentiles(preset_figures):
    ours, published = preset_figures
    assert published["latency_p50"] == pytest.approx(60.381)
    # quality percentiles: p20 the worse value
    assert ours["latency_p20"] >= ours["latency_p50"] >= ours["latency_p80"]
    assert ours["download_p20"] <= ours["download_p50"] <= ours["download_p80"]
    # the order of countries holds: Ukraine is slower than Germany's published 39.9 ms
    assert ours["latency_p50"] > 39.9 + 5


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "latency p50 is 54.2 ms against 60.4 published, 1.2 ms beyond the 5 ms tolerance, since the check samples "
    "96 instants over 24 days instead of one day's hours; the reason in full: "
    "tests/test_realism.py::test_latency_tolerance_ukraine"))
def test_latency_within_tolerance_of_published(preset_figures):
    ours, published = preset_figures
    assert abs(ours["latency_p50"] - published["latency_p50"]) <= LATENCY_TOLERANCE_MS


@pytest.mark.slow
def test_download_within_tolerance_of_published(preset_figures):
    """Within 20 % (178.5 against 153.4 Mbps; tests/test_realism.py::test_download_tolerance_ukraine)."""
    ours, published = preset_figures
    assert abs(ours["download_p50"] - published["download_p50"]) <= DOWNLOAD_TOLERANCE * published["download_p50"]
