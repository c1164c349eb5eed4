"""Dishes from population (GeoNames cities over 15,000 people, shipped with leonet) and from demand files."""

import numpy as np
import pytest

import leonet
from leonet.errors import InputError
from leonet.ground.population import find_city, split_dishes

BASE = {"name": "pop", "constellation": "starlink-shell1",
        "time": {"start": "2022-03-01T12:00:00Z", "duration_s": 1, "step_s": 1}}


def test_find_city_by_name_and_alias():
    kyiv = find_city("Kyiv", "UA")
    assert kyiv is not None and kyiv.population > 2_000_000
    assert abs(kyiv.lat_deg - 50.45) < 0.1 and abs(kyiv.lon_deg - 30.52) < 0.1
    assert find_city("Kiev").name == "Kyiv"  # an alternate name
    assert find_city("Nowherezzz") is None


def test_split_is_exact():
    assert list(split_dishes(10, 3)) == [4, 3, 3] and split_dishes(1001, 7).sum() == 1001


def test_population_times_take_up():
    sc = leonet.scenario_from_dict({**BASE, "ground": {"population_dishes": [
        {"countries": ["UA"], "min_population": 1_000_000, "take_up": 0.001, "sites_per_city": 4}]}})
    m = leonet.build_model(sc)
    kyiv = find_city("Kyiv", "UA")
    in_kyiv = m.sites.group == "Kyiv"
    assert in_kyiv.sum() == 4
    assert m.dish_count[in_kyiv].sum() == round(kyiv.population * 0.001)
    assert set(m.sites.group) >= {"Kyiv", "Kharkiv", "Odesa"}


def test_demand_file(tmp_path):
    (tmp_path / "d.csv").write_text("city,country,dishes\nKyiv,UA,1200\nLviv,UA,300\n")
    sc = leonet.scenario_from_dict({**BASE, "ground": {"demand_files": [{"path": "d.csv", "sites_per_city": 3}]}},
                                   base_dir=tmp_path)
    m = leonet.build_model(sc)
    assert m.dish_count[m.sites.group == "Kyiv"].sum() == 1200
    assert m.dish_count[m.sites.group == "Lviv"].sum() == 300


@pytest.mark.parametrize("content,needle", [
    ("city,country,dishes\nKyiv,UA,10\nNowherezzz,,5\n", "line 3"),
    ("city,dishes\nKyiv,many\n", "line 2"),
    ("town,count\nKyiv,5\n", "header"),
])
def test_bad_demand_files(tmp_path, content, needle):
    (tmp_path / "d.csv").write_text(content)
    sc = leonet.scenario_from_dict({**BASE, "ground": {"demand_files": [{"path": "d.csv"}]}}, base_dir=tmp_path)
    with pytest.raises(InputError) as e:
        leonet.build_model(sc)
    assert "d.csv" in str(e.value) and needle in str(e.value)


def test_unknown_country_and_city_are_named():
    with pytest.raises(InputError) as e:
        leonet.build_model(leonet.scenario_from_dict({**BASE, "ground": {"population_dishes": [
            {"countries": ["XX"], "take_up": 0.001}]}}))
    assert "ground.population_dishes[0].countries" in str(e.value)
    with pytest.raises(InputError) as e:
        leonet.build_model(leonet.scenario_from_dict({**BASE, "ground": {"population_dishes": [
            {"cities": ["Nowherezzz"], "take_up": 0.001}]}}))
    assert "Nowherezzz" in str(e.value)
