"""A results folder missing a whole table or a single file the run wrote is damaged, for every reader.

1. `leonet export csv` verifies the folder before its first file, as `summary`, `report`, `export
   czml` and the app do: a table folder deleted whole (dish_steps/) was left out of the export in
   silence (rc 0, no dish_steps.csv, no daily.csv).
2. sites.parquet and satellites.parquet are written by every run: a missing one is refused, named
   (export csv wrote `? > ?` path names and empty satellite names; summary and report went on).
3. run.json, obstructions.json, events.json and isl_candidates.json are written by every run since
   the manifest's format 2: a missing one is refused, named (a missing events.json read as a run
   without events: the resilience table and the Events line vanished). A folder of an older leonet
   (format 1, none of them) still reads, with its note. Running the same command again writes the
   missing files anew.
"""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leonet
from leonet import cli
from leonet.errors import InputError
from leonet.results.contract import read_contract
from leonet.results.store import DamagedResults, Manifest, ResultStore

RUN = ("ukraine-gen1", {"time.duration_s": 20})  # a shared run of tests/conftest.py (as test_first_hour_app's)
CONTRACT_JSON = ("run.json", "obstructions.json", "events.json", "isl_candidates.json")


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch):
    """Messages on one line, so that a path is never wrapped in two."""
    monkeypatch.setattr(cli.console, "width", 1000)
    monkeypatch.setattr(cli.err_console, "width", 1000)


@pytest.fixture
def copy(shared_run, tmp_path):
    return shutil.copytree(shared_run(*RUN), tmp_path / "run")


