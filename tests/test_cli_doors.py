"""Command doors that are checked before any work starts: `leonet report` on a folder that holds
no run, and `leonet dish --horizon` naming a missing or malformed file. Each says one line naming
the folder, option or file line, exits 2, and draws no progress bar first."""

from __future__ import annotations

import subprocess
import sys

import pytest

LEONET = [sys.executable, "-m", "leonet.cli"]


def cli(*args, cwd=None):
    return subprocess.run([*LEONET, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={"COLUMNS": "200", "PATH": ""})


def test_report_of_a_folder_without_a_run_is_refused_before_the_bar(tmp_path):
    r = cli("report", str(tmp_path))
    assert r.returncode == 2
    assert "is not a leonet results folder (no manifest.json)" in r.stderr
    assert "report" not in r.stdout.lower() and "Traceback" not in r.stderr
    assert not (tmp_path / "report.html").exists()


def test_dish_horizon_missing_file_names_the_option(tmp_path):
    r = cli("dish", "50.45", "30.52", "--horizon", str(tmp_path / "nope.csv"))
    assert r.returncode == 2 and "--horizon: no such file" in r.stderr and "nope.csv" in r.stderr


def test_dish_horizon_folder_is_not_a_file(tmp_path):
    r = cli("dish", "50.45", "30.52", "--horizon", str(tmp_path))
    assert r.returncode == 2 and "--horizon" in r.stderr and "is not a file" in r.stderr


def test_dish_horizon_bad_line_names_the_file_and_line(tmp_path):
    h = tmp_path / "h.csv"
    h.write_text("azimuth_deg,elevation_deg\n0,10\nx,5\n")
    r = cli("dish", "50.45", "30.52", "--horizon", str(h))
    assert r.returncode == 2 and "h.csv" in r.stderr and "line 3" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_run_refused_by_its_folder_draws_no_bar(tmp_path):
    """A run whose folder holds another scenario's results is refused after the model is built:
    its error is printed alone, without the 'building' bar drawn while the model was built."""
    out = tmp_path / "r"
    first = cli("run", "--duration", "15", "--step", "15", "--out", str(out), "--no-report", "--quiet")
    assert first.returncode == 0, first.stderr
    r = cli("run", "--set", "name=another", "--duration", "15", "--step", "15", "--out", str(out), "--no-report")
    assert r.returncode == 2 and "different scenario" in r.stderr, r.stderr
    assert "building" not in r.stderr and "━" not in r.stderr and "Traceback" not in r.stderr
