"""Export a results folder as CSV files that a spreadsheet opens as they are.

One CSV per table (``sites.csv``, ``satellites.csv``, ``dish_steps.csv``, ...), written batch by
batch from the Parquet files (a results folder never has to fit in memory):

- instants are ISO 8601 UTC text (``2022-03-01T12:00:00Z``; fractions of a second only where
  the value has them);
- list columns (``path``) are the ids separated by single spaces (``"1128 1127"``; an empty path
  is an empty cell);
- dictionary columns (``state``) are their text;
- a column of site indices (``site``, ``src``, ``dst``, ``gateway``, ``pop``) or satellite
  indices (``sat``, ``serving_sat``, ``best_sat``) is followed by a ``<column>_name`` column with
  the site's or satellite's name, so no join is needed; an index of -1 (none) has an empty name.
  A ``path`` of satellites is followed by ``path_names`` (names joined by ``" > "``, in route
  order). ``sites.csv`` gains a leading ``site`` column: the index other tables use.
  ``load_steps``' link ends ``a`` and ``b`` are sites or satellites by the link's ``kind``
  (:data:`LINK_END_OF`): each is followed by ``a_name`` / ``b_name``; a beam's ``b`` is a cell,
  which has no name, so its ``b_name`` is empty (as is that of an end of -1).

A windowed run's ``steps.csv`` lists its instants and the time each stands for (``duration_s``).
``daily.csv`` (a run with dishes: ``dish_steps`` has rows) is the report's day-by-day table
(:func:`leonet.results.timeline.daily_table`): per UTC day, the dish- and time-weighted shares of
dish-time online by satellite, by both, satellite only, ground only or none, and the events acting.
A run without dishes (stations only) has no day-by-day table, so no ``daily.csv`` is written.

Each CSV is written under a temporary name and renamed into place when complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import InputError, warn_to
from ..timeutil import ns_to_iso_array
from . import atomic
from .outputs import check_export_output
from .store import CSV_DIR, EXPORTED_AS_FAR, STATIC_TABLES, ResultStore  # static tables: STATIC_TABLES order
#: Tables computed from the others (not stored): the day-by-day story.
DERIVED_TABLES = ("daily",)
#: Integer columns that hold site indices, and those that hold satellite indices.
SITE_INDEX_COLUMNS = frozenset({"site", "src", "dst", "gateway", "pop"})
SAT_INDEX_COLUMNS = frozenset({"sat", "serving_sat", "best_sat"})
#: What the link ends of a table keyed (kind, a, b) are, per kind: "site" or "sat" (see
#: leonet.sim.schemas.LOAD_STEPS). A kind or end not listed (a beam's cell, "none") has no name.
LINK_END_OF: dict[str, dict[str, dict[str, str]]] = {
    "load_steps": {
        "a": {"beam": "sat", "satellite": "sat", "laser": "sat", "feeder": "site", "pop": "site"},
        "b": {"laser": "sat", "feeder": "sat"},
    },
}
#: Rows per batch read from Parquet and written to CSV.
BATCH_ROWS = 65_536

def _timestamps_to_text(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    col = pa.concat_arrays(col.chunks) if isinstance(col, pa.ChunkedArray) else col
    unit = col.type.unit
    ints = col.cast(pa.timestamp(unit)).cast(pa.int64()).fill_null(np.iinfo(np.int64).min)
    values = ints.to_numpy().astype(np.int64)
    scale = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[unit]
    ns = np.where(values == np.iinfo(np.int64).min, values, values * scale)
    return pa.array(ns_to_iso_array(ns), pa.string())


def _index_names(index: pa.Array, names: pa.Array) -> pa.Array:
    """The name for each index; null (an empty cell) for -1, nulls and out-of-range ids."""
    idx = pc.cast(index, pa.int64())
    ok = pc.and_(pc.greater_equal(idx, 0), pc.less(idx, len(names)))
    safe = pc.if_else(ok, idx, pa.scalar(None, pa.int64()))
    return pc.take(names, safe)


def _link_end_names(kind: pa.Array, index: pa.Array, of_kind: dict[str, str], site_names: pa.Array,
                    sat_names: pa.Array) -> pa.Array:
    """The name of each link end ``index``: a site's or a satellite's by the row's ``kind``."""
    kind = pc.cast(kind, pa.string())
    out = pa.nulls(len(index), pa.string())
    for k, of in of_kind.items():
        names = _index_names(index, site_names if of == "site" else sat_names)
        out = pc.if_else(pc.fill_null(pc.equal(kind, k), False), names, out)
    return out


def _join_list(col: pa.Array, sep: str = " ") -> pa.Array:
    as_text = col.cast(pa.list_(pa.string()) if pa.types.is_list(col.type) else pa.large_list(pa.string()))
    return pc.binary_join(as_text, sep)


