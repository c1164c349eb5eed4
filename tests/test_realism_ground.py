"""`leonet realism --ground 2026`: the check on the community list of 2026-03-20, a later bound on the
ground segment (bench/RESULTS.md, "Realism on the 2026 ground list"). Malaysia, which the 2023 map
gives no gateway and no PoP near it (150 ms against 57.9 published), gets its Sarawak gateway and
reads about 50 ms."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from leonet.errors import InputError
from leonet.realism.calibrated import (GROUND_SEGMENTS, assumptions, bent_pipe_only_gateways_at, country_plan,
                                       ground_segment)

JAN_2024 = date(2024, 1, 6)


def test_the_2023_plan_is_the_shipped_check():
    sc = country_plan("DEU", "DE", JAN_2024, Path("unused.tle"), "fast").scenario
    assert [b["name"] for b in sc["ground"]["builtin"]] == ["starlink-gateways-2023", "starlink-pops-2023"]
    assert sc["ground"]["builtin"][0] == {"name": "starlink-gateways-2023", "statuses": "carried-traffic",
                                          "antennas": "from-data"}
    assert sc["network"]["backbone"] == "community-2023"
    assert sc["network"]["bent_pipe_only_gateways"] == ["Lekki, NG", "Ikire, NG"]


def test_the_2026_plan_takes_the_2026_sets_joined_and_the_lagos_rule_under_their_names():
    sc = country_plan("DEU", "DE", JAN_2024, Path("unused.tle"), "fast", ground=2026).scenario
    assert [b["name"] for b in sc["ground"]["builtin"]] == ["starlink-gateways-2026", "starlink-pops-2026"]
    assert sc["network"]["backbone"] == "community-2023-joined"
    assert sc["network"]["bent_pipe_only_gateways"] == ["Lekki, Nigeria", "Ikire, Nigeria"]
    assert bent_pipe_only_gateways_at(date(2025, 6, 1), 2026) == []   # the rule's end (Nairobi's PoP)
    # the plan's entries are copies: a caller changing one does not change the next country's
    sc["ground"]["builtin"][0]["statuses"] = "all"
    assert "statuses" not in GROUND_SEGMENTS[2026].builtin[0]


def test_every_rule_gateway_is_in_the_2026_set():
    from leonet.ground.builtin import builtin_sites

    names = set(builtin_sites("starlink-gateways-2026").name.tolist())
    assert set(GROUND_SEGMENTS[2026].gateway_names.values()) <= names


def test_the_summary_names_the_ground_segment_it_ran_on():
    on_2023 = [a for a in assumptions("full") if a.startswith("ground segment")]
    on_2026 = [a for a in assumptions("full", ground=2026) if a.startswith("ground segment")]
    assert "2023-10-10" in on_2023[0] and "2026-03-20" in on_2026[0]
    assert any("PoPs the 2026 list lacks" in a for a in assumptions("full", ground=2026))


def test_another_year_is_refused_naming_the_option(tmp_path):
    with pytest.raises(InputError, match="2023 or 2026, got 2024") as err:
        ground_segment(2024)
    assert err.value.location == "--ground"
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "realism", "--countries", "DEU", "--ground", "2024",
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--ground" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_malaysia_gets_its_gateway_on_the_2026_list(tmp_path):
    # in this process (what `leonet realism --countries MYS --fast --no-references --ground G`
    # runs; the option's door is the CLI test above): two interpreter starts fewer
    from leonet.realism.check import run_realism
    from leonet.realism.metrics import read_published_metrics, shipped_metrics_path

    jan = read_published_metrics(shipped_metrics_path())
    latency = {}
    for ground in (2023, 2026):
        result = run_realism(jan, ["MYS"], mode="fast", references=False, work_dir=tmp_path / str(ground),
                             ground=ground)
        (row,) = [r for r in result.rows if r["metric"] == "latency_p50"]
        latency[ground] = float(row["leonet"])
        assert f"community {'map of 2023-10-10' if ground == 2023 else 'list of 2026-03-20'}" in " ".join(result.summary)
    # published 57.9 ms (Jan 2024): the 2023 map has nothing near; the 2026 list a gateway in Sarawak
    assert latency[2023] > 120 and 40 < latency[2026] < 65, latency


def test_the_landing_rule_goes_with_the_ground_segment():
    """Dishes land near them (home-in-reach) on the 2023 map, where it was measured; on the 2026 list
    the gateways near Kyiv feed Warsaw, a PoP the Aug 2024 GeoIP feed homes nobody there on, so that
    segment lands anywhere; the summary says which."""
    from datetime import date

    from leonet.scenario.calibration import model_sections

    assert model_sections(date(2024, 1, 6), 2023)["network"]["landing"] == "home-in-reach"
    assert model_sections(date(2024, 1, 6), 2026)["network"]["landing"] == "anywhere"
    assert any("network.landing: home-in-reach" in a for a in assumptions("full", ground=2023))
    assert any("network.landing: anywhere" in a for a in assumptions("full", ground=2026))
