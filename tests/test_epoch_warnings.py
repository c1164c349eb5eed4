"""A run that propagates element sets far from their epochs says so (SGP4 gives no error code for
it: 2019 launches read 442-616 km in 1990), in `leonet run`'s warnings and in `validate`; shells
held on station on purpose (``station_keeping: true``) are left alone."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import leonet

ORBITS = Path(leonet.__file__).parent / "data" / "orbits"


@pytest.fixture(scope="module")
def small_tle(tmp_path_factory) -> Path:
    lines = gzip.open(ORBITS / "starlink_2023-12-27.tle.gz", "rt").read().splitlines()[:9]
    path = tmp_path_factory.mktemp("tle") / "small.tle"
    path.write_text("\n".join(lines) + "\n")
    return path


def _warnings(tle: Path, start: str, keep: bool) -> list[str]:
    sc = leonet.scenario_from_dict({
        "name": "far", "constellation": {"orbit_files": [{"path": str(tle), "station_keeping": keep}]},
        "ground": {"sites": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52}]},
        "time": {"start": start, "duration_s": 60, "step_s": 30}})
    return [w for w in leonet.build_model(sc).network.warnings if "epoch" in w]


def test_far_from_the_epoch_is_said(small_tle):
    (w,) = _warnings(small_tle, "2026-12-27T12:00:00Z", keep=False)
    assert "orbit_files[0] (small)" in w and "1,096 days" in w and "2023-12-27" in w


@pytest.mark.parametrize("start, keep", [("2023-12-30T12:00:00Z", False), ("2026-12-27T12:00:00Z", True)])
def test_near_the_epoch_or_held_on_station_is_quiet(small_tle, start, keep):
    assert _warnings(small_tle, start, keep) == []