def _list_names(col: pa.Array, names: pa.Array) -> pa.Array:
    # Names of the underlying values, re-cut by the (possibly sliced) array's own offsets.
    value_names = pc.fill_null(_index_names(col.values, names), "?")
    rebuilt = pa.ListArray.from_arrays(col.offsets, value_names, mask=col.is_null())
    return pc.binary_join(rebuilt, " > ")


def _spreadsheet_batch(batch: pa.RecordBatch, site_names: pa.Array, sat_names: pa.Array,
                       add_site_index: int | None = None, static: bool = False,
                       link_ends: dict[str, dict[str, str]] | None = None) -> pa.Table:
    """One batch with every column in spreadsheet form (see module doc).

    ``add_site_index``: prepend a ``site`` column counting from this row number (sites table).
    ``static``: a static table, whose own index column needs no name column beside it.
    ``link_ends``: the table's :data:`LINK_END_OF` entry (its ends named by the ``kind`` column).
    """
    names: list[str] = []
    arrays: list[pa.Array] = []
    if add_site_index is not None:
        names.append("site")
        arrays.append(pa.array(np.arange(add_site_index, add_site_index + batch.num_rows, dtype=np.int32)))
    for name, col in zip(batch.schema.names, batch.columns):
        typ = col.type
        if pa.types.is_dictionary(typ):
            col = col.cast(typ.value_type)
            typ = col.type
        if pa.types.is_timestamp(typ):
            names.append(name)
            arrays.append(_timestamps_to_text(col))
            continue
        if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
            if pa.types.is_fixed_size_list(typ):
                col = col.cast(pa.list_(typ.value_type))
            names.append(name)
            arrays.append(_join_list(col))
            if name == "path" and pa.types.is_integer(col.type.value_type):
                names.append("path_names")
                arrays.append(_list_names(col.cast(pa.list_(pa.int64())), sat_names))
            continue
        names.append(name)
        arrays.append(col)
        if link_ends and name in link_ends and pa.types.is_integer(typ):
            names.append(f"{name}_name")
            arrays.append(_link_end_names(batch.column(batch.schema.get_field_index("kind")), col, link_ends[name],
                                          site_names, sat_names))
        elif pa.types.is_integer(typ) and not static:
            if name in SITE_INDEX_COLUMNS:
                names.append(f"{name}_name")
                arrays.append(_index_names(col, site_names))
            elif name in SAT_INDEX_COLUMNS:
                names.append(f"{name}_name")
                arrays.append(_index_names(col, sat_names))
    return pa.Table.from_arrays(arrays, names=names)


def _table_files(store: ResultStore, name: str) -> list[Path]:
    static = store.static_file(name)  # a damaged static table is refused, named
    if static is not None:
        return [static]
    parts = store.parts(name)  # verified against the manifest: a damaged chunk is refused, named
    if not parts:
        available = [*[t for t in STATIC_TABLES if (store.root / f"{t}.parquet").exists()], *store.tables()]
        raise InputError(f"has no table {name!r}; tables: {', '.join(available) or 'none'}", source=str(store.root))
    return parts


def _names_column(store: ResultStore, table: str) -> pa.Array:
    if store.static_file(table) is None:
        return pa.array([], pa.string())
    return store.read(table, columns=["name"]).column("name").combine_chunks().cast(pa.string())


def _has_dish_rows(store: ResultStore) -> bool:
    """Whether the run has dishes: ``dish_steps`` with a row (a stations-only run writes the table
    empty; its daily table would be empty too). From the chunk files' footers, verified first."""
    if "dish_steps" not in store.tables():
        return False
    return any(pq.ParquetFile(p).metadata.num_rows for p in store.parts("dish_steps"))


def available_tables(results_dir: str | Path) -> list[str]:
    """Every table of a results folder that can be exported, static ones first."""
    store = ResultStore(results_dir)
    manifest = store.read_manifest()
    static = [t for t in STATIC_TABLES if (store.root / f"{t}.parquet").exists()]
    present = store.tables()
    ordered = [t for t in manifest.tables if t in present]
    derived = ["daily"] if _has_dish_rows(store) else []  # no dishes, no day-by-day table
    return static + ordered + [t for t in present if t not in ordered] + derived


