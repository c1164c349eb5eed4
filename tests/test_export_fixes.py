"""Exports and the results folder around them: CZML sampling of coarse-step runs, incomplete runs
and dropped links said aloud, the memory estimate of a one-chunk run, the code digest of a resume,
--overwrite and the csv/ export, stray chunk files, the messages for a missing folder, and the
names beside load_steps' link ends."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leonet
from leonet.errors import InputError
from leonet.results import czml, czml_sampling
from leonet.results.czml import export_czml
from leonet.results.czml_check import validate_czml
from leonet.results.store import DamagedResults, Manifest, ResultStore
from leonet.timeutil import utc_to_ns

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow

SHELL = {"shells": [{"name": "sh", "altitude_km": 550, "inclination_deg": 53, "planes": 24, "sats_per_plane": 12}]}
START = "2022-03-01T12:00:00Z"
HOUR = 3600
STEPS = 6


def _scenario(name="hourly", **time):
    return leonet.scenario_from_dict({
        "name": name, "constellation": SHELL,
        "ground": {"builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]},
                               {"name": "starlink-pops-2023", "regions": ["Europe"]}],
                   "sites": [{"name": "A", "kind": "dish", "lat_deg": 50.45, "lon_deg": 30.52, "group": "G"},
                             {"name": "B", "kind": "dish", "lat_deg": 49.84, "lon_deg": 24.03, "group": "G"}]},
        "time": {"start": START, "duration_s": STEPS * HOUR, "step_s": HOUR, **time},
        "capacity": {"enabled": True}, "outputs": {"chunk_steps": 2}})


@pytest.fixture(scope="module")
def hourly(tmp_path_factory):
    """Six hourly steps in three chunks of two: the coarse steps of the ukraine-2022 presets."""
    out = tmp_path_factory.mktemp("hourly") / "out"
    result = leonet.run(_scenario(), out_dir=out)
    return out, result.model


def _cesium_lagrange(ts: np.ndarray, ys: np.ndarray, t: float, degree: int) -> np.ndarray:
    """What Cesium's SampledProperty draws at ``t``: Lagrange over degree + 1 samples chosen as
    Cesium does (from 3 before the first sample after ``t``, clamped to the samples)."""
    index = int(np.searchsorted(ts, t, side="right"))
    first = max(0, index - degree // 2 - 1)
    last = first + degree
    if last > len(ts) - 1:
        last = len(ts) - 1
        first = max(0, last - degree)
    x, y = ts[first:last + 1], ys[first:last + 1]
    out = np.zeros(3)
    for j in range(len(x)):
        w = np.prod([(t - x[k]) / (x[j] - x[k]) for k in range(len(x)) if k != j])
        out += w * y[j]
    return out


def _pieces(packet: dict) -> list[dict]:
    position = packet["position"]
    return position if isinstance(position, list) else [position]


def _interval_ns(text: str) -> tuple[int, int]:
    a, b = text.split("/")
    return utc_to_ns(a), utc_to_ns(b)


# -- 1. CZML: satellites sampled finely enough for the interpolation -------------------------------

def test_czml_of_hourly_steps_stays_on_the_orbit(hourly, tmp_path):
    folder, model = hourly
    doc = json.loads(export_czml(folder, tmp_path / "h.czml", max_satellites=40, every_n_steps=1).read_text())
    validate_czml(doc)
    start = utc_to_ns(START)
    sats = [p for p in doc if p["id"].startswith("sat-")]
    assert len(sats) == 40
    worst = 0.0
    for packet in sats[:12]:
        (position,) = _pieces(packet)  # drawn throughout: one sampled interval
        samples = np.asarray(position["cartesian"], dtype=float).reshape(-1, 4)
        ts, ys = samples[:, 0], samples[:, 1:]
        assert np.diff(ts).max() <= czml_sampling.SAMPLE_S  # the spacing the interpolation needs
        assert ts[0] == 0 and ts[-1] == STEPS * HOUR  # from the first step to the run's end
        # between every two samples, where Cesium interpolates, against the orbit itself
        mids = (ts[:-1] + ts[1:]) / 2
        sat = int(packet["id"][4:])
        truth = leonet.propagate(model.constellation, start + (mids * 1e9).astype(np.int64)).ecef_m[:, sat]
        for t, want in zip(mids, truth):
            got = _cesium_lagrange(ts, ys, t, position["interpolationDegree"])
            worst = max(worst, np.linalg.norm(got - want) / np.linalg.norm(want))
    assert worst < 1e-3  # samples an hour apart put the satellites 3,579 to 276,007 km from the centre


def test_sample_plan_is_bounded_and_draws_long_runs_in_stretches():
    hour = HOUR * 10**9
    # 5 days of hourly steps for 1,000 satellites fit at the sampling spacing, throughout
    anchors = np.arange(5 * 24 + 1, dtype=np.int64) * hour
    plan = czml_sampling.sample_plan(anchors, 1000, max_samples=2_000_000)
    assert plan.cut is None and len(plan.t_ns) * 1000 <= 2_000_000
    assert np.diff(plan.t_ns).max() / 1e9 <= czml_sampling.SAMPLE_S <= czml_sampling.MAX_SAMPLE_S
    # a month: drawn in stretches from each step, each a separate piece of at least 6 samples
    anchors = np.arange(0, 32 * 24 + 1, 10, dtype=np.int64) * hour
    plan = czml_sampling.sample_plan(anchors, 1000, max_samples=2_000_000)
    assert plan.cut is not None and "--max-satellites" in plan.cut
    assert len(plan.t_ns) * 1000 <= 2_000_000
    for k in np.unique(plan.piece):
        t = plan.t_ns[plan.piece == k]
        assert len(t) >= czml_sampling.MIN_STRETCH_SAMPLES and np.diff(t).max() <= czml_sampling.MAX_SAMPLE_S * 10**9
    assert set(plan.t_ns[plan.step_sample]) == set(anchors[:-1])  # every sampled step is drawn
    # not even 6 samples a step: refused, with what fits
    with pytest.raises(InputError, match="--every") as err:
        czml_sampling.sample_plan(np.arange(0, 307 * 4 + 1, dtype=np.int64) * 6 * hour, 1000, max_samples=2_000_000, source="R")
    assert "R" in str(err.value) and "--max-satellites" in str(err.value)


def test_czml_in_stretches_never_interpolates_across_a_gap(hourly, tmp_path, monkeypatch):
    folder, _ = hourly
    # room for 8 samples of 300 s from each hourly step (12 would reach the next)
    monkeypatch.setattr(czml, "MAX_SAMPLES", 10 * (STEPS * 8 + 1))
    said: list[str] = []
    doc = json.loads(export_czml(folder, tmp_path / "s.czml", max_satellites=10, every_n_steps=1,
                                 warn=said.append).read_text())
    validate_czml(doc)
    assert any("drawn for" in w and str(folder) in w for w in said)
    packet = next(p for p in doc if p["id"].startswith("sat-"))
    pieces = _pieces(packet)
    assert len(pieces) == STEPS and isinstance(packet["availability"], list)
    for piece, available in zip(pieces, packet["availability"]):
        assert piece["interval"] == available
        samples = np.asarray(piece["cartesian"], dtype=float).reshape(-1, 4)
        assert len(samples) == 8 and np.diff(samples[:, 0]).max() <= czml_sampling.MAX_SAMPLE_S


# -- 2. incomplete runs are said to be incomplete ----------------------------------------------------

def stopped_copy(run, folder, lost: set[int]):
    """A copy of ``run`` in ``folder`` as a `leonet run` stopped early leaves it: the chunks
    ``lost`` never written nor recorded."""
    shutil.copytree(run, folder)
    store = ResultStore(folder)
    m = store.read_manifest()
    for table in m.tables:
        for chunk in lost:
            store.chunk_path(table, chunk).unlink()
    chunks = {t: {c: r for c, r in recs.items() if c not in lost} for t, recs in m.chunks.items()}
    store.write_manifest(m.model_copy(update={"completed": False, "chunks": chunks}))
    return folder


@pytest.fixture
def killed(hourly, tmp_path):
    """The hourly run as a killed `leonet run` leaves it: its last chunk never written."""
    return stopped_copy(hourly[0], tmp_path / "killed", {2})


def test_exports_of_an_incomplete_run_say_so(killed, tmp_path):
    from leonet.results.csv_export import export_csv

    said: list[str] = []
    export_csv(killed, tmp_path / "csv", tables=["dish_steps"], warn=said.append)
    assert len(said) == 1 and str(killed) in said[0] and "incomplete run" in said[0]
    assert "2 of 3 chunk(s)" in said[0] and "4 of 6 steps" in said[0]
    said.clear()
    doc = json.loads(export_czml(killed, tmp_path / "k.czml", max_satellites=20, warn=said.append).read_text())
    assert any("incomplete run" in w and str(killed) in w for w in said)
    assert "incomplete run" in doc[0]["name"]
    start = utc_to_ns(START)
    assert _interval_ns(doc[0]["clock"]["interval"]) == (start, start + 4 * HOUR * 10**9)  # what ran


def test_export_commands_warn_on_stderr(killed, tmp_path):
    cli = [sys.executable, "-m", "leonet.cli", "export"]
    r = subprocess.run([*cli, "csv", str(killed), str(tmp_path / "c"), "-t", "sites"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "warning:" in r.stderr and "incomplete run" in r.stderr and "2 of 3 chunk(s)" in r.stderr
    r = subprocess.run([*cli, "czml", str(killed), "-o", str(tmp_path / "k.czml"), "--max-satellites", "20",
                        "--max-links", "0"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "incomplete run" in r.stderr and "left out" in r.stderr
    # 8. a folder that does not exist, and a file, are called what they are
    r = subprocess.run([*cli, "csv", str(tmp_path / "nonexist")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "no such results folder" in r.stderr and "manifest" not in r.stderr


def test_summary_of_a_run_stopped_before_its_first_chunk(hourly, tmp_path):
    """It printed the header, then "has no table 'site_steps'" (rc 2), where the exports warn."""
    folder = stopped_copy(hourly[0], tmp_path / "none", {0, 1, 2})
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "summary", str(folder)], capture_output=True, text=True,
                       timeout=300, env={"COLUMNS": "200", "PATH": ""})
    assert r.returncode == 0, r.stderr
    assert "incomplete run: 0 of 3 chunk(s) written (0 of 6 steps): nothing to summarise yet" in r.stdout


# -- 3. serving links left out are counted ------------------------------------------------------------

def test_czml_says_how_many_links_it_leaves_out(hourly, tmp_path):
    folder, _ = hourly
    said: list[str] = []
    doc = json.loads(export_czml(folder, tmp_path / "all.czml", warn=said.append).read_text())
    n = len([p for p in doc if p["id"].startswith("link-")])
    assert n >= 2 and not said  # all drawn: nothing to say
    doc = json.loads(export_czml(folder, tmp_path / "one.czml", max_links=1, warn=said.append).read_text())
    assert len([p for p in doc if p["id"].startswith("link-")]) == 1
    assert len(said) == 1 and f"draws 1 of the {n:,} serving links" in said[0] and f"{n - 1:,} beyond max_links" in said[0]


# -- 4. the memory estimate counts the chunks a run has ---------------------------------------------

def test_memory_estimate_counts_no_more_chunks_in_flight_than_the_run_has():
    from leonet.sim.budget import check_size, scenario_size

    one = leonet.load_scenario("ukraine-gen1", overrides={"time.duration_s": 60})  # 60 steps: one chunk
    alone = scenario_size(one, 1584, 100, workers=1)
    four = scenario_size(one, 1584, 100, workers=4)
    assert four.chunks_in_flight == 1 and four.peak_bytes == alone.peak_bytes  # computed in this process
    many = leonet.load_scenario("ukraine-gen1")  # 600 steps: ten chunks of 60
    assert scenario_size(many, 1584, 100, workers=4).chunks_in_flight == 8
    assert scenario_size(many, 1584, 100, workers=8).chunks_in_flight == 10
    assert scenario_size(many, 1584, 100, workers=8).processes == 8
    # a group of variants splits even one chunk across the workers: its parts still count them all
    from leonet.sim.budget import members_per_task

    limit = int(alone.peak_bytes + 3 * 2**30)
    assert members_per_task(four, 1000, limit) < members_per_task(alone, 1000, limit)
    # refused for another reason: fewer workers is no way out for one chunk
    with pytest.raises(InputError) as err:
        check_size(four, max_memory_bytes=int(four.peak_bytes * 0.9))
    assert "fewer --workers" not in str(err.value)


# -- 5. the code digest leaves out what cannot change results ----------------------------------------

def test_code_digest_ignores_the_web_app_and_docs_only(tmp_path, monkeypatch):
    from leonet.sim import inputs

    root = tmp_path / "leonet"
    # leonet_digest hashes the package its module lies in: here a small one
    monkeypatch.setattr(inputs, "__file__", str(root / "sim" / "inputs.py"))
    digest = inputs.leonet_digest.__wrapped__  # uncached
    files = {"app/static/app.js": "x", "app/static/vendor/SOURCE.md": "m", "app/server.py": "s",
             "sim/step.py": "p", "data/kits.csv": "a,b", "presets/scenarios/s.yaml": "y: 1", "README.md": "r",
             "results/templates/world.json": "{}"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    before = digest()
    for rel in ("app/static/app.js", "app/static/vendor/SOURCE.md", "README.md"):
        (root / rel).write_text("edited")
    (root / "app/static/new.css").write_text("body {}")
    (root / "sim/__pycache__").mkdir()
    (root / "sim/__pycache__/step.cpython-311.pyc").write_bytes(b"\0")
    assert digest() == before
    for rel in ("app/server.py", "sim/step.py", "data/kits.csv", "presets/scenarios/s.yaml", "results/templates/world.json"):
        text = (root / rel).read_text()
        (root / rel).write_text(text + " ")
        assert digest() != before, rel
        (root / rel).write_text(text)
        assert digest() == before
    # the folders left out are the package's own
    from pathlib import Path

    package = Path(next(iter(leonet.__path__)))
    assert all(package.joinpath(*d).is_dir() for d in inputs.NOT_RESULTS_DIRS)


# -- 6. --overwrite clears leonet's csv/ export, and nothing of the user's ----------------------------

def _manifest(**kw) -> Manifest:
    return Manifest(**{"scenario": "x", "start_ns": 0, "step_ns": 10**9, "n_steps": 2, "chunk_steps": 1,
                       "chunks_total": 2, "tables": ["dish_steps"], "n_satellites": 0, "n_sites": 0, **kw})


def test_overwrite_clears_the_old_csv_export_only(tmp_path):
    for user_file in (False, True):
        root = tmp_path / f"r{int(user_file)}"
        store = ResultStore(root)
        with store.lock():
            store.prepare("name: a\n", _manifest())
        csv = root / "csv"
        csv.mkdir()
        for name in ("sites.csv", "dish_steps.csv", "daily.csv", ".satellites.csv.tmp-123"):
            (csv / name).write_text("old")
        if user_file:
            (csv / "notes.txt").write_text("mine")
            (csv / "budget.csv").write_text("mine")
        (root / "run.czml").write_text("[]")
        with store.lock():
            store.prepare("name: b\n", _manifest(), overwrite=True)
        assert not (root / "run.czml").exists()
        if user_file:
            assert sorted(p.name for p in csv.iterdir()) == ["budget.csv", "notes.txt"]
        else:
            assert not csv.exists()


# -- 7. a part file that is no chunk of the run is a problem ------------------------------------------

def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"t": pa.array([0], pa.int64())}), buf)
    return buf.getvalue()


def test_a_stray_part_file_is_named_and_refused(tmp_path):
    store = ResultStore(tmp_path / "r")
    with store.lock():
        store.prepare("name: a\n", _manifest())
        for chunk in range(2):
            store.write_chunk_bytes(chunk, {"dish_steps": _parquet_bytes()})
    store.write_manifest(store.manifest.model_copy(update={"completed": True}))
    assert store.problems() == []
    (tmp_path / "r" / "dish_steps" / "part-000099.parquet").write_bytes(_parquet_bytes())
    (tmp_path / "r" / "dish_steps" / "part-old.parquet").write_bytes(_parquet_bytes())
    problems = store.problems()
    assert len(problems) == 2 and any("dish_steps/part-000099.parquet is not a chunk of this run" in p for p in problems)
    assert any("part-old.parquet" in p for p in problems)
    with pytest.raises(DamagedResults, match="part-000099") as err:
        ResultStore(tmp_path / "r").read("dish_steps")
    assert "remove" in str(err.value) and "recompute" not in str(err.value)


# -- 8. a missing folder and a file are called what they are -------------------------------------------

def test_results_folder_messages(tmp_path):
    with pytest.raises(InputError, match="no such results folder") as err:
        ResultStore(tmp_path / "nonexist").read_manifest()
    assert "nonexist" in str(err.value) and "manifest" not in str(err.value)
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(InputError, match="is a file, not a leonet results folder") as err:
        ResultStore(tmp_path / "manifest.json").read_manifest()
    assert f"give its folder, {tmp_path}" in str(err.value)
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(InputError, match=r"not a leonet results folder \(no manifest.json\)"):
        ResultStore(tmp_path).read_manifest()  # a folder of other things


def test_summary_words_a_missing_folder_and_a_file_as_every_reader_does(tmp_path):
    """`leonet summary` had a check of its own that called a file "no such results folder"."""
    (tmp_path / "notes.txt").write_text("hello")
    for path, words in ((tmp_path / "nonexist", "no such results folder"),
                        (tmp_path / "notes.txt", "is a file, not a leonet results folder")):
        r = subprocess.run([sys.executable, "-m", "leonet.cli", "summary", str(path)], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 2 and words in r.stderr, r.stderr


# -- 9. load_steps: names beside both link ends --------------------------------------------------------

def test_load_steps_csv_has_names_beside_a_and_b(hourly, tmp_path):
    import pandas as pd

    from leonet.results.csv_export import export_csv

    folder, _ = hourly
    (path,) = export_csv(folder, tmp_path, tables=["load_steps"])
    rows = pd.read_csv(path, keep_default_na=False)
    assert list(rows.columns[:7]) == ["t", "direction", "kind", "a", "a_name", "b", "b_name"]
    sites = pd.read_parquet(folder / "sites.parquet")["name"].tolist()
    sats = pd.read_parquet(folder / "satellites.parquet")["name"].tolist()
    for kind, a_of, b_of in (("beam", sats, None), ("feeder", sites, sats), ("pop", sites, None)):
        mine = rows[rows.kind == kind]
        assert len(mine), kind
        assert mine.a_name.tolist() == [a_of[i] for i in mine.a]
        assert mine.b_name.tolist() == ([b_of[i] for i in mine.b] if b_of else [""] * len(mine))


def test_load_steps_csv_names_both_link_ends():
    from leonet.capacity.model import BOTTLENECKS
    from leonet.results.csv_export import LINK_END_OF, _spreadsheet_batch

    assert set(LINK_END_OF["load_steps"]["a"]) == set(BOTTLENECKS) - {"none"}  # every kind's first end
    kinds = ["beam", "satellite", "laser", "feeder", "pop"]
    batch = pa.RecordBatch.from_pydict({
        "kind": pa.array(kinds).dictionary_encode(),
        "a": pa.array([0, 1, 1, 1, 0], pa.int32()),
        "b": pa.array([7, -1, 2, 0, -1], pa.int32()),
        "load_bps": pa.array([1.0] * 5)})
    sites, sats = pa.array(["GW", "POP"]), pa.array(["S0", "S1", "S2"])
    table = _spreadsheet_batch(batch, sites, sats, link_ends=LINK_END_OF["load_steps"])
    assert table.column_names == ["kind", "a", "a_name", "b", "b_name", "load_bps"]
    assert table.column("a_name").to_pylist() == ["S0", "S1", "S1", "POP", "GW"]
    assert table.column("b_name").to_pylist() == [None, None, "S2", "S0", None]  # a beam's b is a cell


def test_chunk_numbers_past_a_million_are_chunks():
    """chunk_path writes part-1000000.parquet with seven digits: it is a chunk, not a stray file."""
    from leonet.results.store import _chunk_number

    assert _chunk_number("part-000007.parquet") == 7 and _chunk_number("part-1000000.parquet") == 1_000_000
    assert _chunk_number("part-7.parquet") is None and _chunk_number("part-00000x.parquet") is None


# -- 10. an output path never replaces a results folder's own files ------------------------------------

TINY = {"name": "tiny", "constellation": {"shells": [{"altitude_km": 550, "inclination_deg": 53, "planes": 6,
                                                       "sats_per_plane": 6}]},
        "ground": {"sites": [{"name": "A", "lat_deg": 50, "lon_deg": 30},
                             {"name": "G", "lat_deg": 51, "lon_deg": 31, "kind": "gateway"},
                             {"name": "P", "lat_deg": 50, "lon_deg": 8, "kind": "pop"}]},
        "time": {"start": START, "duration_s": 60, "step_s": 20}}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "res"
    leonet.run(leonet.scenario_from_dict(TINY), out_dir=out)
    return out


def _files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_export_outputs_never_replace_a_results_folders_files(tiny, tmp_path, capsys):
    """`report -o RES/manifest.json`, `export czml -o RES/sites.parquet`, `-o` over another kind of
    file and `export csv RES RES/dish_steps` wrote over the run (summary then called it damaged):
    each is refused (exit 2) and nothing changes; the documented outputs (RES/report.html,
    RES/run.czml, RES/csv) and paths outside still work."""
    from leonet.cli import main

    res = tmp_path / "res"
    shutil.copytree(tiny, res)
    before = _files(res)
    mine = tmp_path / "notes.txt"
    mine.write_text("mine\n")
    refused = [["report", str(res), "-o", str(res / "manifest.json")],
               ["report", str(res), "-o", str(res / "dish_steps" / "r.html")],
               ["report", str(res), "-o", str(mine)],
               ["export", "czml", str(res), "-o", str(res / "sites.parquet")],
               ["export", "czml", str(res), "-o", str(mine)],
               ["export", "csv", str(res), str(res / "dish_steps")],
               ["export", "csv", str(res), str(res)],
               ["export", "csv", str(res), str(res / "dish_steps" / "x")]]
    for args in refused:
        assert main(args) == 2, args
        err = " ".join(capsys.readouterr().err.split())
        assert "error:" in err and ("inside the results folder" in err or "of its own kind" in err), (args, err)
    assert _files(res) == before and mine.read_text() == "mine\n"
    assert main(["summary", str(res)]) == 0
    for args in (["report", str(res), "-o", str(res / "report.html")], ["report", str(res)],
                 ["report", str(res), "-o", str(tmp_path / "r.html")], ["export", "czml", str(res)],
                 ["export", "csv", str(res)], ["export", "csv", str(res), str(tmp_path / "csv")]):
        assert main(args) == 0, (args, capsys.readouterr().err)
    assert (res / "report.html").is_file() and (res / "run.czml").is_file() and (res / "csv" / "sites.csv").is_file()
    capsys.readouterr()
    # a folder of Parquet files outside any results folder is no place for CSV files either
    table = tmp_path / "table"
    shutil.copytree(res / "dish_steps", table)
    assert main(["export", "csv", str(res), str(table)]) == 2
    assert "Parquet" in capsys.readouterr().err and not list(table.glob("*.csv"))


def test_csv_export_reads_every_input_before_writing(tiny, tmp_path):
    """A damaged events.json (read for daily.csv) stopped `export csv` after 6 of its 7 files:
    now the export stops before the first file."""
    from leonet.results.csv_export import export_csv

    res = tmp_path / "res"
    shutil.copytree(tiny, res)
    (res / "events.json").write_text('[{"name": 5}]')
    with pytest.raises(InputError, match="events.json is damaged") as err:
        export_csv(res, tmp_path / "csv")
    assert not (tmp_path / "csv").exists() or not list((tmp_path / "csv").iterdir())
    # the message names the entry and field ("1 validation error for EventRecord" named neither)
    assert "[0].name: " in str(err.value) and "validation error" not in str(err.value)


def test_the_interrupt_cleanup_trusts_the_manifest_on_disk_not_its_copy(hourly, tmp_path):
    """An interrupt between write_manifest's write and its update of the store's copy left the copy a
    chunk behind; the cleanup removed that chunk's files while the manifest on disk recorded them
    (CI, tests/test_interrupt_workers.py, once). The folder must stay sound."""
    folder = stopped_copy(hourly[0], tmp_path / "run", lost={2})
    store = ResultStore(folder)
    on_disk = store.read_manifest()
    # the copy as the interrupted write_manifest left it: chunk 1 not yet in it
    store._manifest = on_disk.model_copy(update={"chunks": {t: {c: r for c, r in recs.items() if c != 1}
                                                             for t, recs in on_disk.chunks.items()}})
    store.remove_unrecorded_chunks()
    assert all(store.chunk_path(t, c).exists() for t in on_disk.tables for c in (0, 1))
    assert ResultStore(folder).problems() == []
