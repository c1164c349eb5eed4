"""Run a scenario: split its instants into chunks, compute each, write each to the result store.

Chunks already present in the results folder (from an interrupted run of the same scenario) are
not recomputed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from ..results.store import ResultStore
from ..scenario import Scenario
from .model import SimulationModel, build_model
from ..errors import InputError, LeonetError
from .executors import execute


@dataclass
class RunResult:
    """What a run did. ``store`` reads its tables; ``model`` holds its satellites and sites."""

    store: ResultStore
    model: SimulationModel
    elapsed_s: float
    chunks_computed: int
    chunks_total: int
    resumed: bool


def chunk_bounds(n_steps: int, chunk_steps: int) -> list[tuple[int, int]]:
    """Step index ranges [start, stop) of each chunk."""
    return [(a, min(a + chunk_steps, n_steps)) for a in range(0, n_steps, chunk_steps)]


def table_names(scenario: Scenario) -> list[str]:
    names = ["site_steps"]
    if scenario.outputs.visibility_pairs:
        names.append("visibility")
    if scenario.network.enabled:
        names += ["dish_steps", "network_steps"]
        if scenario.network.pairs or scenario.network.all_station_pairs:
            names.append("pair_steps")
        if scenario.capacity.enabled:
            names.append("load_steps")
    if scenario.outputs.positions:
        names.append("positions")
    return names


def run(
    scenario: Scenario,
    out_dir: str | Path | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    dask: str | None = None,
    max_memory_bytes: int | None = None,
) -> RunResult:
    """Run ``scenario`` and write its results to ``out_dir`` (default: the scenario's outputs.dir).

    ``workers``: local processes (1: this process). ``dask``: a scheduler address
    (``tcp://host:8786``) or ``"local"`` for a LocalCluster of ``workers`` processes.
    ``progress(done_steps, total_steps)`` is called after each chunk. Chunks already in
    ``out_dir`` from an interrupted run of the same scenario are kept, not recomputed.
    ``max_memory_bytes``: refuse a run whose estimated peak memory is larger
    (:mod:`leonet.sim.budget`; default 80 % of this machine's memory).
    """
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}", location="--workers")
    t0 = time.perf_counter()
    # reads and checks every input, and the run's size, before anything is written
    model = build_model(scenario, max_memory_bytes=max_memory_bytes, workers=1 if dask else workers)
    store = ResultStore(out_dir if out_dir is not None else scenario.output_dir())
    bounds = chunk_bounds(len(model.t_ns), scenario.outputs.chunk_steps)
    names = table_names(scenario)
    manifest = {
        "leonet_version": __version__,
        "scenario": scenario.name,
        "start_ns": int(model.t_ns[0]),
        "step_ns": scenario.time.step_ns,
        "n_steps": len(model.t_ns),
        "chunk_steps": scenario.outputs.chunk_steps,
        "chunks_total": len(bounds),
        "tables": names,
        "n_satellites": len(model.constellation),
        "n_sites": len(model.sites),
        "completed": False,
    }
    resumed = store.prepare(scenario.to_yaml(), manifest, overwrite=overwrite)
    store.write_static("sites", model.sites.to_table())
    store.write_static("satellites", model.constellation.to_table())

    total = len(model.t_ns)
    tasks = [(chunk, a, b) for chunk, (a, b) in enumerate(bounds) if not store.chunk_done(chunk, names)]
    done_steps = total - sum(b - a for _, a, b in tasks)
    if progress is not None:
        progress(done_steps, total)
    computed = 0
    size = {chunk: b - a for chunk, a, b in tasks}
    for chunk, parts in execute(model, tasks, workers=workers, dask=dask):
        try:
            store.write_chunk_bytes(chunk, parts)
        except OSError as err:
            raise LeonetError(
                f"could not write chunk {chunk} to {store.root}: {err.strerror or err}; "
                f"the {computed} chunk(s) finished before it are kept - free space and run the same command to resume"
            ) from None
        computed += 1
        done_steps += size[chunk]
        if progress is not None:
            progress(done_steps, total)
    manifest = store.read_manifest()
    manifest["completed"] = True
    store.write_manifest(manifest)
    return RunResult(store, model, time.perf_counter() - t0, computed, len(bounds), resumed)


def steps_of(t_ns: np.ndarray, start_ns: int, step_ns: int) -> np.ndarray:
    """Step index of each instant."""
    return (np.asarray(t_ns, dtype=np.int64) - start_ns) // step_ns
