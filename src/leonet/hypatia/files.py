"""Hypatia's file formats, as :mod:`leonet.hypatia.export` writes them: the text of each file of the
satellite network state (``tles.txt``, ``isls.txt``, ``ground_stations.txt``, ``gsl_interfaces_info.txt``,
``description.txt``, ``fstate_<t>.txt``, ``gsl_if_bandwidth_<t>.txt``), the folders' names, which folders
an export may write into (:func:`check_out_dir`), and the writing (a temporary name, renamed into place).

The formats and their sources are in :mod:`leonet.hypatia.export`'s docstring; what the files hold (the
numbering, the routes, the lengths) is computed there. A ``layout`` argument is its
:class:`~leonet.hypatia.export.HypatiaLayout` (not imported here: the export imports this module).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..results import atomic
from ..space.tle import format_tle

__all__ = ["EXPORT_FILES", "check_out_dir"]

_FSTATE_FMT = "%d,%d,%d,%d,%d\n"


#: The files of an export (:mod:`leonet.hypatia.export`'s docstring); a folder holding only these
#: and dynamic-state folders is a previous export, which an export may replace.
EXPORT_FILES = ("tles.txt", "isls.txt", "ground_stations.txt", "gsl_interfaces_info.txt", "description.txt")
_DYNAMIC_FILE = re.compile(r"^(fstate|gsl_if_bandwidth)_\d+\.txt$")
_DYNAMIC_DIR = re.compile(r"^dynamic_state_[0-9.]+ms_for_[0-9.]+s$")


def check_out_dir(out_dir: str | Path) -> bool:
    """Check the folder an export writes before any work. Returns True when it holds a previous
    export (its files are replaced), False when it is missing or empty. Raises :class:`InputError`
    for a path that is not a folder, or a folder holding anything but an export's files (a results
    folder, a home folder): an export never writes among other files."""
    from ..results.outputs import results_folder_holding

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; give a folder for Hypatia's files", source=str(out))
    holder = results_folder_holding(out)
    if holder is not None:
        raise InputError(f"is inside the results folder {holder}: writing there could replace the run's own files; "
                         "give a folder outside it", source=str(out))
    if not out.is_dir():
        return False
    try:
        entries = list(out.iterdir())
    except OSError as err:
        raise InputError(f"cannot be read ({err.strerror or err})", source=str(out)) from None
    foreign = []
    for p in entries:
        if p.name.startswith("."):
            continue
        if p.is_file() and p.name in EXPORT_FILES:
            continue
        if p.is_dir() and _DYNAMIC_DIR.match(p.name) and all(
                q.is_file() and _DYNAMIC_FILE.match(q.name) for q in p.iterdir()):
            continue
        foreign.append(p.name)
    if foreign:
        shown = ", ".join(sorted(foreign)[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise InputError(f"is not empty and holds files that are not a Hypatia export ({shown}); an export "
                         "writes only into an empty folder or replaces a previous export: choose another folder",
                         source=str(out))
    return any(not p.name.startswith(".") for p in entries)


def _folders(out: Path, step_ns: int, duration_ns: int) -> tuple[Path, Path]:
    """``out`` and its ``dynamic_state_<step_ms>ms_for_<duration_s>s`` folder, created: the
    calendar's step and duration, exactly (:mod:`leonet.hypatia.export`'s docstring, "Time")."""
    out.mkdir(parents=True, exist_ok=True)
    dyn = out / f"dynamic_state_{_decimal(step_ns, 6)}ms_for_{_decimal(duration_ns, 9)}s"
    dyn.mkdir(parents=True, exist_ok=True)
    return out, dyn


def _decimal(count: int, digits: int) -> str:
    """``count`` / 10**digits in exact decimal, from integers so nothing is rounded (a float's
    repr can print 0.30000000000000004): (100_000_000, 6) -> "100", (350_000_000, 9) -> "0.35"."""
    whole, frac = divmod(int(count), 10**digits)
    return str(whole) if frac == 0 else f"{whole}.{frac:0{digits}d}".rstrip("0")


def _write(path: Path, text: str) -> None:
    """Write ``text`` to a temporary name in the same folder, then rename it into place (a full
    disk: one message naming the file, see :mod:`leonet.results.atomic`)."""
    atomic.write_bytes(path, text.encode("utf-8"), fsync=False)


def _write_static(model, layout, out: Path, sat_bw: float, gs_bw: float) -> int:
    """Write ``tles.txt``, ``isls.txt``, ``ground_stations.txt`` and ``gsl_interfaces_info.txt`` into
    ``out``; returns the files written (``description.txt``: :func:`_write_description`)."""
    n, g = layout.n_sats, layout.n_stations
    _write(out / "tles.txt", _tles_text(model))
    _write(out / "isls.txt", "".join(f"{a} {b}\n" for a, b in layout.isls.tolist()))
    _write(out / "ground_stations.txt", _ground_stations_text(model, layout))
    info = ["%d,%d,%f" % (i, 1, sat_bw if i < n else gs_bw) for i in range(n + g)]
    _write(out / "gsl_interfaces_info.txt", "\n".join(info) + "\n")
    return 4


def _write_description(out: Path, gsl: float, isl: float) -> int:
    """Write ``description.txt`` into ``out``: the maximum GSL and ISL lengths in metres
    (:func:`~leonet.hypatia.export._max_lengths`); returns the files written."""
    _write(out / "description.txt", "max_gsl_length_m=%.10f\nmax_isl_length_m=%.10f\n" % (gsl, isl))
    return 1


def _tles_text(model) -> str:
    c = model.constellation
    e = c.elements
    n = len(c)
    shell = np.asarray(c.shell)
    plane = np.asarray(c.plane, dtype=np.int64)
    slot = np.asarray(c.slot, dtype=np.int64)
    header = f"1 {n}"
    if (shell == shell[0]).all() and (plane >= 0).all() and (slot >= 0).all():
        p, s = int(plane.max()) + 1, int(slot.max()) + 1
        if p * s == n and bool((plane * s + slot == np.arange(n)).all()):
            header = f"{p} {s}"
    lines = [header]
    for i in range(n):  # text, line by line; format_tle has no array form
        name = "_".join(str(e.name[i]).split()) or "sat"
        try:
            line1, line2 = format_tle(e, i, catalog_number=i + 1)
        except ValueError as err:
            raise InputError(f"cannot write satellite {i} as a TLE: {err}", location="constellation") from None
        lines.extend((f"{name} {i}", line1, line2))
    return "\n".join(lines) + "\n"


def _ground_stations_text(model, layout) -> str:
    sites = model.sites
    idx = layout.station_sites
    xyz = np.asarray(sites.ecef_m, dtype=np.float64)[idx]
    lines = []
    for gid, (k, (x, y, z)) in enumerate(zip(idx, xyz)):
        name = " ".join(str(sites.name[k]).replace(",", ";").split()) or f"station-{gid}"
        lines.append("%d,%s,%s,%s,%f,%f,%f,%f" % (
            gid, name, repr(float(sites.lat_deg[k])), repr(float(sites.lon_deg[k])),
            float(sites.elevation_m[k]), x, y, z))
    return "\n".join(lines) + "\n"


def _write_dynamic(stream, layout, dyn: Path, rel_ns: np.ndarray, bandwidth_text: str,
                   progress) -> tuple[int, int, int, int]:
    """Write ``fstate_<t>.txt`` and ``gsl_if_bandwidth_<t>.txt`` for each step of ``stream``
    (:meth:`leonet.hypatia.export._StepComputer.changes`), ``rel_ns`` (T,) the steps in ns after the
    epoch. Returns (files written, fstate lines, lines of the first file, (ISL, step) pairs dropped)."""
    n_steps = len(rel_ns)
    files = entries_total = entries_first = isl_drops = 0
    for k, (rows, nxt, dropped, _) in enumerate(stream):
        nxt = nxt.astype(np.int64)
        cur, dst = layout.entry_cur[rows], layout.entry_dst[rows]
        my, other = layout.interfaces(cur, nxt)
        rel = int(rel_ns[k])
        _write(dyn / f"fstate_{rel}.txt", _fstate_text(cur, dst, nxt, my, other))
        _write(dyn / f"gsl_if_bandwidth_{rel}.txt", bandwidth_text if k == 0 else "")
        files += 2
        entries_total += len(rows)
        if k == 0:
            entries_first = len(rows)
        isl_drops += int(dropped)
        if progress is not None:
            progress(k + 1, n_steps)
    return files, entries_total, entries_first, isl_drops


def _fstate_text(cur, dst, nxt, my, other) -> str:
    if len(cur) == 0:
        return ""
    rows = np.stack([cur, dst, nxt, my, other], axis=1).astype(np.int64)
    return (_FSTATE_FMT * len(rows)) % tuple(rows.ravel().tolist())


def _bandwidth_text(layout, sat_bw: float, gs_bw: float) -> str:
    n, g = layout.n_sats, layout.n_stations
    lines = ["%d,%d,%f" % (i, layout.gsl_if[i], sat_bw) for i in range(n)]
    lines += ["%d,%d,%f" % (n + k, 0, gs_bw) for k in range(g)]
    return "\n".join(lines) + "\n"
