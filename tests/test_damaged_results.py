"""Results that prove themselves (issue 13): the five damage cases end in one clear message and no
wrong output.

1. A run where no dish ever connects (no PoPs) runs, summarises, reports (and serves: test_app_api).
2. A truncated chunk: `summary` and `report` refuse the folder naming the file; resuming the run
   recomputes that chunk, says so, and gives the tables of an intact run.
3. A deleted chunk: the same, "missing" instead of a shorter run summarised in silence.
4. Two writers: the second run into a locked folder stops with a message, the first is untouched.
5. A full disk: the run, the report and the CSV export stop with a message naming the file, and
   leave what was there (no half-written file, no temporary file).
"""

from __future__ import annotations

import errno
import hashlib
import os

import pyarrow.parquet as pq
import pytest

import leonet
from leonet import cli
from leonet.results.store import ResultStore

# every case runs a preset through the real CLI (~13 s in all): the slow lane
pytestmark = pytest.mark.slow

SCENARIO = "ukraine-gen1"
ARGS = ["--duration", "6", "--set", "outputs.chunk_steps=2", "--quiet", "--no-report"]


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch):
    """Messages on one line, so that a path is never wrapped in two."""
    monkeypatch.setattr(cli.console, "width", 1000)
    monkeypatch.setattr(cli.err_console, "width", 1000)


