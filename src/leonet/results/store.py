"""The results folder: Parquet tables written chunk by chunk, each chunk atomically, and the JSON
files that make the folder the whole input of its readers (app, report, summary, exports).

Layout of a results folder::

    scenario.yaml             the resolved scenario (presets expanded, overrides applied)
    manifest.json             what was run (:class:`Manifest`): scenario digest, steps, chunking,
                              tables, counts, completed, and each chunk file's rows and sha256
    run.json                  what readers need to know about the run (:mod:`leonet.results.contract`):
                              description, slot period and offset, minimum elevation, laser-link
                              rules, the state vocabulary, the run's warnings
    obstructions.json         resolved horizon masks (M, 360) and the mask of each site
    events.json               the events with resolved start/end instants and targets
    isl_candidates.json       the laser-link candidate pairs (satellite indices)
    sites.parquet             one row per ground site
    satellites.parquet        one row per satellite (shell, plane, slot, elements)
    <table>/part-NNNNNN.parquet   one file per chunk of steps, for each per-step table
    .leonet.lock              held (fcntl) by the run writing the folder
    baseline/                 with ``run(..., baseline=True)``: the same scenario without events
    csv/, run.czml, report.html   exports written later (``leonet export csv|czml``, ``leonet report``);
                              ``--overwrite`` removes them with the old run (only the files they write)

A chunk file is written to a temporary name and renamed into place, so a reader (or a resumed
run) never sees half a chunk; its row count and sha256 go into the manifest, so a chunk damaged
or deleted afterwards is found: a resumed run recomputes it, a reader refuses the folder and says
which file. ``pandas.read_parquet(folder / "site_steps")`` reads a whole table.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError, LeonetError
from . import atomic

MANIFEST = "manifest.json"
SCENARIO_FILE = "scenario.yaml"
LOCK_FILE = ".leonet.lock"
#: The baseline run's folder inside a results folder (``run(..., baseline=True)``).
BASELINE_DIR = "baseline"
#: The instants of a run whose calendar has windows (static table: t, duration_s).
STEPS_TABLE = "steps"
#: The tables that do not depend on time, one file each (``<name>.parquet``); steps: windowed runs only.
STATIC_TABLES = ("sites", "satellites", STEPS_TABLE)
#: What an export of an incomplete run (:meth:`ResultStore.incomplete_note`) adds to the note.
EXPORTED_AS_FAR = "only those are exported: run the same `leonet run` command again to finish it"
#: Words of a problem that is a file no chunk of the run (:meth:`ResultStore.problems`).
STRAY_PART = "is not a chunk of this run"
#: The folder ``leonet export csv RESULTS`` writes by default, and the file names it writes there
#: (``<table>.csv``; ``daily`` is derived): an ``--overwrite`` clears them with the old run.
CSV_DIR = "csv"
CSV_DERIVED_TABLES = ("daily",)
#: The manifest's format: 2 records each chunk file's rows and sha256.
FORMAT_VERSION = 2
#: The contract's JSON files (read by :mod:`leonet.results.contract`). ``leonet run`` writes all
#: four into every folder it prepares since format 2 (they came with it): there a missing one is
#: damage; a format-1 folder (an older leonet) has none.
RUN_FILE = "run.json"
OBSTRUCTIONS_FILE = "obstructions.json"
EVENTS_FILE = "events.json"
ISL_FILE = "isl_candidates.json"
CONTRACT_FILES = (RUN_FILE, OBSTRUCTIONS_FILE, EVENTS_FILE, ISL_FILE)


class ChunkRecord(BaseModel):
    """One chunk file of one table, as written."""

    rows: int = Field(ge=0)
    bytes: int = Field(ge=0)
    sha256: str


class Manifest(BaseModel):
    """``manifest.json``: what was run and what was written.

    ``chunks[table][chunk number]`` records every chunk file written (rows, size, sha256).
    Folders written before format 2 have no records; their chunks are checked for presence only.
    """

    model_config = ConfigDict(extra="ignore")

    format_version: int = 1
    leonet_version: str | None = None
    scenario: str
    scenario_sha256: str = ""
    #: What the run was computed from besides the scenario text (leonet's code and data, each file
    #: the scenario names): name -> sha256 (leonet.sim.inputs.inputs_digest). A resume needs both.
    inputs_sha256: dict[str, str] = Field(default_factory=dict)
    start_ns: int
    step_ns: int = Field(gt=0)
    n_steps: int = Field(ge=0)
    chunk_steps: int = Field(ge=1)
    chunks_total: int = Field(ge=0)
    tables: list[str]
    n_satellites: int = Field(ge=0)
    n_sites: int = Field(ge=0)
    completed: bool = False
    #: The Earth-rotation convention of the positions (space.frames.FrameConvention.as_dict()).
    frames: dict | None = None
    #: False when the calendar has windows with their own steps: the instants are then listed in
    #: ``steps.parquet`` (read them with :meth:`ResultStore.step_times_ns`, never as start + k x step).
    uniform_steps: bool = True
    #: The calendar's end (start + duration), ns: the last step stands for the time up to it.
    end_ns: int | None = None
    chunks: dict[str, dict[int, ChunkRecord]] = Field(default_factory=dict)

    @property
    def step_s(self) -> float:
        return self.step_ns / 1e9

    def t_ns(self, step: int) -> int:
        """The instant (int ns) of a step of a uniform calendar (see :meth:`ResultStore.step_times_ns`
        for any calendar)."""
        if not self.uniform_steps:
            raise ValueError("this run's steps are uneven: use ResultStore.step_times_ns()")
        return self.start_ns + int(step) * self.step_ns

    # Mapping-style access for callers that read the manifest as JSON (``m["step_ns"]``).
    def __getitem__(self, key: str):
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default=None):
        return getattr(self, key, default) if key in type(self).model_fields else default


def scenario_digest(scenario_yaml: str) -> str:
    """SHA-256 of the resolved scenario text: two runs are the same run iff these match."""
    return hashlib.sha256(scenario_yaml.encode("utf-8")).hexdigest()


def _changed_inputs(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """What differs between two :attr:`Manifest.inputs_sha256` records, in words (empty: the same)."""
    if before == now:
        return []
    if not before:
        return ["the folder does not record its inputs: written by an earlier leonet"]
    out = []
    for key in sorted(set(before) | set(now)):
        if before.get(key) == now.get(key):
            continue
        if key == "leonet":
            out.append("another leonet: its code or data differ")
        elif key not in now:
            out.append(f"{key} is no longer named")
        elif key not in before:
            out.append(f"{key} is new")
        else:
            out.append(f"the file of {key} changed")
    return out


def parquet_record(data: bytes) -> ChunkRecord:
    """Rows, size and sha256 of one Parquet file's bytes."""
    rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
    return ChunkRecord(rows=rows, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


class FolderBusy(LeonetError):
    """Another process is writing the results folder."""


class DamagedResults(InputError):
    """Chunk files of a results folder are missing, truncated or changed since they were written."""


class ResultStore:
    """A results folder (see module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._verified: set[str] = set()
        self._manifest: Manifest | None = None

    # -- the writer's lock -----------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's write lock (fcntl) for the block; a second writer gets :class:`FolderBusy`.

        Creates the folder when it does not exist. The lock dies with its process, so a crashed
        run never leaves the folder locked.
        """
        if self.root.exists() and not self.root.is_dir():
            raise InputError("exists and is not a folder", source=str(self.root))
        lock_path = self.root / LOCK_FILE
        created_dir, created_lock = not self.root.exists(), not lock_path.exists()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fh = open(lock_path, "a+")
        except OSError as err:
            raise atomic.write_error(self.root / LOCK_FILE, err) from None
        try:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.seek(0)
                who = fh.read().strip()
                raise FolderBusy(f"{self.root}: another leonet run ({who or 'another process'}) is writing this "
                                 "folder; wait for it to finish or choose another --out folder") from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            yield
        finally:
            fh.close()  # releases the lock
            if not (self.root / MANIFEST).exists():  # refused before writing: leave the folder as found
                if created_lock:
                    lock_path.unlink(missing_ok=True)
                if created_dir:
                    try:
                        self.root.rmdir()
                    except OSError:
                        pass

    # -- writing ---------------------------------------------------------------------------
    def prepare(self, scenario_yaml: str, manifest: Manifest, overwrite: bool = False,
                inputs: dict[str, str] | None = None) -> bool:
        """Create the folder for a run, or check that an existing one holds the same scenario.

        Returns True when the folder already held this scenario computed from the same ``inputs``
        (:attr:`Manifest.inputs_sha256`; a resume: its chunk records are kept). Refuses a folder
        that holds a different scenario, or the same one from other inputs (another leonet, an
        edited orbit or site file: its chunks would not join the new ones), unless ``overwrite``
        is set, so that nothing is lost or mixed silently. Call it holding :meth:`lock`.
        """
        digest = scenario_digest(scenario_yaml)
        inputs = dict(inputs or {})
        if self.root.exists() and not self.root.is_dir():
            raise InputError("exists and is not a folder", source=str(self.root))
        existing = None
        was_results = False
        if (self.root / MANIFEST).exists():
            try:
                existing = self.read_manifest()
            except InputError:
                if not overwrite:
                    raise InputError("manifest.json is damaged; pass --overwrite to start the run afresh",
                                     source=str(self.root)) from None
                self._clear()
                was_results = True
        if existing is not None and existing.scenario_sha256 != digest and not overwrite:
            old = (self.root / SCENARIO_FILE).read_text(encoding="utf-8") if (self.root / SCENARIO_FILE).exists() else ""
            raise InputError(
                "holds results of a different scenario "
                f"({_first_difference(old, scenario_yaml)}); choose another --out folder or pass --overwrite",
                source=str(self.root),
            )
        changed = _changed_inputs(existing.inputs_sha256, inputs) if existing is not None else []
        if existing is not None and existing.scenario_sha256 == digest and changed and not overwrite:
            raise InputError(
                f"holds results of this scenario computed from other inputs ({'; '.join(changed)}): they would not "
                "join a run of the new ones; choose another --out folder or pass --overwrite", source=str(self.root))
        # Hidden entries are leonet's own (the lock, `leonet dish`'s extracted .orbits, temporaries).
        others = [p for p in self.root.iterdir() if not p.name.startswith(".")] if self.root.is_dir() else []
        if existing is None and others and not was_results:
            # --overwrite replaces leonet results only: a folder of other files (a home folder,
            # a project) is never written into or cleared.
            raise InputError("is not empty and holds no leonet results" + (
                " (--overwrite replaces leonet results only)" if overwrite else "") +
                "; choose another --out folder", source=str(self.root))
        if overwrite and existing is not None and (existing.scenario_sha256 != digest or changed):
            self._clear()
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_half_written()
        resumed = existing is not None and existing.scenario_sha256 == digest and not changed
        update = {"scenario_sha256": digest, "format_version": FORMAT_VERSION, "inputs_sha256": inputs}
        if resumed and existing.format_version >= FORMAT_VERSION:
            update.update(completed=existing.completed, chunks=existing.chunks)
        else:
            update.update(chunks={})
        atomic.write_text(self.root / SCENARIO_FILE, scenario_yaml)
        self.write_manifest(manifest.model_copy(update=update))
        return resumed

    def _clear(self) -> None:
        self._clear_csv_export()
        for table_dir in self.root.iterdir():
            if table_dir.name == BASELINE_DIR and (table_dir / MANIFEST).is_file():
                # The stored baseline (`leonet run --baseline`) is the old scenario's: a summary
                # would compare the new run with it.
                ResultStore(table_dir)._clear()
                (table_dir / MANIFEST).unlink(missing_ok=True)
                (table_dir / LOCK_FILE).unlink(missing_ok=True)
                try:
                    table_dir.rmdir()
                except OSError:
                    pass  # other files the user put there stay
                continue
            if table_dir.is_dir() and all(p.suffix == ".parquet" or p.name.startswith(".") for p in table_dir.iterdir()):
                for p in table_dir.iterdir():
                    p.unlink()
                table_dir.rmdir()
            elif table_dir.suffix in (".parquet", ".json", ".yaml", ".html", ".czml"):
                table_dir.unlink()
        self._manifest = None

    def _clear_csv_export(self) -> None:
        """Remove the old run's ``csv/`` export (``leonet export csv``'s default folder): the files
        named after a table of the folder (``<table>.csv``) and their temporaries. Any other file
        is the user's and stays, and so does the folder then."""
        folder = self.root / CSV_DIR
        if not folder.is_dir() or folder.is_symlink():
            return
        tables = {*STATIC_TABLES, *CSV_DERIVED_TABLES,
                  *(p.name for p in self.root.iterdir() if p.is_dir() and any(p.glob("part-*.parquet")))}
        try:
            tables.update(self.read_manifest().tables)
        except InputError:
            pass  # a damaged manifest: the tables found on disk name the files
        names = {f"{t}.csv" for t in tables}
        for p in folder.iterdir():
            # <table>.csv, or its temporary .<table>.csv.tmp-<pid> (results.atomic) from an interrupted export
            written = p.name[1:].rsplit(".tmp-", 1)[0] if p.name.startswith(".") and ".tmp-" in p.name else p.name
            if written in names and p.is_file() and not p.is_symlink():
                p.unlink()
        try:
            folder.rmdir()
        except OSError:
            pass  # other files the user put there stay

    def write_manifest(self, manifest: Manifest) -> None:
        atomic.write_text(self.root / MANIFEST, manifest.model_dump_json(indent=1))
        self._manifest = manifest

    def write_json(self, name: str, value, compact: bool = False) -> None:
        """A JSON file of the contract (``run.json``, ``events.json``, ...), atomically; ``compact``
        for long arrays (no indentation)."""
        text = json.dumps(value, allow_nan=False, separators=(",", ":")) if compact else \
            json.dumps(value, indent=1, allow_nan=False)
        atomic.write_text(self.root / name, text)

    # -- the calendar ------------------------------------------------------------------------
    def step_times_ns(self):
        """int64 (T,): the instant of every step, for uniform and windowed calendars alike."""
        import numpy as np

        m = self.manifest
        if m.uniform_steps:
            return m.start_ns + np.arange(m.n_steps, dtype=np.int64) * m.step_ns
        table = self.read(STEPS_TABLE, columns=["t"])
        return table.column("t").cast(pa.int64()).to_numpy()

    def step_durations_s(self):
        """float64 (T,): the time each step stands for: in a windowed calendar the steps table's own
        ``duration_s`` (to the next step, or a sample window's equal share), all ``step_s`` in a uniform
        one; weights for lost time and shares of time."""
        import numpy as np

        m = self.manifest
        if not m.uniform_steps:
            return self.read(STEPS_TABLE, columns=["duration_s"]).column("duration_s").to_numpy().astype(np.float64)
        t = self.step_times_ns()
        if not len(t):
            return np.zeros(0)
        end = m.end_ns if m.end_ns is not None else int(t[-1]) + m.step_ns
        return np.diff(np.r_[t, np.int64(end)]).astype(np.float64) / 1e9

    def steps_of(self, t_ns):
        """int64: the step index of each instant (that must be one of the run's instants)."""
        import numpy as np

        t = np.asarray(t_ns, dtype=np.int64)
        m = self.manifest
        if m.uniform_steps:
            return (t - m.start_ns) // m.step_ns
        times = self.step_times_ns()
        return np.searchsorted(times, t).astype(np.int64)

    def write_static(self, name: str, table: pa.Table) -> None:
        """A table that does not depend on time (sites, satellites), atomically."""
        with atomic.atomic_path(self.root / f"{name}.parquet") as tmp:
            pq.write_table(table, tmp, compression="zstd")

    def chunk_path(self, table: str, chunk: int) -> Path:
        return self.root / table / f"part-{chunk:06d}.parquet"

    def write_chunk_bytes(self, chunk: int, parts: dict[str, bytes]) -> None:
        """Write one chunk given as Parquet bytes per table (from a worker), each file atomically,
        then record its rows and sha256 in the manifest."""
        self.record_chunk(chunk, self.write_chunk_files(chunk, parts))

    def write_chunk_files(self, chunk: int, parts: dict[str, bytes]) -> dict[str, ChunkRecord]:
        """Write one chunk's files (Parquet bytes per table), each atomically, and return their
        records, without touching the manifest. A worker process that shares this folder's
        filesystem calls it (only the records travel back); the process that holds the folder's
        lock then records them (:meth:`record_chunk`). A chunk written but not recorded (the run
        ended in between) is "not recorded" to :meth:`chunk_problem`, so a resume recomputes it."""
        records = {}
        for name, data in parts.items():
            atomic.write_bytes(self.chunk_path(name, chunk), data)
            records[name] = parquet_record(data)
        return records

    def record_chunk(self, chunk: int, records: dict[str, ChunkRecord]) -> None:
        """Record chunk files already written (:meth:`write_chunk_files`) in the manifest."""
        m = self.manifest
        chunks = {t: dict(c) for t, c in m.chunks.items()}
        for name, rec in records.items():
            chunks.setdefault(name, {})[chunk] = rec
        self.write_manifest(m.model_copy(update={"chunks": chunks}))

    def chunk_problem(self, table: str, chunk: int) -> str | None:
        """Why chunk ``chunk`` of ``table`` cannot be trusted (missing, truncated, changed, not
        recorded), or None when it is as written."""
        path = self.chunk_path(table, chunk)
        rel = f"{table}/{path.name}"
        if not path.exists():
            return f"{rel} is missing"
        m = self.manifest
        if m.format_version < FORMAT_VERSION:
            return None  # an older folder: no records to check against
        rec = m.chunks.get(table, {}).get(chunk)
        if rec is None:
            return f"{rel} is not recorded in manifest.json (written by an interrupted run?)"
        size = path.stat().st_size
        if size != rec.bytes:
            return f"{rel} is {'truncated' if size < rec.bytes else 'changed'} ({size:,} bytes, written {rec.bytes:,})"
        if file_sha256(path) != rec.sha256:
            return f"{rel} is changed (its sha256 differs from manifest.json)"
        return None

    def chunk_done(self, chunk: int, table_names: list[str]) -> bool:
        """Whether every table's file of ``chunk`` is present and as written."""
        return all(self.chunk_problem(t, chunk) is None for t in table_names)

    # -- reading ---------------------------------------------------------------------------
    def read_manifest(self) -> Manifest:
        path = self.root / MANIFEST
        if not path.exists():
            if not self.root.exists():
                raise InputError("no such results folder", source=str(self.root))
            if not self.root.is_dir():
                hint = (f"; give its folder, {self.root.parent}" if self.root.name == MANIFEST
                        else "; give the folder `leonet run` wrote")
                raise InputError(f"is a file, not a leonet results folder{hint}", source=str(self.root))
            raise InputError("is not a leonet results folder (no manifest.json)", source=str(self.root))
        try:
            return Manifest.model_validate_json(path.read_bytes())
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "(top level)"
            raise InputError(f"manifest.json is damaged: {where}: {first['msg']}", source=str(self.root)) from None
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"manifest.json cannot be read: {err}", source=str(self.root)) from None

    @property
    def manifest(self) -> Manifest:
        """The manifest, read once per store."""
        if self._manifest is None:
            self._manifest = self.read_manifest()
        return self._manifest

    def read_json(self, name: str, default=None):
        """A JSON file of the contract, or ``default`` when the folder has none because the leonet
        that wrote it did not write that file (an older run); one the run wrote (:meth:`written_files`)
        and is missing raises :class:`DamagedResults` naming it."""
        path = self.root / name
        if not path.exists():
            if name in self.written_files():
                raise self._damaged([f"{name} is missing"])
            return default
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"{name} is damaged: {err}", source=str(self.root)) from None

    def incomplete_note(self) -> str | None:
        """None for a completed run; else what it holds, in words, for readers that go on with the
        steps present (exports): the chunks and steps written."""
        m = self.manifest
        if m.completed:
            return None
        done = self._chunks_written(m)
        last = m.n_steps - (m.chunks_total - 1) * m.chunk_steps if m.chunks_total else 0
        steps = sum(m.chunk_steps if c < m.chunks_total - 1 else last for c in done)
        return f"incomplete run: {len(done):,} of {m.chunks_total:,} chunk(s) written ({steps:,} of {m.n_steps:,} steps)"

    def _remove_half_written(self) -> None:
        for stale in self.root.rglob(".*.tmp-*"):  # half-written files of an interrupted run
            stale.unlink(missing_ok=True)

    def remove_unrecorded_chunks(self) -> None:
        """After an interrupted run: remove the chunk files the manifest does not record (a worker
        finished them, or this process had written them, and the interrupt came before they were
        recorded) and the half-written files of writes cut short, so that the folder reads as an
        incomplete run, not as a damaged one; a resume recomputes those chunks either way.

        The manifest is read from disk, not taken from this store's copy: an interrupt that lands
        between :meth:`write_manifest`'s write and its update of the copy (the moment a watcher
        sees a chunk recorded) left the copy a chunk behind, and its files were removed while the
        manifest on disk recorded them (a damaged folder; CI caught it once)."""
        m = self._manifest = self.read_manifest()
        for table in m.tables:
            for path in sorted((self.root / table).glob("part-*.parquet")):  # not parts(): it verifies
                chunk = _chunk_number(path.name)
                if chunk is not None and chunk not in m.chunks.get(table, {}):
                    path.unlink(missing_ok=True)
        self._remove_half_written()

    def _chunks_written(self, m: Manifest) -> set[int]:
        """The chunk numbers every table of the run has a file for (recorded, for format 2)."""
        done: set[int] | None = None
        for table in m.tables:
            if m.format_version >= FORMAT_VERSION:
                have = {c for c in m.chunks.get(table, {}) if self.chunk_path(table, c).exists()}
            else:
                have = {c for c in (_chunk_number(p.name) for p in (self.root / table).glob("part-*.parquet"))
                        if c is not None}
            done = have if done is None else done & have
        return {c for c in (done or set()) if 0 <= c < m.chunks_total}

    def tables(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and any(p.glob("part-*.parquet")))

    def problems(self, tables: list[str] | None = None) -> list[str]:
        """Every chunk file of ``tables`` (default: the manifest's) that is missing (in a completed
        run), truncated, changed or unrecorded; an empty list when the folder is sound."""
        m = self.manifest
        out = []
        for table in (m.tables if tables is None else tables):
            present = set()
            for p in sorted((self.root / table).glob("part-*.parquet")) if (self.root / table).is_dir() else []:
                chunk = _chunk_number(p.name)
                if chunk is None or chunk >= m.chunks_total:
                    # readers glob part-*.parquet: a file that is no chunk of this run would be read
                    out.append(f"{table}/{p.name} {STRAY_PART} (it has {m.chunks_total:,} chunk(s), "
                               f"part-000000 to part-{max(m.chunks_total - 1, 0):06d}); remove it")
                else:
                    present.add(chunk)
            for chunk in range(m.chunks_total):
                if chunk not in present and not m.completed:
                    continue  # an incomplete run: readers show the steps it has
                problem = self.chunk_problem(table, chunk)
                if problem:
                    out.append(problem)
        return out

    def written_files(self) -> tuple[str, ...]:
        """The single files (beside the chunks) that the run writing this folder wrote, so that a
        missing one is damage, not an older run's folder: ``leonet run`` has written sites.parquet
        and satellites.parquet into every folder it prepared, steps.parquet into a windowed run's,
        and the contract's JSON files (:data:`CONTRACT_FILES`) since format 2 (a folder of format
        1, written by an older leonet, has no JSON files: readers note what it lacks)."""
        m = self.manifest
        statics = [f"{t}.parquet" for t in STATIC_TABLES if t != STEPS_TABLE or not m.uniform_steps]
        return (*statics, *(CONTRACT_FILES if m.format_version >= FORMAT_VERSION else ()))

    def missing_files(self) -> list[str]:
        """A problem ("<file> is missing") for each of :meth:`written_files` that the folder lacks."""
        return [f"{name} is missing" for name in self.written_files() if not (self.root / name).exists()]

    def _damaged(self, problems: list[str]) -> DamagedResults:
        """The one message for damaged or missing files of the folder: each named, and what to do."""
        shown = "; ".join(problems[:8]) + (f"; and {len(problems) - 8} more" if len(problems) > 8 else "")
        # a run writes its single files anew and recomputes damaged chunks (a chunk's problem names
        # it as table/part-NNNNNN.parquet), but never removes files that are no chunk of it
        redo = [what for what, found in (
            ("recompute the damaged chunks", any(STRAY_PART not in p and "/" in p for p in problems)),
            ("write the missing files anew", any("/" not in p for p in problems))) if found]
        todo_text = f"run the same `leonet run` command again to {' and '.join(redo)}" if redo else ""
        if any(STRAY_PART in p for p in problems):
            todo_text += ("; " if todo_text else "") + "remove the files that are no chunk of this run"
        return DamagedResults(f"damaged results: {shown}. Nothing was read from them: {todo_text}", source=str(self.root))

    def verify(self, tables: list[str] | None = None) -> None:
        """Raise :class:`DamagedResults` naming every damaged or missing chunk file of ``tables``
        (default: every table of the manifest, and then the single files too: each of
        :meth:`written_files` must be there, and the static tables readable)."""
        missing = self.missing_files() if tables is None else []
        if tables is None:
            for name in STATIC_TABLES:
                if f"{name}.parquet is missing" not in missing:
                    self.static_file(name)
        todo = [t for t in (self.manifest.tables if tables is None else tables) if t not in self._verified]
        problems = missing + self.problems(todo)
        if problems:
            raise self._damaged(problems)
        self._verified.update(todo)

    def parts(self, name: str) -> list[Path]:
        """The chunk files of a per-step table, verified against the manifest."""
        self.verify([name] if name in self.manifest.tables else [])
        folder = self.root / name
        return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []

    def static_file(self, name: str) -> Path | None:
        """The file of the static table ``name`` (sites, satellites, steps), checked to be Parquet
        with a readable footer; None when the folder has no such table. A damaged file (truncated,
        appended to, overwritten), or a missing one the run wrote (:meth:`written_files`: sites,
        satellites), raises :class:`DamagedResults` naming it."""
        path = self.root / f"{name}.parquet"
        if not path.exists():
            if path.name in self.written_files():
                raise self._damaged([f"{path.name} is missing"])
            return None
        try:
            pq.ParquetFile(path).close()
        except (pa.ArrowException, OSError) as err:
            raise self._damaged_static(path, err) from None
        return path

    def _damaged_static(self, path: Path, err: Exception) -> DamagedResults:
        # static tables carry no sha256 in the manifest (they are rewritten by every run): what
        # pyarrow cannot read is damaged, and a run of the same command writes it again
        return DamagedResults(
            f"damaged results: {path.name} cannot be read ({str(err).splitlines()[0][:200]}). Nothing was read "
            "from it: run the same `leonet run` command again to write it anew", source=str(self.root))

    def read(self, name: str, columns: list[str] | None = None, filters=None) -> pa.Table:
        """A whole table (static or per-step) as one ``pyarrow.Table`` (chunks verified first; a
        static table that cannot be read raises :class:`DamagedResults` naming its file)."""
        static = self.static_file(name)
        if static is not None:
            missing = [c for c in (columns or []) if c not in pq.read_schema(static).names]
            if missing:
                raise InputError(f"{static.name} has no column {', '.join(map(repr, missing))}", source=str(self.root))
            try:
                return pq.read_table(static, columns=columns, filters=filters)
            except (pa.ArrowException, OSError) as err:  # a damaged page behind a sound footer
                raise self._damaged_static(static, err) from None
        parts = self.parts(name)
        if not parts:
            raise InputError(f"has no table {name!r}; tables: {', '.join(self.tables()) or 'none'}", source=str(self.root))
        names = pq.read_schema(parts[0]).names
        missing = [c for c in (columns or []) if c not in names]
        if missing:   # as for a static table (pyarrow's own message dumps the schema)
            raise InputError(f"{name} has no column {', '.join(map(repr, missing))}; its columns: {', '.join(names)}",
                             source=str(self.root))
        return pq.read_table([str(p) for p in parts], columns=columns, filters=filters) if len(parts) > 1 \
            else pq.read_table(parts[0], columns=columns, filters=filters)


def _chunk_number(name: str) -> int | None:
    """The chunk number of a file named ``part-NNNNNN.parquet`` (as :meth:`ResultStore.chunk_path`
    writes it: six digits at least, more from chunk 1,000,000 on), else None."""
    stem = name[len("part-"):-len(".parquet")] if name.startswith("part-") and name.endswith(".parquet") else ""
    return int(stem) if len(stem) >= 6 and stem.isdigit() else None


def _first_difference(old: str, new: str) -> str:
    for a, b in zip(old.splitlines(), new.splitlines()):
        if a != b:
            return f"it has `{a.strip()}` where this run has `{b.strip()}`"
    return "their scenario files differ"
