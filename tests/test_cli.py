"""The command line, end to end, in a subprocess as a user runs it."""

import subprocess
import sys

import pandas as pd
import pytest

LEONET = [sys.executable, "-m", "leonet.cli"]


def cli(*args, cwd=None):
    return subprocess.run([*LEONET, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.slow
def test_shortened_default_run(tmp_path):
    out = tmp_path / "res"
    r = cli("run", "--duration", "20", "--step", "2", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    # The default is ukraine-2022: the real sky of 23 Feb 2022 (1,600 satellites), 62 dish sites.
    assert "1,600 satellites" in r.stdout and "Kyiv" in r.stdout and "Coverage gaps" in r.stdout
    assert "Resilience per dish group" in r.stdout and "Throughput per dish group" in r.stdout
    assert (out / "report.html").exists()
    steps = pd.read_parquet(out / "site_steps")
    sites = pd.read_parquet(out / "sites.parquet")
    assert len(steps) == 10 * len(sites)
    dishes = steps[steps["site"].isin(sites.index[sites["kind"] == "dish"])]
    assert (dishes["n_visible"] > 10).all()  # Gen1 over Ukraine: dozens in view at 25 deg
    assert not (out / "visibility").exists()  # the default keeps the results small
    assert (out / "scenario.yaml").exists() and (out / "manifest.json").exists()
    # Running again resumes: nothing to recompute.
    r2 = cli("run", "--duration", "20", "--step", "2", "--out", str(out), "--quiet")
    assert r2.returncode == 0 and "resumed" in r2.stdout
    # A different scenario in the same folder is refused, and the folder is kept.
    r3 = cli("run", "--duration", "30", "--step", "2", "--out", str(out), "--quiet")
    assert r3.returncode == 2 and "different scenario" in r3.stderr and "Traceback" not in r3.stderr
    assert len(pd.read_parquet(out / "site_steps")) == 10 * len(sites)


def test_bad_file_gives_one_message_and_status_2(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nconstellation: {shells: [{altitude_km: 550, inclination_deg: 53, planes: 0, sats_per_plane: 2}]}\n"
                 "time: {start: 2022-03-01T00:00:00Z, duration_s: 10, step_s: 1}\n")
    r = cli("run", str(p), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    err = r.stderr.replace("\n", "")  # the console folds a long path at 80 columns
    assert "bad.yaml" in err and "constellation.shells[0].planes" in err
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [["run", "missing.yaml"], ["summary", "nowhere"], ["run", "--step", "0"]])
def test_other_bad_inputs(tmp_path, args):
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_presets_lists_everything():
    r = cli("presets")
    assert r.returncode == 0
    for name in ("ukraine-2022", "ukraine-gen1", "hypatia-starlink", "starlink-shell1", "starlink-gen1", "starlink-gen2", "kuiper", "hypatia-top100"):
        assert name in r.stdout


@pytest.mark.parametrize("command", ["run", "presets", "validate", "summary", "report", "serve", "export"])
def test_help_explains_options(command):
    r = cli(command, "--help")
    assert r.returncode == 0 and "Usage" in r.stdout
    if command == "run":
        for opt in ("--out", "--duration", "--step", "--start", "--set", "--overwrite", "--quiet"):
            assert opt in r.stdout


def test_validate_show_writes_a_scenario_file(tmp_path):
    # Saved from a narrow terminal, the shown scenario is a valid file (no wrapping, the verdict on
    # stderr) that names its files by absolute path (a preset's are relative to leonet's folder).
    import subprocess
    import sys

    from leonet.scenario import load_scenario

    r = subprocess.run([sys.executable, "-m", "leonet", "validate", "ukraine-2022", "--show"], capture_output=True,
                       text=True, timeout=300, env={"COLUMNS": "60", "PATH": ""}, cwd=tmp_path)
    assert r.returncode == 0 and "valid" in r.stderr and "valid -" not in r.stdout
    (tmp_path / "s.yaml").write_text(r.stdout)
    shown, preset = load_scenario(tmp_path / "s.yaml"), load_scenario("ukraine-2022")
    assert shown.time == preset.time and shown.events == preset.events and shown.ground.sites == preset.ground.sites
    assert [f.path for f in shown.constellation.orbit_files] == \
        [str(preset.resolve_path(f.path)) for f in preset.constellation.orbit_files]


def test_sites_region_on_a_set_without_regions_is_an_error():
    r = cli("sites", "starlink-gateways-2026", "--region", "Europe")
    assert r.returncode == 2 and "has no regions" in r.stderr
    r = cli("sites", "starlink-gateways-2023", "--region", "Europe")
    assert r.returncode == 0 and "in Europe" in r.stdout


def test_leonets_python_warnings_read_as_one_line_once(tmp_path):
    """A run past the Earth orientation table's last measured day: its warning reads
    "warning: ..." once, not Python's file:line, source line, and again from a second module."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "leonet.cli", "run", "ukraine-gen1", "--duration", "3", "--start",
                        "2099-01-01T00:00:00Z", "--out", str(tmp_path / "o"), "--no-report", "-q"],
                       capture_output=True, text=True, timeout=300, env={"COLUMNS": "200", "PATH": ""})
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if "Earth orientation table" in x or "earth_rotation.py" in x]
    assert len(lines) == 1 and lines[0].startswith("warning: "), r.stderr


LONG_GROUP = "a-dish-group-with-a-name-far-longer-than-eighty-columns-allow-in-a-table"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A run of seconds: 36 satellites, one dish of a long-named group, a gateway and a PoP."""
    import leonet

    data = {"name": "tiny", "constellation": {"shells": [{"altitude_km": 550, "inclination_deg": 53, "planes": 6,
                                                           "sats_per_plane": 6}]},
            "ground": {"sites": [{"name": "A", "lat_deg": 50, "lon_deg": 30, "group": LONG_GROUP},
                                 {"name": "G", "lat_deg": 51, "lon_deg": 31, "kind": "gateway"},
                                 {"name": "P", "lat_deg": 50, "lon_deg": 8, "kind": "pop"}]},
            "time": {"start": "2022-03-01T12:00:00Z", "duration_s": 60, "step_s": 20}}
    out = tmp_path_factory.mktemp("tiny") / "res"
    leonet.run(leonet.scenario_from_dict(data), out_dir=out)
    return out


def test_tables_are_whole_when_stdout_is_no_terminal(tiny_run):
    """`leonet summary RES > log`: rich laid tables out for 80 columns, so names read `a-dish…`.
    Without a terminal and without COLUMNS the tables are 200 columns wide; COLUMNS still rules."""
    from typer.testing import CliRunner

    from leonet.cli import app

    r = CliRunner(env={"COLUMNS": None}).invoke(app, ["summary", str(tiny_run)])
    assert r.exit_code == 0, r.output
    assert LONG_GROUP in r.stdout
    r = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["summary", str(tiny_run)])
    assert r.exit_code == 0 and LONG_GROUP not in r.stdout  # as asked: 80 columns


def test_summary_names_the_sites_as_the_run_did(tiny_run):
    """`leonet summary` said "3 sites" where `leonet run` had said what they were."""
    from typer.testing import CliRunner

    from leonet.cli import app

    r = CliRunner(env={"COLUMNS": None}).invoke(app, ["summary", str(tiny_run)])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("tiny: 36 satellites; 1 dish, 1 gateway, 1 pop; 3 steps"), r.stdout


def test_serve_refuses_an_unknown_dish_before_starting(tiny_run, monkeypatch, capsys):
    import leonet.app.server as server
    from leonet.cli import main

    started = []
    monkeypatch.setattr(server, "serve", lambda *a, **k: started.append(k))
    assert main(["serve", str(tiny_run), "--dish", "NOPE"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--dish" in err and "no dish 'NOPE'" in err and not started
    assert main(["serve", str(tiny_run), "--dish", "a"]) == 2 and "did you mean 'A'" in capsys.readouterr().err
    assert main(["serve", str(tiny_run), "--dish", "A"]) == 0 and started and started[0]["dish"] == "A"


def test_sites_options_without_a_set_are_refused(capsys):
    from leonet.cli import main

    for args in (["--region", "nope"], ["--region", "Europe"], ["--search", "Kyiv"]):
        assert main(["sites", *args]) == 2, args
        err = " ".join(capsys.readouterr().err.split())
        assert "give the set" in err and args[0] in err


def test_a_bad_dask_address_writes_nothing(tmp_path, capsys):
    """`run --dask nope://x` was a traceback after manifest.json and the static tables were
    written; `--dask tcp://127.0.0.1:1` a clean error that left the same partial folder. Both are
    checked before the results folder is prepared."""
    pytest.importorskip("distributed")
    from leonet.cli import main

    for address, words in (("nope://x", "not a Dask scheduler address"),
                           ("tcp://127.0.0.1:1", "no Dask scheduler answered")):
        out = tmp_path / address.split(":")[0]
        assert main(["run", "ukraine-gen1", "--duration", "2", "--out", str(out), "--dask", address, "-q",
                     "--no-report"]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert "--dask" in err and words in err and "Traceback" not in err
        assert not out.exists()


def test_a_bad_dask_address_from_python_writes_nothing(tmp_path):
    """leonet.run(dask=...) checks the address before the results folder is prepared, as the CLI
    does (it left manifest.json and the static tables behind)."""
    pytest.importorskip("distributed")
    import leonet
    from leonet.errors import InputError

    out = tmp_path / "run"
    with pytest.raises(InputError, match="not a Dask scheduler address"):
        leonet.run(leonet.load_scenario("ukraine-gen1", {"time.duration_s": 2}), out_dir=out, dask="nope://x")
    assert not out.exists()


@pytest.mark.parametrize("args", [["export", "csv"], ["export", "czml"], ["report"]])
def test_a_refused_command_prints_its_error_alone(tmp_path, args):
    """No empty progress bar above the error, and the path whole on one line, however long
    (the console used to fold it at 80 columns)."""
    missing = tmp_path / ("a-folder-name-long-enough-to-pass-eighty-columns-" * 2 + "nope")
    r = cli(*args, str(missing))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"error: {missing}: no such results folder"], r.stderr