def leonet_cli(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def digests(folder) -> dict[str, str]:
    """sha256 of every table's content (decoded, so that files written twice compare equal)."""
    out = {}
    for table in ("site_steps", "dish_steps", "network_steps"):
        t = ResultStore(folder).read(table).sort_by([("t", "ascending"), ("site", "ascending")] if table != "network_steps" else [("t", "ascending")])
        out[table] = hashlib.sha256(str(t.to_pydict()).encode()).hexdigest()
    return out


@pytest.fixture(scope="module")
def intact(tmp_path_factory):
    folder = tmp_path_factory.mktemp("damage") / "intact"
    assert cli.main(["run", SCENARIO, "--out", str(folder), *ARGS]) == 0
    return folder


@pytest.fixture
def copy(intact, tmp_path):
    import shutil

    return shutil.copytree(intact, tmp_path / "run")


def test_a_run_where_no_dish_connects_summarises_and_reports(capsys, tmp_path):
    out = tmp_path / "nopop"
    code, stdout, err = leonet_cli(capsys, "run", SCENARIO, "--out", str(out), *ARGS,
                                   "--set", 'ground.builtin=[{name: starlink-gateways-2023, regions: [Europe]}]')
    assert code == 0, err
    assert "no PoPs: every dish will be NO_PATH" in stdout and "0.0%" in stdout
    code, stdout, err = leonet_cli(capsys, "summary", str(out))
    assert code == 0, err
    assert "no PoPs: every dish will be NO_PATH" in stdout and "Traceback" not in err
    code, stdout, err = leonet_cli(capsys, "report", str(out))
    assert code == 0 and (out / "report.html").exists(), err
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "no PoPs: every dish will be NO_PATH" in html  # the run's warnings, in the overview
    assert "dish-steps (100.00 %) were in an outage: NO_PATH" in html


@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_a_damaged_chunk_is_refused_then_recomputed(capsys, intact, copy, damage):
    part = copy / "dish_steps" / "part-000001.parquet"
    if damage == "truncated":
        part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
        said = "dish_steps/part-000001.parquet is truncated"
    else:
        part.unlink()
        said = "dish_steps/part-000001.parquet is missing"
    for command in (["summary", str(copy)], ["report", str(copy)], ["export", "csv", str(copy)]):
        code, stdout, err = leonet_cli(capsys, *command)
        assert code == 2 and said in err and "Traceback" not in err, (command, err)
        assert "Service per dish group" not in stdout
    assert not (copy / "report.html").exists() and not (copy / "csv").exists()
    code, stdout, err = leonet_cli(capsys, "run", SCENARIO, "--out", str(copy), *ARGS)
    assert code == 0, err
    if damage == "truncated":
        assert f"recomputed: {said}" in err
    assert "resumed: 2 of 3 chunks kept" in stdout
    assert digests(copy) == digests(intact)
    code, stdout, err = leonet_cli(capsys, "summary", str(copy))
    assert code == 0 and "Service per dish group" in stdout, err


def test_a_changed_chunk_of_the_same_size_is_found(capsys, copy):
    part = copy / "site_steps" / "part-000002.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    code, _, err = leonet_cli(capsys, "summary", str(copy))
    assert code == 2 and "site_steps/part-000002.parquet is changed" in err


def test_a_second_writer_is_kept_out(capsys, intact, copy):
    before = (copy / "manifest.json").read_bytes()
    with ResultStore(copy).lock():  # a run in progress holds the folder
        code, stdout, err = leonet_cli(capsys, "run", SCENARIO, "--out", str(copy), *ARGS, "--overwrite",
                                       "--set", "visibility.min_elevation_deg=40")
        assert code == 2 and "another leonet run" in err and "pid " in err and "Traceback" not in err
    assert (copy / "manifest.json").read_bytes() == before
    assert digests(copy) == digests(intact)
    # once the first writer is done, the folder is free again
    code, _, err = leonet_cli(capsys, "run", SCENARIO, "--out", str(copy), *ARGS)
    assert code == 0, err


def _disk_full(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_stops_the_report_with_a_message(capsys, monkeypatch, copy):
    assert leonet_cli(capsys, "report", str(copy))[0] == 0
    old = (copy / "report.html").read_bytes()
    monkeypatch.setattr("leonet.results.atomic.os.fsync", _disk_full)
    code, _, err = leonet_cli(capsys, "report", str(copy))
    assert code == 2 and f"could not write {copy / 'report.html'}: the disk is full" in err and "Traceback" not in err
    assert (copy / "report.html").read_bytes() == old
    assert not list(copy.glob(".*.tmp-*"))


def test_a_full_disk_stops_the_run_with_a_message(capsys, monkeypatch, tmp_path):
    out = tmp_path / "full"
    monkeypatch.setattr("leonet.results.store.pq.write_table", _disk_full)  # static tables
    code, _, err = leonet_cli(capsys, "run", SCENARIO, "--out", str(out), *ARGS)
    assert code == 2 and "sites.parquet: the disk is full" in err and "Traceback" not in err
    assert not (out / "sites.parquet").exists() and not list(out.glob(".*.tmp-*"))
    monkeypatch.undo()
    monkeypatch.setattr(cli.err_console, "width", 1000)
    # chunks: the disk fills up at the second chunk; the first is kept for the resume
    from leonet.results import atomic

    real = atomic.os.fsync

    def fsync_then_full(fd):
        if "part-000001" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr("leonet.results.atomic.os.fsync", fsync_then_full)
    code, _, err = leonet_cli(capsys, "run", SCENARIO, "--out", str(out), *ARGS)
    assert code == 2 and "part-000001.parquet: the disk is full" in err and "resume" in err, err
    m = ResultStore(out).read_manifest()
    assert not m.completed and set(m.chunks["site_steps"]) == {0}
    monkeypatch.undo()
    monkeypatch.setattr(cli.console, "width", 1000)
    code, stdout, err = leonet_cli(capsys, "run", SCENARIO, "--out", str(out), *ARGS)
    assert code == 0 and "resumed: 1 of 3 chunks kept" in stdout, err


def test_a_full_disk_stops_the_csv_export_with_a_message(capsys, monkeypatch, copy):
    class FullWriter:
        def __init__(self, *a, **k):
            pass

        def write_table(self, *a, **k):
            _disk_full()

    monkeypatch.setattr("leonet.results.csv_export.pacsv.CSVWriter", FullWriter)
    code, _, err = leonet_cli(capsys, "export", "csv", str(copy), str(copy / "csv"))
    assert code == 2 and "the disk is full" in err and "Traceback" not in err
    assert not list((copy / "csv").glob("*.csv")) and not list((copy / "csv").glob(".*"))


def test_resumed_run_keeps_intact_chunks_byte_for_byte(capsys, intact, copy):
    before = {p.name: p.read_bytes() for p in (copy / "site_steps").glob("part-*.parquet")}
    (copy / "site_steps" / "part-000000.parquet").unlink()
    assert leonet_cli(capsys, "run", SCENARIO, "--out", str(copy), *ARGS)[0] == 0
    after = {p.name: p.read_bytes() for p in (copy / "site_steps").glob("part-*.parquet")}
    assert after == before
    assert pq.read_metadata(copy / "site_steps" / "part-000000.parquet").num_rows == \
        ResultStore(copy).read_manifest().chunks["site_steps"][0].rows


def test_a_refused_folder_is_left_as_found(capsys, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("x")
    code, _, err = leonet_cli(capsys, "run", SCENARIO, "--out", str(notes), *ARGS)
    assert code == 2 and "holds no leonet results" in err
    assert [p.name for p in notes.iterdir()] == ["todo.txt"]


def test_overwrite_never_writes_into_a_folder_of_other_files(capsys, tmp_path):
    # --overwrite replaces leonet results; a home or project folder is not results.
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("x")
    code, _, err = leonet_cli(capsys, "run", SCENARIO, "--out", str(notes), "--overwrite", *ARGS)
    assert code == 2 and "holds no leonet results" in err and "--overwrite replaces leonet results only" in err
    assert [p.name for p in notes.iterdir()] == ["todo.txt"]