def export_csv(results_dir: str | Path, out_dir: str | Path, tables: list[str] | None = None,
               max_rows: int | None = None, progress=None, warn=None) -> list[Path]:
    """Write ``<out_dir>/<table>.csv`` for each table of the results folder ``results_dir``.

    Parameters
    ----------
    results_dir : a leonet results folder (it has a ``manifest.json``).
    out_dir : where to write the CSV files (created if needed).
    tables : the tables to export (default: every table, static ones first; ``daily`` only for a
        run with dishes).
    max_rows : at most this many rows per table (the first ones, in time order); None for all.
    progress : ``progress(table, done, total)`` before each table, and done == total at the end.
    warn : ``warn(text)`` for what the reader must know about the export (an incomplete run: the
        CSV files hold only the steps it wrote), naming the folder; default :func:`warnings.warn`.

    Returns
    -------
    The CSV files written, in the order of ``tables``.

    Raises
    ------
    InputError : ``results_dir`` is not a results folder, a requested table is missing,
        ``max_rows`` is negative, or ``out_dir`` is refused by :func:`~leonet.results.outputs.check_export_output` (inside a
        results folder other than ``RESULTS/csv``, a file, a folder of Parquet files). Every input
        is read before the first file is written.
    DamagedResults : (an InputError) the folder is damaged, as every reader checks it
        (:meth:`~leonet.results.store.ResultStore.verify`): a chunk or a file the run wrote
        (sites.parquet, satellites.parquet, events.json, ...) is missing, truncated or changed,
        whichever tables are asked for. Nothing is written then.
    """
    store = ResultStore(results_dir)
    store.read_manifest()  # not a results folder -> InputError naming the folder
    if max_rows is not None and max_rows < 0:
        raise InputError(f"must be 0 or more, got {max_rows}", location="max_rows")
    out = check_export_output(out_dir, store.root, default=CSV_DIR, folder=True, option="the CSV folder")
    # the whole folder, before the first file: a table deleted whole (no chunk left to check) would
    # otherwise drop out of the tables exported, and a missing satellites.parquet leave names empty
    store.verify()
    note = store.incomplete_note()
    if note:  # a killed run exports what it wrote, but never passes for a whole one
        warn_to(warn, f"{store.root}: {note}; {EXPORTED_AS_FAR}")
    names = list(tables) if tables is not None else available_tables(results_dir)
    files = {name: _table_files(store, name) for name in names if name not in DERIVED_TABLES}  # checked before writing
    daily = None
    if "daily" in names:
        if not _has_dish_rows(store):
            raise InputError("has no dish steps (a run without dishes), so no daily table", source=str(store.root))
        # computed before any file is written: it reads events.json and run.json, and a damaged
        # one must stop the export before it writes, not after six tables of seven
        daily = _daily(store, max_rows)
    out.mkdir(parents=True, exist_ok=True)
    site_names = _names_column(store, "sites")
    sat_names = _names_column(store, "satellites")
    written = []
    for i, name in enumerate(names):
        if progress is not None:
            progress(name, i, len(names))
        if name == "daily":
            written.append(_write_daily_csv(daily, out / "daily.csv"))
            continue
        written.append(_write_table_csv(files[name], out / f"{name}.csv", site_names, sat_names,
                                        is_sites=(name == "sites"), static=name in STATIC_TABLES,
                                        max_rows=max_rows, link_ends=LINK_END_OF.get(name)))
    if progress is not None:
        progress("done", len(names), len(names))
    return written


def _write_table_csv(parts: list[Path], dest: Path, site_names: pa.Array, sat_names: pa.Array,
                     is_sites: bool, static: bool, max_rows: int | None,
                     link_ends: dict[str, dict[str, str]] | None = None) -> Path:
    writer = None
    rows = 0
    with atomic.atomic_path(dest) as tmp:  # a full disk: one message naming the file
        with open(tmp, "wb") as fh:
            for part in parts:
                pf = pq.ParquetFile(part)
                for batch in pf.iter_batches(batch_size=BATCH_ROWS):
                    if max_rows is not None and rows + batch.num_rows > max_rows:
                        batch = batch.slice(0, max_rows - rows)
                    if batch.num_rows == 0 and writer is not None:
                        continue
                    table = _spreadsheet_batch(batch, site_names, sat_names,
                                               add_site_index=rows if is_sites else None, static=static,
                                               link_ends=link_ends)
                    if writer is None:
                        writer = pacsv.CSVWriter(fh, table.schema)
                    writer.write_table(table)
                    rows += batch.num_rows
                    if max_rows is not None and rows >= max_rows:
                        break
                if max_rows is not None and rows >= max_rows:
                    break
            if writer is None:  # a table with no row groups: header from the schema
                schema = pq.read_schema(parts[0])
                empty = pa.RecordBatch.from_pylist([], schema=schema)
                table = _spreadsheet_batch(empty, site_names, sat_names,
                                           add_site_index=0 if is_sites else None, static=static,
                                           link_ends=link_ends)
                writer = pacsv.CSVWriter(fh, table.schema)
                writer.write_table(table)
            writer.close()
    return dest


def _daily(store: ResultStore, max_rows: int | None):
    """The day-by-day table (leonet.results.timeline.daily_table), its first ``max_rows`` rows."""
    from .timeline import daily_table

    day = daily_table(store)
    return day.head(max_rows) if max_rows is not None else day


def _write_daily_csv(day, dest: Path) -> Path:
    """The day-by-day table (:func:`_daily`) as CSV, atomically."""
    with atomic.atomic_path(dest) as tmp:
        day.to_csv(tmp, index=False, float_format="%.6g")
    return dest
