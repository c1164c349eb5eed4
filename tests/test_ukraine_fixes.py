"""Fixes from the ukraine-2022-year hunt: a power cut's backup share counted in dishes, not sites;
the year preset's calendar (31 Dec simulated, windows over the grid attacks' batteries) and its
dish total; `leonet validate` giving the run's warnings; event errors that name their reason."""

import re
import textwrap
from datetime import timedelta

import numpy as np
import pytest
import yaml
from hypothesis import given, settings, strategies as st

import leonet
from leonet.errors import InputError
from leonet.scenario import load_scenario
from leonet.threats import timeline

BASE = """
name: fixes
constellation: starlink-shell1
ground:
  dish_groups:
    - {name: Mariupol, lat_deg: 47.0971, lon_deg: 37.5434, count: 6, dishes_per_site: 88, radius_km: 10, seed: 10}
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 3, radius_km: 10, seed: 1}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 60, step_s: 10}
terrestrial: {providers: builtin-ua-2022}
outputs: {visibility_pairs: false}
"""


def build(events: str):
    data = yaml.safe_load(textwrap.dedent(BASE) + textwrap.dedent(events))
    return leonet.build_model(leonet.scenario_from_dict(data, source="fixes.yaml"))


# -- power_cut backup_share: a share of dishes ---------------------------------------------------

def test_six_equal_sites_at_a_third_back_up_exactly_two():
    for seed in range(50):
        assert timeline.backed_up_sites(np.full(6, 88), 1 / 3, seed).sum() == 2
        assert timeline.backed_up_sites(np.full(6, 88), 0.33, seed).sum() == 2


def test_share_0_backs_up_none_and_share_1_all():
    dishes = np.array([1, 5, 300, 7, 7, 40])
    for seed in range(10):
        assert not timeline.backed_up_sites(dishes, 0.0, seed).any()
        assert timeline.backed_up_sites(dishes, 1.0, seed).all()


def test_unequal_sites_meet_the_dish_share():
    # one big site and many small: the share is met in dishes, whatever the number of sites
    dishes = np.array([500] + [10] * 50)
    for seed in range(20):
        chosen = timeline.backed_up_sites(dishes, 0.5, seed)
        assert abs(dishes[chosen].sum() - 500) <= 250
    assert np.array_equal(timeline.backed_up_sites(dishes, 0.5, 4), timeline.backed_up_sites(dishes, 0.5, 4))


