"""The results folder: Parquet tables written chunk by chunk, each chunk atomically.

Layout of a results folder::

    scenario.yaml             the resolved scenario (presets expanded, overrides applied)
    manifest.json             what was run: scenario hash, steps, chunking, tables, progress
    sites.parquet             one row per ground site
    satellites.parquet        one row per satellite (shell, plane, slot, elements)
    <table>/part-NNNNNN.parquet   one file per chunk of steps, for each per-step table

A chunk file is written to a temporary name and renamed into place, so a reader (or a resumed
run) never sees half a chunk. ``pandas.read_parquet(folder / "site_steps")`` reads a whole table.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError

MANIFEST = "manifest.json"
SCENARIO_FILE = "scenario.yaml"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _atomic_write_table(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def scenario_digest(scenario_yaml: str) -> str:
    """SHA-256 of the resolved scenario text: two runs are the same run iff these match."""
    return hashlib.sha256(scenario_yaml.encode("utf-8")).hexdigest()


class ResultStore:
    """A results folder (see module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # -- writing ---------------------------------------------------------------------------
    def prepare(self, scenario_yaml: str, manifest: dict, overwrite: bool = False) -> bool:
        """Create the folder for a run, or check that an existing one holds the same scenario.

        Returns True when the folder already held this scenario (a resume). Refuses a folder that
        holds a different scenario unless ``overwrite`` is set, so that nothing is lost silently.
        """
        digest = scenario_digest(scenario_yaml)
        existing = self.read_manifest() if (self.root / MANIFEST).exists() else None
        if self.root.exists() and not self.root.is_dir():
            raise InputError("exists and is not a folder", source=str(self.root))
        if existing is not None and existing.get("scenario_sha256") != digest and not overwrite:
            old = (self.root / SCENARIO_FILE).read_text(encoding="utf-8") if (self.root / SCENARIO_FILE).exists() else ""
            raise InputError(
                "holds results of a different scenario "
                f"({_first_difference(old, scenario_yaml)}); choose another --out folder or pass --overwrite",
                source=str(self.root),
            )
        if existing is None and self.root.exists() and any(self.root.iterdir()) and not overwrite:
            raise InputError("is not empty and holds no leonet results; choose another --out folder", source=str(self.root))
        if overwrite and existing is not None and existing.get("scenario_sha256") != digest:
            self._clear()
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.rglob(".*.tmp-*"):  # half-written files of an interrupted run
            stale.unlink()
        resumed = existing is not None and existing.get("scenario_sha256") == digest
        manifest = dict(manifest, scenario_sha256=digest)
        if resumed:
            manifest["completed"] = existing.get("completed", False)
        _atomic_write_bytes(self.root / SCENARIO_FILE, scenario_yaml.encode("utf-8"))
        self.write_manifest(manifest)
        return resumed

    def _clear(self) -> None:
        for table_dir in self.root.iterdir():
            if table_dir.is_dir() and all(p.suffix == ".parquet" or p.name.startswith(".") for p in table_dir.iterdir()):
                for p in table_dir.iterdir():
                    p.unlink()
                table_dir.rmdir()
            elif table_dir.suffix in (".parquet", ".json", ".yaml"):
                table_dir.unlink()

    def write_manifest(self, manifest: dict) -> None:
        _atomic_write_bytes(self.root / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))

    def write_static(self, name: str, table: pa.Table) -> None:
        """A table that does not depend on time (sites, satellites)."""
        _atomic_write_table(self.root / f"{name}.parquet", table)

    def chunk_path(self, table: str, chunk: int) -> Path:
        return self.root / table / f"part-{chunk:06d}.parquet"

    def write_chunk(self, chunk: int, tables: dict[str, pa.Table]) -> None:
        """Write one chunk of every per-step table, each file atomically."""
        for name, table in tables.items():
            path = self.chunk_path(name, chunk)
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write_table(path, table)

    def write_chunk_bytes(self, chunk: int, parts: dict[str, bytes]) -> None:
        """Write one chunk given as Parquet bytes per table (from a worker), each file atomically."""
        for name, data in parts.items():
            path = self.chunk_path(name, chunk)
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write_bytes(path, data)

    def chunk_done(self, chunk: int, table_names: list[str]) -> bool:
        return all(self.chunk_path(t, chunk).exists() for t in table_names)

    # -- reading ---------------------------------------------------------------------------
    def read_manifest(self) -> dict:
        path = self.root / MANIFEST
        if not path.exists():
            raise InputError("is not a leonet results folder (no manifest.json)", source=str(self.root))
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"manifest.json is damaged: {err}", source=str(self.root)) from None

    def tables(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and any(p.glob("part-*.parquet")))

    def read(self, name: str, columns: list[str] | None = None, filters=None) -> pa.Table:
        """A whole table (static or per-step) as one ``pyarrow.Table``."""
        static = self.root / f"{name}.parquet"
        if static.exists():
            return pq.read_table(static, columns=columns, filters=filters)
        folder = self.root / name
        parts = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
        if not parts:
            raise InputError(f"has no table {name!r}; tables: {', '.join(self.tables()) or 'none'}", source=str(self.root))
        return pq.read_table([str(p) for p in parts], columns=columns, filters=filters) if len(parts) > 1 \
            else pq.read_table(parts[0], columns=columns, filters=filters)


def _first_difference(old: str, new: str) -> str:
    for a, b in zip(old.splitlines(), new.splitlines()):
        if a != b:
            return f"it has `{a.strip()}` where this run has `{b.strip()}`"
    return "their scenario files differ"
