"""The ITU-R atmospheric attenuation of a cell grid, computed once and kept on disk.

The attenuation of a link (rain, gases, clouds, scintillation; :func:`leonet.capacity.atmosphere.
atmospheric_attenuation_db`) depends only on the place, the frequency, the elevation, the
availability and the dish, never on time, yet it costs 1.9-5 ms per point through ``itur``: a
100,000-cell grid took minutes to build at every run. Here each table (C cells x E elevations) is
stored under a key made of every input (the cells' latitudes and longitudes, the elevation grid,
the frequency, availability, dish diameter and efficiency, the ``itur`` version and this module's
format), so a later run over the same cells reads it back in milliseconds, equal to the bit.

Where: ``$LEONET_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/leonet``, else ``~/.cache/leonet``;
files ``attenuation/<key>.npz``. Writes are atomic (a temporary file renamed into place). A file
that cannot be read, or whose stored inputs differ from the request, is recomputed with a warning
and rewritten; a cache folder that cannot be written only warns (the run goes on).
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path

import numpy as np

#: Bumped when the stored layout or the attenuation model's meaning changes (2: the poles read
#: 1e-4 deg off them; tables of 1 held NaN there).
FORMAT = 2


def cache_dir() -> Path:
    """The leonet cache folder (see module docstring); not created here."""
    explicit = os.environ.get("LEONET_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "leonet"


def _itur_version() -> str:
    """The installed itur's version, without importing it (its import alone costs ~0.6 s)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("itur")
    except PackageNotFoundError:  # a source checkout on the path: ask the module
        import itur

        return str(itur.__version__)


def _inputs(lat_deg, lon_deg, grid_deg, frequency_hz, availability_pct, dish_diameter_m, kw) -> dict[str, np.ndarray]:
    return {
        "lat_deg": np.ascontiguousarray(lat_deg, dtype=np.float64),
        "lon_deg": np.ascontiguousarray(lon_deg, dtype=np.float64),
        "grid_deg": np.ascontiguousarray(grid_deg, dtype=np.float64),
        "scalars": np.array([frequency_hz, availability_pct, dish_diameter_m,
                             *(float(kw[k]) for k in sorted(kw))], dtype=np.float64),
        "names": np.array(["frequency_hz", "availability_pct", "dish_diameter_m", *sorted(kw),
                           f"itur {_itur_version()}", f"format {FORMAT}"]),
    }


def _key(inputs: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(inputs):
        h.update(name.encode())
        h.update(inputs[name].tobytes())
    return h.hexdigest()[:32]


def attenuation_table_db(lat_deg: np.ndarray, lon_deg: np.ndarray, grid_deg: np.ndarray, frequency_hz: float,
                         availability_pct: float, dish_diameter_m: float, **kw) -> np.ndarray:
    """(C, E) float64 total attenuation, dB, of C points (``lat_deg``, ``lon_deg``, (C,)) at the
    elevations ``grid_deg`` (E,), as :func:`~leonet.capacity.atmosphere.atmospheric_attenuation_db`
    computes it (``kw``: its other numeric arguments), read from the cache when it holds it."""
    inputs = _inputs(lat_deg, lon_deg, grid_deg, frequency_hz, availability_pct, dish_diameter_m, kw)
    path = cache_dir() / "attenuation" / f"{_key(inputs)}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                same = all(np.array_equal(z[k], v) for k, v in inputs.items())
                table = z["table_db"]
            if same and table.shape == (len(inputs["lat_deg"]), len(inputs["grid_deg"])) and table.dtype == np.float64:
                return table
            warnings.warn(f"attenuation cache {path} holds other inputs: recomputing it", stacklevel=2)
        except Exception as err:  # a truncated or foreign file: recompute, never trust it
            warnings.warn(f"attenuation cache {path} is unreadable ({type(err).__name__}: {err}): recomputing it",
                          stacklevel=2)
    table = compute_table_db(inputs["lat_deg"], inputs["lon_deg"], inputs["grid_deg"], frequency_hz,
                             availability_pct, dish_diameter_m, **kw)
    _store(path, inputs, table)
    return table


def compute_table_db(lat_deg, lon_deg, grid_deg, frequency_hz, availability_pct, dish_diameter_m, **kw) -> np.ndarray:
    """The (C, E) table computed afresh through ``itur`` (no cache)."""
    from .atmosphere import atmospheric_attenuation_db

    n, e = len(lat_deg), len(grid_deg)
    lat = np.repeat(np.asarray(lat_deg, dtype=np.float64), e)
    lon = np.repeat(np.asarray(lon_deg, dtype=np.float64), e)
    el = np.tile(np.asarray(grid_deg, dtype=np.float64), n)
    out = atmospheric_attenuation_db(lat, lon, el, frequency_hz, availability_pct=availability_pct,
                                     dish_diameter_m=dish_diameter_m, **kw)
    return np.asarray(out, dtype=np.float64).reshape(n, e)


def _store(path: Path, inputs: dict[str, np.ndarray], table: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez(buf, table_db=table, **inputs)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, path)
    except OSError as err:
        warnings.warn(f"could not write the attenuation cache {path} ({err.strerror or err}): "
                      "the table is recomputed at the next run", stacklevel=3)
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # the folder itself could not be made
            pass
