"""Where work is computed: in this process, on local worker processes (:mod:`.pool`), or on a Dask
cluster (:mod:`.daskrun`).

One generic executor (:func:`run_tasks`) serves every kind of work: a task is ``fn(shared,
*args)``, where ``shared`` (a model, a group of variant models, a study's base scenario) travels
to each worker once and ``args`` are the task's own. Runs use it for chunks
(:func:`compute_chunk_bytes`, :func:`compute_group_bytes`), planning studies for variants.

Chunk tasks serialise the chunk's tables to Parquet bytes in the worker, so the files are identical
byte for byte whichever executor made them. Where the workers share the run's folder (local worker
processes, a Dask ``LocalCluster``) each worker writes its chunk's files there itself, atomically,
and only their records (rows, size, sha256) travel back to the main process, which holds the
folder's lock and records them in the manifest (:func:`compute_chunk_files`). On a remote Dask
scheduler the bytes travel back and the main process writes them, so workers need no shared
filesystem (:func:`compute_chunk_bytes`). The model (satellites, sites, network arrays) travels to
each worker once: workers need only leonet installed.
"""

from __future__ import annotations

import io
from typing import Any, Callable, Hashable, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from .daskrun import run_dask_tasks
from .model import SimulationModel
from .pool import KeyedTask, run_pool
from .step import compute_chunk, compute_chunks

Task = tuple[int, int, int]  # (chunk number, first step, stop step)


def table_to_parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def compute_chunk_bytes(model: SimulationModel, a: int, b: int) -> dict[str, bytes]:
    """Tables of steps [a, b) as Parquet bytes (a pure function of the model and the steps)."""
    prev = int(model.t_ns[a - 1]) if a > 0 else None
    tables = compute_chunk(model, model.t_ns[a:b], prev)
    return {name: table_to_parquet_bytes(t) for name, t in tables.items()}


def compute_group_bytes(models: tuple[SimulationModel, ...], a: int, b: int,
                        members: tuple[int, ...]) -> tuple[dict[int, dict[str, bytes]], int]:
    """Tables of steps [a, b) of the models numbered ``members`` (variants that differ only in
    events, stepping together: :func:`~leonet.sim.step.compute_chunks`) as Parquet bytes, member
    -> table -> bytes; each equals :func:`compute_chunk_bytes` of that model. Also returns the
    number of stage results one member reused from another."""
    chosen = [models[k] for k in members]
    first = chosen[0]
    prev = int(first.t_ns[a - 1]) if a > 0 else None
    stats: dict = {}
    tables = compute_chunks(chosen, first.t_ns[a:b], prev, stats)
    return ({k: {name: table_to_parquet_bytes(t) for name, t in tab.items()} for k, tab in zip(members, tables)},
            stats.get("shared_results", 0))


def compute_chunk_files(model: SimulationModel, a: int, b: int, root: str, chunk: int) -> dict:
    """:func:`compute_chunk_bytes`, written straight into the results folder ``root`` as chunk
    ``chunk`` (each file atomically); returns table -> its ChunkRecord, for the manifest."""
    from ..results.store import ResultStore

    return ResultStore(root).write_chunk_files(chunk, compute_chunk_bytes(model, a, b))


def compute_group_files(models: tuple[SimulationModel, ...], a: int, b: int, members: tuple[int, ...],
                        roots: tuple[str, ...], chunk: int) -> tuple[dict[int, dict], int]:
    """:func:`compute_group_bytes`, each member's files written straight into its folder
    ``roots[member]`` as chunk ``chunk``; returns (member -> table -> ChunkRecord, shared results)."""
    from ..results.store import ResultStore

    parts, hits = compute_group_bytes(models, a, b, members)
    return {k: ResultStore(roots[k]).write_chunk_files(chunk, p) for k, p in parts.items()}, hits


def writes_in_workers(workers: int, dask: str | None) -> bool:
    """Whether chunk files are written by the processes that compute them: worker processes on this
    machine (``workers > 1``) or a Dask ``LocalCluster`` share the run's folder; a remote Dask
    scheduler's workers may not, so their bytes come back (and this process, the only one in a
    serial run, writes them)."""
    return dask == "local" if dask else workers > 1


# -- serial ---------------------------------------------------------------------------------------

def run_serial(fn: Callable, shared: Any, tasks: list[KeyedTask]) -> Iterator[tuple[Hashable, Any]]:
    for key, args in tasks:
        yield key, fn(shared, *args)


def run_tasks(fn: Callable, shared: Any, tasks: list[KeyedTask], workers: int = 1, dask: str | None = None,
              what: str = "chunks") -> Iterable[tuple[Hashable, Any]]:
    """Pick the executor: Dask if ``dask`` is given, else local processes if ``workers > 1`` and
    there is more than one task, else this process. Yields ``(key, fn(shared, *args))``."""
    if dask:
        return run_dask_tasks(fn, shared, tasks, dask, workers)
    if workers > 1 and len(tasks) > 1:
        return run_pool(fn, shared, tasks, workers, what)
    return run_serial(fn, shared, tasks)


def _chunk_tasks(tasks: list[Task], root: str | None = None) -> list[KeyedTask]:
    if root is None:
        return [(chunk, (a, b)) for chunk, a, b in tasks]
    return [(chunk, (a, b, root, chunk)) for chunk, a, b in tasks]


def run_dask(model: SimulationModel, tasks: list[Task], address: str, workers: int,
             connect_timeout_s: float = 10.0) -> Iterator[tuple[int, dict[str, bytes]]]:
    """Chunks on a Dask cluster (see :func:`.daskrun.dask_client`), as Parquet bytes."""
    return run_dask_tasks(compute_chunk_bytes, model, _chunk_tasks(tasks), address, workers, connect_timeout_s)


def execute(model: SimulationModel, tasks: list[Task], workers: int = 1, dask: str | None = None,
            root: str | None = None) -> Iterable[tuple[int, dict]]:
    """Chunks of one model: Dask if ``dask`` is given, else local processes if ``workers > 1``.
    Yields ``(chunk, table -> Parquet bytes)``; with ``root`` (a results folder the workers share:
    :func:`writes_in_workers`) the workers write the files there and it yields
    ``(chunk, table -> ChunkRecord)``."""
    fn = compute_chunk_bytes if root is None else compute_chunk_files
    return run_tasks(fn, model, _chunk_tasks(tasks, root), workers, dask)
