"""``leonet realism`` checks its inputs at the door: a ``--set`` the run cannot take, an ``--out``
it cannot write, a ``--date`` that contradicts the file's own, fail before anything runs, naming
the value; a run in which no country ran does not end with exit code 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest

from leonet.errors import InputError
from leonet.realism.metrics import parse_published_metrics, read_published_metrics

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow

UKR = {"latency_p20": 74.59, "latency_p50": 60.381, "latency_p80": 52.73, "download_p20": 42.559,
       "download_p50": 153.387, "download_p80": 223.778, "upload_p20": 8.618, "upload_p50": 15.972,
       "upload_p80": 23.899}


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "leonet.cli", "realism", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "250"})


def _words(text: str) -> str:
    return " ".join(text.split())


def _refused(overrides, countries=("UKR", "DEU"), references=False):
    """The InputError run_realism raises for ``overrides``; asserts no country ran first."""
    from leonet.realism.check import run_realism

    ran = []
    with pytest.raises(InputError) as info:
        run_realism(read_published_metrics(), list(countries), mode="fast", references=references,
                    overrides=overrides, progress=lambda k, n, c: ran.append(c))
    assert ran == [], "a country ran before the override was refused"
    return str(info.value)


# --- 1. overrides that remove what the check reads ---------------------------------------------

def test_the_service_model_switched_off_is_refused_naming_the_field(tmp_path):
    r = _cli("--countries", "UKR", "--no-references", "--fast", "--set", "service.enabled=false",
             "--out", str(tmp_path / "o"))
    assert r.returncode == 2, r.stderr
    assert "service.enabled" in r.stderr and "Traceback" not in r.stderr
    assert "1/1" not in r.stdout and not (tmp_path / "o").exists()


def test_no_sample_dishes_is_refused_naming_the_field():
    message = _refused({"ground.sites": []})
    assert "ground.sites" in message and "0 dish site(s)" in message and "sample dishes" in message


def test_a_dish_added_beside_the_sample_dishes_is_refused(tmp_path):
    extra = {"name": "extra", "lat_deg": 50.45, "lon_deg": 30.52, "kind": "dish", "dishes": 1}
    from leonet.realism.calibrated import country_plan, extract_orbit_file, orbit_set_for

    m = read_published_metrics()
    plan = country_plan("UKR", "UA", m.date, extract_orbit_file(orbit_set_for(m.date), tmp_path), "fast")
    message = _refused({"ground.sites": plan.scenario["ground"]["sites"] + [extra]}, countries=("UKR",))
    assert "ground.sites" in message and f"{len(plan.weights) + 1} dish site(s)" in message


def test_a_country_whose_overridden_scenario_lacks_the_service_model_is_not_run(tmp_path):
    """run_country (the API, no pre-check) gives "not run" rows naming the field, not a KeyError."""
    from leonet.realism.calibrated import extract_orbit_file, orbit_set_for
    from leonet.realism.check import run_country

    m = read_published_metrics()
    orbit = extract_orbit_file(orbit_set_for(m.date), tmp_path)
    rows = run_country("UKR", m, orbit, tmp_path, "fast", {"service.enabled": False})
    assert all(r["leonet"] is None and "service.enabled" in r["note"] for r in rows)


# --- 2. overrides that fail only when the model is built ---------------------------------------

@pytest.mark.parametrize("overrides, field", [
    ({"network.bent_pipe_only_gateways": ["Nowhere, XX"]}, "network.bent_pipe_only_gateways"),
    ({"ground.sites[0].home_pop": "zzzzzz1"}, "ground.sites.home_pop"),
])
def test_an_override_the_model_refuses_fails_before_any_country_runs(overrides, field):
    message = _refused(overrides)
    assert field in message and "--set" in message and "UKR" in message


def test_an_override_the_reference_rows_cannot_take_fails_before_any_country_runs():
    # the 1 Hz dish reference has one site: its item [1] does not exist (the countries' do)
    message = _refused({"ground.sites[1].dishes": 1}, countries=("UKR",), references=True)
    assert "1 Hz dish" in message and "--no-references" in message and "ground.sites[1]" in message


def test_a_build_time_override_fails_on_the_command_line(tmp_path):
    r = _cli("--countries", "UKR,DEU", "--no-references", "--fast", "--set",
             'network.bent_pipe_only_gateways=["Nowhere, XX"]', "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Nowhere, XX" in r.stderr and "Traceback" not in r.stderr
    assert "1/2" not in r.stdout and not (tmp_path / "o").exists()


def test_when_no_country_runs_the_check_fails(monkeypatch):
    from leonet.realism import check

    def no_plan(iso3, *args, **kwargs):
        raise InputError("no plan today", location="countries")

    monkeypatch.setattr(check, "country_plan", no_plan)
    with pytest.raises(InputError, match=r"no country ran: all 2 failed with: countries: no plan today"):
        check.run_realism(read_published_metrics(), ["UKR", "DEU"], mode="fast", references=True)


def test_no_country_ran_names_each_reason():
    from leonet.realism.check import NOT_RUN, _none_ran

    rows = {"UKR": [{"leonet": None, "note": NOT_RUN + "a"}], "DEU": [{"leonet": None, "note": NOT_RUN + "b"}]}
    assert str(_none_ran(["UKR", "DEU"], rows)) == "no country ran: UKR: a; DEU: b"
    assert str(_none_ran(["UKR"], rows)) == "no country ran: UKR: a"
    rows["DEU"] = [{"leonet": 42.0, "note": "ran"}]
    assert _none_ran(["UKR", "DEU"], rows) is None


def test_a_run_where_no_country_ran_exits_non_zero(tmp_path):
    metrics = tmp_path / "only_atf_2024-01-06.json"   # the French Southern Territories: no city, no GeoIP place
    metrics.write_text(json.dumps({"ATF": UKR}))
    r = _cli("--metrics", str(metrics), "--no-references", "--fast", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "no country ran" in r.stderr and "ATF" in r.stderr, (r.stdout, r.stderr)
    assert not (tmp_path / "o").exists()


# --- 3. --out ----------------------------------------------------------------------------------

def test_out_naming_a_file_fails_before_running(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    r = _cli("--countries", "UKR", "--no-references", "--fast", "--out", str(afile), timeout=120)
    assert r.returncode == 2 and "--out" in r.stderr and "is a file" in r.stderr and "Traceback" not in r.stderr
    assert "1/1" not in r.stdout and afile.read_text() == "mine\n"


def test_check_out_dir(tmp_path):
    from leonet.realism.check import RealismResult, write_table
    from leonet.realism.door import check_out_dir

    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="afile is a file"):
        check_out_dir(tmp_path / "afile" / "sub")
    assert check_out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # nothing made by the check
    (tmp_path / "busy" / "realism.csv").mkdir(parents=True)
    with pytest.raises(InputError, match="realism.csv is in the way"):
        check_out_dir(tmp_path / "busy")
    with pytest.raises(InputError, match="is a file, not a folder"):
        write_table(RealismResult(), tmp_path / "afile")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(InputError, match="not writable"):
                check_out_dir(locked / "o")
        finally:
            locked.chmod(0o700)


# --- 4. --date ---------------------------------------------------------------------------------

def test_a_date_that_contradicts_the_file_name_is_refused():
    text = json.dumps({"UKR": UKR})
    with pytest.raises(InputError, match=r"2023-09-08.*not the one in the file name \(2024-01-06\)"):
        parse_published_metrics(text, "residential_countries_2024-01-06.json", date(2023, 9, 8))
    assert parse_published_metrics(text, "m_2024-01-06.json", date(2024, 1, 6)).date == date(2024, 1, 6)
    assert parse_published_metrics(text, "mine.json", date(2023, 9, 8)).date == date(2023, 9, 8)
    # a name whose digits are no calendar date holds no date: the one given is the file's
    assert parse_published_metrics(text, "m_2024-02-30.json", date(2024, 2, 29)).date == date(2024, 2, 29)


def test_date_disagreeing_with_the_shipped_file_fails_on_the_command_line(tmp_path):
    r = _cli("--countries", "UKR", "--no-references", "--fast", "--date", "2023-09-08",
             "--out", str(tmp_path / "o"), timeout=120)
    assert r.returncode == 2 and "2023-09-08" in r.stderr and "2024-01-06" in r.stderr
    assert not (tmp_path / "o").exists()


# --- 5. the count of countries ----------------------------------------------------------------

def test_the_count_of_countries_skips_blanks_and_says_country_for_one(tmp_path):
    from leonet.realism.door import chosen_countries

    assert chosen_countries(read_published_metrics(), ["UKR", "", " deu "]) == ["UKR", "DEU"]
    # an override refused before running ends each command right after the count
    stop = ["--no-references", "--fast", "--set", "service.enabled=false", "--out", str(tmp_path / "o")]
    r = _cli("--countries", "UKR,,DEU", *stop, timeout=120)
    assert r.returncode == 2 and "), 2 countries" in _words(r.stdout), r.stdout
    r = _cli("--countries", "UKR", *stop, timeout=120)
    assert r.returncode == 2 and "), 1 country" in _words(r.stdout) and "1 countries" not in _words(r.stdout)


@pytest.mark.parametrize("code_column, codes", [("clli", ["FRNTDEU1", "LNDNGBR1"]), ("pop_code", ["frntdeu1", "lndngbr1"])])
def test_home_pop_share_reads_either_sets_pop_codes(code_column, codes):
    """The 2023 map's PoPs carry `clli`, the 2026 list's `pop_code`: a sensitivity run on the 2026
    ground segment (--set ground.builtin=...) once ended in a KeyError on 'clli'."""
    from leonet.realism.check import _home_share, _pop_codes

    sites = pd.DataFrame({"name": ["d0", "d1", "p0", "p1"], "kind": ["dish", "dish", "pop", "pop"],
                          "lat_deg": [50.0, 50.0, 50.1, 51.5], "lon_deg": [30.0, 30.0, 8.6, -0.1],
                          code_column: [None, None, *codes]})
    steps = pd.DataFrame({"site": [0, 0, 1, 1], "home_pop": [2, 2, 3, 3], "pop": [2, 3, 3, 3],
                          "state": ["CONNECTED", "CONNECTED", "CONNECTED", "NO_PATH"]})
    label, share = _home_share(steps, np.ones(4), _pop_codes(sites))
    assert label == "frntdeu1/lndngbr1"
    assert share == pytest.approx(2 / 3)   # three online dish-steps, two of them leave at home
    # weighted by the subscribers each sample dish stands for, as the figures and the breakdown are
    # (it once counted every sample dish alike)
    _, share = _home_share(steps, np.array([9.0, 1.0, 1.0, 1.0]), _pop_codes(sites))
    assert share == pytest.approx((9 + 0 + 1) / (9 + 9 + 1))


def test_a_country_the_file_lacks_is_named_with_the_ones_it_has():
    from leonet.realism.door import chosen_countries
    from leonet.realism.metrics import read_published_metrics

    metrics = read_published_metrics()
    with pytest.raises(InputError) as err:
        chosen_countries(metrics, ["UKZ"])
    text = str(err.value)
    assert "residential_countries_2024-01-06.json" in text and "countries" in text
    assert "['UKZ']" in text and "did you mean 'UKR'" in text and "DEU" in text