def leonet_cli(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _readers(folder, tmp_path):
    """Each reader's command and what it would write."""
    return [(["summary", folder], None),
            (["report", folder, "-o", tmp_path / "r.html"], tmp_path / "r.html"),
            (["export", "csv", folder, tmp_path / "csv"], tmp_path / "csv"),
            (["export", "csv", folder, tmp_path / "csv", "--table", "sites"], tmp_path / "csv"),
            (["export", "czml", folder, "-o", tmp_path / "r.czml"], tmp_path / "r.czml")]


def _refused_by_every_reader(capsys, folder, tmp_path, said):
    for command, output in _readers(folder, tmp_path):
        code, stdout, err = leonet_cli(capsys, *command)
        assert code == 2 and said in err and "Traceback" not in err, (command, code, err)
        assert "Service per dish group" not in stdout
        assert output is None or not output.exists(), command
    with pytest.raises(DamagedResults, match=said.replace(".", r"\.")):
        from leonet.app.run import RunData

        RunData(folder)


# -- 1. export csv checks the folder before its first file --------------------------------------------

@pytest.mark.slow
def test_export_csv_refuses_a_table_deleted_whole(capsys, copy, tmp_path):
    shutil.rmtree(copy / "dish_steps")
    code, _, err = leonet_cli(capsys, "export", "csv", copy, tmp_path / "csv")
    assert code == 2 and "dish_steps/part-000000.parquet is missing" in err, err
    assert "recompute the damaged chunks" in err and not (tmp_path / "csv").exists()
    code, _, err = leonet_cli(capsys, "export", "csv", copy)  # the default RESULTS/csv
    assert code == 2 and "dish_steps/part-000000.parquet is missing" in err and not (copy / "csv").exists()
    _refused_by_every_reader(capsys, copy, tmp_path, "dish_steps/part-000000.parquet is missing")


# -- 2. and 3. a single file the run wrote -------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", ["sites.parquet", "satellites.parquet", *CONTRACT_JSON])
def test_a_missing_single_file_is_refused_by_every_reader(capsys, copy, tmp_path, name):
    (copy / name).unlink()
    _refused_by_every_reader(capsys, copy, tmp_path, f"damaged results: {name} is missing")
    if name.endswith(".json"):  # readers that read the contract without verifying the whole folder
        with pytest.raises(DamagedResults, match=f"{name} is missing"):
            read_contract(ResultStore(copy))


@pytest.mark.slow
def test_every_missing_file_is_named_and_a_run_writes_them_anew(capsys, copy, tmp_path):
    for name in ("satellites.parquet", "events.json", "run.json"):
        (copy / name).unlink()
    shutil.rmtree(copy / "visibility")
    code, _, err = leonet_cli(capsys, "summary", copy)
    assert code == 2, err
    for said in ("satellites.parquet is missing", "events.json is missing", "run.json is missing",
                 "visibility/part-000000.parquet is missing"):
        assert said in err, err
    assert "recompute the damaged chunks and write the missing files anew" in err
    # what the message says to do mends the folder
    leonet.run(leonet.load_scenario(RUN[0], overrides=dict(RUN[1])), out_dir=copy)
    code, stdout, err = leonet_cli(capsys, "summary", copy)
    assert code == 0 and "Service per dish group" in stdout, err
    code, _, err = leonet_cli(capsys, "export", "csv", copy, tmp_path / "csv")
    assert code == 0 and (tmp_path / "csv" / "dish_steps.csv").is_file(), err


@pytest.mark.slow
def test_a_folder_of_an_older_leonet_still_reads_with_its_note(capsys, copy, tmp_path):
    """Format 1 (before the contract files): no run.json and the rest is an older run's, said."""
    for name in CONTRACT_JSON:
        (copy / name).unlink()
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, stdout, err = leonet_cli(capsys, "summary", copy)
    assert code == 0 and "written by an older leonet (no run.json)" in stdout + err, err
    code, _, err = leonet_cli(capsys, "export", "csv", copy, tmp_path / "csv")
    assert code == 0 and (tmp_path / "csv" / "dish_steps.csv").is_file(), err
    # its static tables were written by every leonet: still refused when missing
    (copy / "satellites.parquet").unlink()
    code, _, err = leonet_cli(capsys, "export", "csv", copy, tmp_path / "csv2")
    assert code == 2 and "satellites.parquet is missing" in err and not (tmp_path / "csv2").exists()


# -- the store's rule, without a simulation ----------------------------------------------------------

def _folder(tmp_path, **kw) -> ResultStore:
    store = ResultStore(tmp_path / "r")
    store.root.mkdir(parents=True)
    store.write_manifest(Manifest(**{"scenario": "x", "start_ns": 0, "step_ns": 10**9, "n_steps": 1, "chunk_steps": 1,
                                     "chunks_total": 0, "tables": [], "n_satellites": 0, "n_sites": 0,
                                     "completed": True, **kw}))
    return ResultStore(store.root)


def _write_static(store: ResultStore, name: str) -> None:
    pq.write_table(pa.table({"name": pa.array([], pa.string())}), store.root / f"{name}.parquet")


def test_the_files_a_run_wrote_follow_the_manifest(tmp_path):
    statics = ("sites.parquet", "satellites.parquet")
    assert _folder(tmp_path / "a", format_version=2).written_files() == (*statics, *CONTRACT_JSON)
    windowed = _folder(tmp_path / "b", format_version=2, uniform_steps=False).written_files()
    assert windowed == (*statics, "steps.parquet", *CONTRACT_JSON)
    assert _folder(tmp_path / "c", format_version=1).written_files() == statics


def test_a_missing_contract_file_is_damage_from_format_2_on(tmp_path):
    new = _folder(tmp_path / "new", format_version=2)
    for name in ("sites", "satellites"):
        _write_static(new, name)
    with pytest.raises(DamagedResults, match="run.json is missing; obstructions.json is missing"):
        new.verify()
    with pytest.raises(DamagedResults, match=r"events\.json is missing\. .*write the missing files anew"):
        new.read_json("events.json", default=[])
    old = _folder(tmp_path / "old", format_version=1)
    for name in ("sites", "satellites"):
        _write_static(old, name)
    old.verify()
    assert old.read_json("events.json", default=[]) == []
    assert "written by an older leonet" in read_contract(old).notes[0]


def test_a_missing_static_table_is_damage_not_an_absent_table(tmp_path):
    store = _folder(tmp_path, format_version=1)
    _write_static(store, "sites")
    assert store.static_file("steps") is None  # a uniform calendar has no steps table
    with pytest.raises(DamagedResults, match="satellites.parquet is missing"):
        store.static_file("satellites")
    with pytest.raises(DamagedResults, match="satellites.parquet is missing"):
        store.verify()
    with pytest.raises(InputError, match="satellites.parquet is missing"):
        store.read("satellites")
