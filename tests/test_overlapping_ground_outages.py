"""Ground internet under overlapping outages, and how the summary counts it.

A user has one provider: two overlapping outages of different providers take the sum of their
shares (as one event naming both would), and the same provider twice takes its share once
(Triolan serves 5 % of Kyiv; two Triolan events left 90.25 % online). The summary's "online by"
shares count a site's users by its ground level, as the report's day by day does (an ISP outage
at 15 % read 0 % "satellite only" in the summary and 14.6 % in the report)."""

from __future__ import annotations

import numpy as np
import pytest

import leonet
from leonet.results.compare import resilience_by_group

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow

EVENTS = [
    {"name": "both", "type": "isp_outage", "providers": ["Kyivstar", "Ukrtelecom"], "start_s": 0, "end_s": 10},
    {"name": "ks", "type": "isp_outage", "providers": ["Kyivstar"], "start_s": 10, "end_s": 20},
    {"name": "ut", "type": "isp_outage", "providers": ["Ukrtelecom"], "start_s": 10, "end_s": 20},
    {"name": "tri1", "type": "isp_outage", "providers": ["Triolan"], "start_s": 20, "end_s": 30},
    {"name": "tri2", "type": "isp_outage", "providers": ["Triolan"], "start_s": 20, "end_s": 30},
    {"name": "tri-low", "type": "isp_outage", "providers": ["Triolan"], "level": 0.5, "start_s": 30, "end_s": 40},
    {"name": "tri-dark", "type": "isp_outage", "providers": ["Triolan"], "start_s": 30, "end_s": 40},
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    sc = leonet.scenario_from_dict({
        "name": "isp", "constellation": "starlink-shell1",
        "ground": {"sites": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "dishes": 10}],
                   "builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]},
                               {"name": "starlink-pops-2023", "regions": ["Europe"]}]},
        "network": {"isl": {"topology": "none"}}, "terrestrial": {"providers": "builtin-ua-2022"},
        "time": {"start": "2022-03-01T00:00:00Z", "duration_s": 40, "step_s": 5},
        "events": EVENTS, "outputs": {"visibility_pairs": False}})
    return leonet.run(sc, out_dir=tmp_path_factory.mktemp("isp") / "o")


def test_overlapping_provider_outages_take_each_providers_users_once(run):
    d = run.store.read("dish_steps", columns=["t", "ground_level"]).to_pandas()
    level = d.groupby("t")["ground_level"].first().to_numpy()
    both, apart, triolan_twice, worst = level[0:2], level[2:4], level[4:6], level[6:8]
    assert both[0] == pytest.approx(1 - (0.30 + 0.15), abs=1e-6)   # Kyivstar 30 % and Ukrtelecom 15 % of Kyiv
    assert np.allclose(apart, both)                      # the same outage, written as one event or two
    assert triolan_twice[0] == pytest.approx(1 - 0.05, abs=1e-6)   # Triolan's 5 % of Kyiv, once
    assert worst[0] == pytest.approx(triolan_twice[0], abs=1e-6)   # at its worst of 0.5 and dark


def test_summary_counts_users_by_ground_level(run):
    d = run.store.read("dish_steps", columns=["state", "ground_level"]).to_pandas()
    from leonet.states import OUTAGE_STATES

    sat = ~d["state"].astype(str).isin(OUTAGE_STATES).to_numpy()
    level = d["ground_level"].to_numpy(dtype=float)
    r = resilience_by_group(run.store, run.model.settings.step_ns / 1e9).iloc[0]
    assert r["online_satellite"] == pytest.approx(np.mean(sat * (1 - level)), abs=1e-6)
    assert r["online_both"] == pytest.approx(np.mean(sat * level), abs=1e-6)
    assert r["online_satellite"] > 0.05    # the majority rule read 0 here
