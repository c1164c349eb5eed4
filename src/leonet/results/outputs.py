"""Where an export (or the report) may write: never inside a results folder but as that run's own
documented output, never over a file of another kind (a run's ``manifest.json`` was once replaced
by ``leonet report -o``)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .store import MANIFEST


def results_folder_holding(path: str | Path) -> Path | None:
    """The results folder (a folder with a ``manifest.json``) that is ``path`` or holds it, the
    nearest one (a run's ``baseline/`` before the run); None outside any."""
    p = Path(path).resolve()
    for q in (p, *p.parents):
        if (q / MANIFEST).is_file():
            return q
    return None


def check_export_output(out: str | Path, results_dir: str | Path, *, default: str, folder: bool = False,
                        own_suffixes: tuple[str, ...] = (), option: str = "--out") -> Path:
    """Check where an export (or the report) will write, before any work; returns ``out`` as a Path.

    Refuses, with an :class:`InputError` naming ``out``: a path inside a results folder other than
    this run's documented output ``results_dir / default`` (a run's own files must never be
    replaced: ``manifest.json``, a table folder); a file where a folder is wanted and a folder where
    a file is; an existing file whose suffix is not in ``own_suffixes`` (an export replaces only a
    file of its own kind); a folder holding Parquet files (a table folder) for CSV files.
    """
    out = Path(out)
    documented = Path(results_dir).resolve() / default
    target = out.resolve()
    holder = results_folder_holding(target)
    if holder is not None and target != documented:
        raise InputError(f"{option} is inside the results folder {holder}: writing there could replace the run's "
                         f"own files; give a path outside it (the default, {Path(results_dir) / default}, is fine)",
                         source=str(out))
    if folder:
        if out.exists() and not out.is_dir():
            raise InputError(f"{option} exists and is not a folder", source=str(out))
        if out.is_dir() and any(p.suffix == ".parquet" for p in out.iterdir()):
            raise InputError(f"{option} holds Parquet files (a table's folder?): CSV files go to a folder of their "
                             "own", source=str(out))
        return out
    if out.is_dir():
        raise InputError(f"{option} is a folder; give a file name (e.g. {out / documented.name})", source=str(out))
    if out.exists() and out.suffix.lower() not in own_suffixes:
        raise InputError(f"{option} exists and is not a {' or '.join(own_suffixes)} file: an export replaces only a "
                         "file of its own kind; choose another name (or remove the file first)", source=str(out))
    return out