@settings(max_examples=200, deadline=None)
@given(dishes=st.lists(st.integers(1, 1000), min_size=1, max_size=60),
       share=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_backed_up_dishes_are_within_half_a_site_of_the_share(dishes, share, seed):
    dishes = np.array(dishes)
    chosen = timeline.backed_up_sites(dishes, share, seed)
    assert abs(dishes[chosen].sum() - share * dishes.sum()) <= dishes.max() / 2 + 1e-9
    assert np.array_equal(chosen, timeline.backed_up_sites(dishes, share, seed))  # a pure function of the seed


def test_power_cut_backs_up_a_third_of_mariupols_dishes():
    # The preset's event: seed 3 drew 3 of the 6 sites (half the dishes) when each site was a coin.
    model = build("""
    events:
      - {name: mariupol-power, type: power_cut, start_s: 0, backup_share: 0.33, backup_hours: 720,
         target: {groups: [Mariupol], seed: 3}}
    """)
    t0 = int(model.t_ns[0])
    dark = model.timeline.state_at(t0 + 10**9).dish_offline
    mariupol = np.asarray(model.sites.group) == "Mariupol"
    assert (~dark[mariupol]).sum() == 2 and dark[mariupol].sum() == 4
    assert not dark[~mariupol].any()


# -- the year preset -----------------------------------------------------------------------------

YEAR = "ukraine-2022-year"


def test_year_runs_through_31_december():
    tm = load_scenario(YEAR).time
    end = tm.start + timedelta(seconds=tm.duration_s)
    assert end.isoformat().startswith("2023-01-01T00:00:00")


def test_year_windows_cover_each_grid_cut_through_its_batteries():
    # From the cut to the batteries' end the instants are a minute apart, and the batteries' end is
    # an instant itself: no step before it is held past it (a step lasts to the next instant).
    sc = load_scenario(YEAR)
    start_ns = np.datetime64(sc.time.start.replace(tzinfo=None), "ns").astype(np.int64)
    t = start_ns + sc.time.offsets_ns()
    cuts = [e for e in sc.events if e.type == "power_cut" and e.end is not None]
    assert {e.name for e in cuts} == {"grid-attack-15-nov", "grid-attack-23-nov"}
    for e in cuts:
        cut = np.datetime64(e.start.replace(tzinfo=None), "ns").astype(np.int64)
        flat = cut + int(e.backup_hours * 3600e9)
        inside = t[(t >= cut) & (t <= flat)]
        assert inside[0] == cut and inside[-1] == flat, e.name
        assert np.diff(inside).max() == 60 * 10**9, e.name


def test_year_comments_give_the_dish_total_the_groups_hold():
    text = (leonet.scenario.presets.preset_root() / "scenarios" / f"{YEAR}.yaml").read_text()
    groups = yaml.safe_load(text)["ground"]["dish_groups"]
    total = sum(g["count"] * g.get("dishes_per_site", 1) for g in groups)  # backhaul dishes: 1 each
    assert total == 20_966
    comment = next(line for line in text.splitlines() if line.strip().startswith("dish_groups:"))
    assert f"{total:,}" in comment
    assert "~22,000" not in comment and not re.search(r"scaled to ~22,000", text)


# -- validate says the run's warnings ----------------------------------------------------------

def test_validate_warns_about_events_and_windows_after_the_end(tmp_path, capsys):
    from leonet.cli import main

    data = yaml.safe_load(textwrap.dedent(BASE))
    data["time"]["windows"] = [{"name": "late", "start": "2022-03-02T00:00:00Z", "duration_s": 60, "step_s": 10}]
    data["events"] = [{"name": "too-late", "type": "terrestrial_outage", "start_s": 3600, "target": {"groups": ["Kyiv"]}}]
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["validate", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "valid" in out
    assert "change nothing in this run: too-late" in out
    assert "not simulated: late" in out


# -- event errors ---------------------------------------------------------------------------------

def test_isp_outage_in_a_city_without_sites_blames_the_cities_filter():
    # Kupiansk is in the providers table, but no site of this scenario is near it
    with pytest.raises(InputError) as err:
        build("""
        events:
          - {name: hack, type: isp_outage, providers: [Ukrtelecom], cities: [Kupiansk], start_s: 0}
        """)
    assert err.value.location == "events[0] (hack).cities"
    assert "Kupiansk" in err.value.message and "Ukrtelecom" not in err.value.message


def test_duplicate_event_names_name_the_second_one():
    with pytest.raises(InputError) as err:
        build("""
        events:
          - {name: cut, type: terrestrial_outage, start_s: 0, target: {groups: [Kyiv]}}
          - {name: other, type: terrestrial_outage, start_s: 0, target: {groups: [Kyiv]}}
          - {name: cut, type: terrestrial_outage, start_s: 10, target: {groups: [Kyiv]}}
        """)
    assert err.value.location == "events[2] (cut).name"
    assert "events[0]" in err.value.message


def test_isp_outage_whose_target_leaves_no_site_of_its_cities_blames_the_target():
    with pytest.raises(InputError) as err:
        build("""
        events:
          - {name: hack, type: isp_outage, providers: [Ukrtelecom], cities: [Mariupol], start_s: 0,
             target: {groups: [Kyiv]}}
        """)
    assert err.value.location == "events[0] (hack).target"
    assert "Mariupol" in err.value.message and "Ukrtelecom" not in err.value.message


def test_isp_outage_at_level_1_says_it_changes_nothing():
    with pytest.raises(InputError) as err:
        build("""
        events:
          - {name: hack, type: isp_outage, providers: [Triolan], level: 1, start_s: 0}
        """)
    assert err.value.location == "events[0] (hack).level"
