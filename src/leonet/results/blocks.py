"""A per-step table, too long to hold whole, taken apart by key into blocks that fit in memory.

Summaries that group rows by a key (per dish, per group of dishes, per satellite) need every row
of a key together, in the table's row order, but never rows of two blocks at once. One pass over
the chunk files writes each chunk's rows to the spill file of their block (Arrow IPC streams in a
temporary folder, rows in table order within each block); then the blocks are read back one at a
time. Memory is then bounded by one chunk file and one block, whatever the length of the run;
each row is read from Parquet once and written and read back once.

A block is the set of rows whose key maps to it (``block_of``); the caller chooses the blocks so
that a block holds a bounded number of rows (:func:`blocks_by_count`), and computes on each
exactly what it would compute on the whole table restricted to those keys.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

#: Most dish_steps (or load_steps) rows a summary holds at once; a longer table is taken apart by
#: dish group (by satellite or gateway) into blocks of about this many rows.
BUDGET_ROWS = 500_000


def count_keys(parts: list[Path], column: str, n_keys: int, where: Callable[[pa.Table], np.ndarray] | None = None,
               extra: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows per key (int64 (n_keys,)) of the integer ``column`` over the chunk files, and the row
    number (over the whole table, int64, -1 if never seen) of each key's first row. ``where``
    (table -> bool per row, reading ``extra`` columns too) keeps only some rows; row numbers
    still count every row."""
    counts = np.zeros(n_keys, dtype=np.int64)
    first = np.full(n_keys, -1, dtype=np.int64)
    offset = 0
    for part in parts:
        table = pq.read_table(part, columns=[column, *(extra or [])])
        key = table.column(column).to_numpy().astype(np.int64)
        rows = np.arange(len(key), dtype=np.int64) + offset
        if where is not None:
            keep = np.asarray(where(table), dtype=bool)
            key, rows = key[keep], rows[keep]
        counts += np.bincount(key, minlength=n_keys)[:n_keys]
        u, at = np.unique(key, return_index=True)
        new = first[u] < 0
        first[u[new]] = rows[at[new]]
        offset += table.num_rows
    return counts, first


def blocks_by_count(rows_per_unit: np.ndarray, budget_rows: int, min_units: int = 2) -> np.ndarray:
    """Block number of each unit (int64 (U,)): consecutive units, in the given order, go to one
    block while it holds at most ``budget_rows`` rows, and a block takes at least ``min_units``
    units (fewer only when there are fewer units in all; a last block with fewer joins the one
    before it).

    Why at least two: pandas sums a groupby with one group by another path than one with several
    (a plain reduction rather than its compensated sum per group), which can differ in the last
    bit; a block with two groups or more takes the same path as the whole table."""
    rows = np.asarray(rows_per_unit, dtype=np.int64)
    block = np.zeros(len(rows), dtype=np.int64)
    b, held, units = 0, 0, 0
    for i, n in enumerate(rows):  # over units (dishes' groups, satellites), not rows
        if units >= min_units and held + n > budget_rows:
            b, held, units = b + 1, 0, 0
        block[i] = b
        held += n
        units += 1
    if b > 0 and units < min_units:
        block[block == b] = b - 1
    return block


def iter_blocks(parts: list[Path], columns: list[str], block_of: Callable[[pa.Table], np.ndarray],
                n_blocks: int, folder: str | Path | None = None) -> Iterator[pa.Table]:
    """Each block's rows (the ``columns`` of every row whose ``block_of(table)`` is that block; -1:
    no block), in table order, block 0 first. The spill files live in a temporary folder (under
    ``folder`` if given) removed when the iteration ends."""
    with tempfile.TemporaryDirectory(prefix="leonet-blocks-", dir=folder) as tmp:
        paths = [Path(tmp) / f"block-{b:05d}.arrows" for b in range(n_blocks)]
        writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}
        schema = None
        try:
            for part in parts:
                table = pq.read_table(part, columns=columns)
                schema = table.schema if schema is None else schema
                block = np.asarray(block_of(table), dtype=np.int64)
                order = np.argsort(block, kind="stable")  # rows of a block keep their order
                sorted_block = block[order]
                bounds = np.searchsorted(sorted_block, np.arange(n_blocks + 1))
                for b in np.flatnonzero(np.diff(bounds)):
                    rows = table.take(pa.array(order[bounds[b]: bounds[b + 1]]))
                    if b not in writers:
                        writers[b] = pa.ipc.new_stream(str(paths[b]), rows.schema)
                    writers[b].write_table(rows)
        finally:
            for w in writers.values():
                w.close()
        if schema is None:
            return
        for b in range(n_blocks):
            if b not in writers:
                yield schema.empty_table()
                continue
            with pa.memory_map(str(paths[b])) as source:
                table = pa.ipc.open_stream(source).read_all()
            yield table
            del table
            paths[b].unlink()
