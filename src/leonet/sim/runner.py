"""Run a scenario: split its instants into chunks, compute each, write each to the result store.

Chunks already present and intact in the results folder (from an interrupted run of the same
scenario) are not recomputed; a chunk that is missing, truncated or changed since it was written
is. The folder is locked while the run writes it, so a second run cannot mix its results in.

The runner is the one place of the engine that holds the :class:`~leonet.scenario.Scenario`
itself: it builds the model from it, writes it to ``scenario.yaml`` and derives the baseline
scenario (the scenario without its events). Everything else it reads from the built model's
:class:`~leonet.sim.settings.RunSettings`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .._version import __version__
from ..errors import InputError, LeonetError
from ..results.atomic import WriteError
from ..results.store import BASELINE_DIR, STEPS_TABLE, Manifest, ResultStore
from ..scenario import Scenario
from .contract import write_contract
from .inputs import inputs_digest
from ..memory import release_free_memory
from .executors import compute_group_bytes, compute_group_files, execute, run_tasks, writes_in_workers
from .model import SimulationModel, build_model
from .settings import RunSettings

@dataclass
class RunResult:
    """What a run did. ``store`` reads its tables; ``model`` holds its satellites and sites.

    ``recomputed`` names the chunk files a resume found damaged or missing (and computed again);
    ``baseline`` is the baseline run's result with ``run(..., baseline=True)``.
    """

    store: ResultStore
    model: SimulationModel
    elapsed_s: float
    chunks_computed: int
    chunks_total: int
    resumed: bool
    recomputed: list[str] = field(default_factory=list)
    baseline: RunResult | None = None


def steps_table(t_ns: np.ndarray, duration_s: np.ndarray):
    """The instants of a windowed calendar and the time each stands for
    (:meth:`leonet.scenario.timing.TimeSpec.durations_s`): a pyarrow table (t, duration_s)."""
    import pyarrow as pa

    t = np.asarray(t_ns, dtype=np.int64)
    return pa.table({"t": pa.array(t, type=pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
                     "duration_s": pa.array(np.asarray(duration_s, dtype=np.float64))})


def chunk_bounds(n_steps: int, chunk_steps: int) -> list[tuple[int, int]]:
    """Step index ranges [start, stop) of each chunk."""
    return [(a, min(a + chunk_steps, n_steps)) for a in range(0, n_steps, chunk_steps)]


def table_names(settings: RunSettings) -> list[str]:
    """The tables a run of these settings writes, in manifest order."""
    names = ["site_steps"]
    if settings.visibility_pairs:
        names.append("visibility")
    if settings.network:
        names += ["dish_steps", "network_steps"]
        if settings.station_pairs:
            names.append("pair_steps")
        if settings.capacity:
            names.append("load_steps")
    if settings.positions:
        names.append("positions")
    return names


#: Event types a baseline keeps: they describe the network as it grows, not something that happens
#: to it (without its deliveries, ukraine-2022's baseline had all 4,560 dishes from 28 Feb, and the
#: events read as lowering Kyiv's unmet demand from 3 % to 1 %).
BASELINE_KEEPS = ("deliveries",)


def baseline_scenario(scenario: Scenario) -> Scenario:
    """The scenario without its events (what its events are measured against), but for those that
    only bring dishes in over time (:data:`BASELINE_KEEPS`), which the baseline keeps."""
    kept = [e for e in scenario.events if e.type in BASELINE_KEEPS]
    if len(kept) == len(scenario.events):
        raise InputError("a baseline needs a scenario with events (the baseline is the scenario without them; "
                         f"it keeps {', '.join(BASELINE_KEEPS)} events, which describe the network, not a threat)",
                         location="events")
    return scenario.model_copy(update={"events": kept, "name": f"{scenario.name}-baseline"})


def run(
    scenario: Scenario,
    out_dir: str | Path | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    dask: str | None = None,
    baseline: bool = False,
    on_baseline: Callable[[], None] | None = None,
    max_memory_bytes: int | None = None,
    model: SimulationModel | None = None,
) -> RunResult:
    """Run ``scenario`` (a :class:`~leonet.scenario.Scenario`, a preset name, a YAML path or a dict)
    and write its results to ``out_dir`` (default: the scenario's outputs.dir). ``overwrite``:
    replace results of a different scenario there (those of this very scenario are resumed, kept
    chunk by chunk, whatever ``overwrite`` says).

    ``workers``: local processes (1: this process). ``dask``: a scheduler address
    (``tcp://host:8786``) or ``"local"`` for a LocalCluster of ``workers`` processes.
    ``progress(done_steps, total_steps)`` is called after each chunk. Chunks already in
    ``out_dir`` from an interrupted run of the same scenario are kept, not recomputed, when they
    are intact. ``baseline=True`` also runs the scenario without its events into
    ``out_dir/baseline`` (``on_baseline()`` is called before it starts), for
    :func:`leonet.results.compare.compare`.
    ``max_memory_bytes``: refuse a run whose estimated peak memory is larger
    (:mod:`leonet.sim.budget`; default 80 % of this machine's memory).
    ``model``: the scenario already built (:func:`~leonet.sim.model.build_model`, or
    :func:`~leonet.sim.model.model_with_events` for a variant that only changes events): its build
    is skipped (planning studies share one build across their variants).
    """
    from .model import as_scenario

    scenario = as_scenario(scenario)   # a preset name, a YAML path or a dict too
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)):
        raise TypeError(f"workers is a whole number of processes, got {workers!r}")
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}", location="workers (--workers)")
    if workers > 1 or dask:
        from .daskrun import check_dask_address
        from .pool import _refuse_inside_worker_start

        _refuse_inside_worker_start()  # before the folder lock: say what is wrong, not "busy"
        check_dask_address(dask)  # before the folder is prepared: a bad address writes nothing
    base_sc = baseline_scenario(scenario) if baseline else None  # refuse before any work
    if model is not None and model.scenario is not scenario:
        raise ValueError("run(model=...) needs the model built for this very scenario")
    result = _run_one(scenario, out_dir, overwrite, progress, workers, dask, max_memory_bytes, model)
    if base_sc is not None:
        if on_baseline is not None:
            on_baseline()
        result.baseline = _run_one(base_sc, result.store.root / BASELINE_DIR, overwrite, progress, workers, dask,
                                   max_memory_bytes)
    return result


def _run_one(scenario, out_dir, overwrite, progress, workers, dask, max_memory_bytes=None, model=None) -> RunResult:
    t0 = time.perf_counter()
    # reads and checks every input, and the run's size, before anything is written
    if model is None:
        model = build_model(scenario, max_memory_bytes=max_memory_bytes, workers=1 if dask else workers)
    return _run_stores([(scenario, model, out_dir)], overwrite, progress, workers, dask, max_memory_bytes, t0)[0]


def run_group(scenarios: list[Scenario], out_dirs: list[str | Path], *, models: list[SimulationModel] | None = None,
              overwrite: bool = False, progress: Callable[[int, int], None] | None = None, workers: int = 1,
              dask: str | None = None, max_memory_bytes: int | None = None) -> list[RunResult]:
    """Run variants of one scenario that differ only in their events
    (:func:`~leonet.sim.model.same_but_events`: N-1 over gateways, PoPs, fibre, planes), each into
    its own results folder, stepping through each chunk together
    (:func:`~leonet.sim.step.compute_chunks`): positions, visibility and the links the sky alone
    decides are computed once per step, the stages after them per variant (and once for variants
    whose dishes' routes agree). Every folder equals what :func:`run` writes for its scenario.

    ``models``: the scenarios already built (default: the first is built and the others share its
    build, :func:`~leonet.sim.model.model_with_events`). ``progress(done, total)`` counts steps
    over all variants. Folders resume like :func:`run`'s.
    """
    from .model import model_with_events, same_but_events

    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)):
        raise TypeError(f"workers is a whole number of processes, got {workers!r}")
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}", location="workers (--workers)")
    if len(out_dirs) != len(scenarios) or not scenarios:
        raise ValueError("run_group: one results folder per scenario, and at least one scenario")
    for sc in scenarios[1:]:
        if not same_but_events(scenarios[0], sc):
            raise ValueError(f"run_group: {sc.name} differs from {scenarios[0].name} in more than its events")
    if workers > 1 or dask:
        from .daskrun import check_dask_address
        from .pool import _refuse_inside_worker_start

        _refuse_inside_worker_start()
        check_dask_address(dask)
    t0 = time.perf_counter()
    if models is None:
        first = build_model(scenarios[0], max_memory_bytes=max_memory_bytes, workers=1 if dask else workers)
        models = [first] + [model_with_events(first, sc) for sc in scenarios[1:]]
    if any(m.scenario is not sc for m, sc in zip(models, scenarios)):
        raise ValueError("run_group(models=...) needs the models built for these very scenarios")
    return _run_stores(list(zip(scenarios, models, out_dirs)), overwrite, progress, workers, dask, max_memory_bytes,
                       t0)


def _prepare(store: ResultStore, scenario: Scenario, model: SimulationModel, overwrite: bool):
    """Prepare one results folder (locked by the caller) and say which chunks it still needs:
    (resumed, tasks, recomputed, bounds)."""
    s = model.settings
    bounds = chunk_bounds(len(model.t_ns), s.chunk_steps)
    names = table_names(s)
    manifest = Manifest(
        leonet_version=__version__, scenario=s.name,
        start_ns=int(model.t_ns[0]), step_ns=s.step_ns, n_steps=len(model.t_ns),
        chunk_steps=s.chunk_steps, chunks_total=len(bounds), tables=names,
        n_satellites=len(model.constellation), n_sites=len(model.sites), completed=False,
        frames=model.constellation.frame.as_dict(),
        uniform_steps=s.uniform_steps,
        end_ns=int(model.t_ns[0]) + s.duration_ns if len(model.t_ns) else None,
    )
    resumed = store.prepare(scenario.to_yaml(), manifest, overwrite=overwrite,  # the one read of the scenario
                            inputs=inputs_digest(scenario))
    store.write_static("sites", model.sites.to_table())
    store.write_static("satellites", model.constellation.to_table())
    if not s.uniform_steps:
        store.write_static(STEPS_TABLE, steps_table(model.t_ns, scenario.time.durations_s(model.t_ns - model.t_ns[0])))
    write_contract(store, model)
    recomputed, tasks = [], []
    for chunk, (a, b) in enumerate(bounds):
        problems = [p for p in (store.chunk_problem(t, chunk) for t in names) if p]
        if not problems:
            continue
        tasks.append((chunk, a, b))
        if resumed:
            recomputed += [p for p in problems if "is missing" not in p or store.manifest.chunks.get(p.split("/")[0], {}).get(chunk)]
    if resumed and tasks and store.manifest.completed:
        store.write_manifest(store.manifest.model_copy(update={"completed": False}))
    return resumed, tasks, recomputed, bounds


def _run_stores(items: list[tuple[Scenario, SimulationModel, str | Path | None]], overwrite, progress, workers, dask,
                max_memory_bytes=None, t0: float | None = None) -> list[RunResult]:
    """Run each (scenario, model, folder); with more than one, the models differ only in their
    events and step through each chunk together (:func:`run_group`). ``t0``: when the run began
    (perf_counter; default now), for ``elapsed_s``."""
    from contextlib import ExitStack

    t0 = time.perf_counter() if t0 is None else t0
    stores = [ResultStore(out if out is not None else sc.output_dir()) for sc, _, out in items]
    with ExitStack() as stack:
        prepared = []
        for store, (sc, model, _) in zip(stores, items):
            stack.enter_context(store.lock())
            prepared.append(_prepare(store, sc, model, overwrite))
        total = sum(len(model.t_ns) for _, model, _ in items)
        done_steps = total - sum(b - a for _, tasks, _, _ in prepared for _, a, b in tasks)
        if progress is not None:
            progress(done_steps, total)
        computed = [0] * len(items)
        # Workers that share the folder write their chunks' files themselves; only records come back.
        direct = writes_in_workers(workers, dask)

        def kept(member: int, err: WriteError) -> LeonetError:
            return LeonetError(f"{err}; the {computed[member]} chunk(s) finished before it are kept - free space and run "
                               "the same command to resume")

        def write(member: int, chunk: int, parts: dict) -> None:
            try:
                if direct:
                    stores[member].record_chunk(chunk, parts)
                else:
                    stores[member].write_chunk_bytes(chunk, parts)
            except WriteError as err:
                raise kept(member, err) from None
            computed[member] += 1

        stream = None   # the task generator: closed (its workers ended) before an interrupt's cleanup
        try:
            if len(items) == 1:
                model, tasks = items[0][1], prepared[0][1]
                size = {chunk: b - a for chunk, a, b in tasks}
                root = str(stores[0].root) if direct else None
                stream = execute(model, tasks, workers=workers, dask=dask, root=root)
                for chunk, parts in stream:
                    write(0, chunk, parts)
                    done_steps += size[chunk]
                    if progress is not None:
                        progress(done_steps, total)
            else:
                shared_results = 0
                models = tuple(model for _, model, _ in items)
                group_tasks = _group_tasks(models, [p[1] for p in prepared], workers, dask, max_memory_bytes)
                fn = compute_group_bytes
                if direct:
                    fn, roots = compute_group_files, tuple(str(store.root) for store in stores)
                    group_tasks = [((chunk, part), (*args, roots, chunk)) for (chunk, part), args in group_tasks]
                stream = run_tasks(fn, models, group_tasks, workers, dask)
                for (chunk, _), (parts_by_member, hits) in stream:
                    shared_results += hits
                    for member, parts in parts_by_member.items():
                        write(member, chunk, parts)
                        a, b = prepared[member][3][chunk]
                        done_steps += b - a
                    if progress is not None:
                        progress(done_steps, total)
        except WriteError as err:  # a worker could not write a chunk's file (direct writes)
            named = [k for k, store in enumerate(stores) if str(store.root) in str(err)]  # the folder it names
            raise kept(max(named, key=lambda k: len(str(stores[k].root)), default=0), err) from None
        except KeyboardInterrupt:  # Ctrl-C, or a SIGTERM the command line raises as one
            if stream is not None:
                stream.close()   # ends the workers (pool._end_pool) before their files are looked at
            for store in stores:
                store.remove_unrecorded_chunks()
            raise
        for store in stores:
            store.write_manifest(store.manifest.model_copy(update={"completed": True}))
    release_free_memory()  # the summary and report that usually follow start from a lower base
    elapsed = time.perf_counter() - t0
    return [RunResult(store, model, elapsed, computed[k], len(p[3]), p[0], p[2])
            for k, (store, (_, model, _), p) in enumerate(zip(stores, items, prepared))]


def _group_tasks(models: tuple[SimulationModel, ...], tasks_of: list[list], workers: int, dask: str | None,
                 max_memory_bytes: int | None):
    """The tasks of a group run: per chunk that any member still needs, the members that need it,
    split into parts that fit in memory and, with several workers and few chunks, into one part
    per worker (each part computes the chunk's sky once). Keyed (chunk, part)."""
    from . import budget

    needs: dict[int, list[int]] = {}
    bounds: dict[int, tuple[int, int]] = {}
    for member, tasks in enumerate(tasks_of):
        for chunk, a, b in tasks:
            needs.setdefault(chunk, []).append(member)
            bounds[chunk] = (a, b)
    sc = models[0].scenario
    lanes = workers if (workers > 1 or dask) else 1
    size = budget.scenario_size(sc, len(models[0].constellation), len(models[0].sites), 1 if dask else workers,
                               stations=int((models[0].sites.kind == "station").sum()))
    fit = budget.members_per_task(size, len(models), max_memory_bytes)
    out = []
    for chunk in sorted(needs):
        members = needs[chunk]
        per = min(fit, -(-len(members) // lanes) if len(needs) < 2 * lanes else len(members))
        a, b = bounds[chunk]
        for part, k in enumerate(range(0, len(members), per)):
            out.append(((chunk, part), (a, b, tuple(members[k:k + per]))))
    return out


def steps_of(t_ns: np.ndarray, start_ns: int, step_ns: int) -> np.ndarray:
    """Step index of each instant."""
    return (np.asarray(t_ns, dtype=np.int64) - start_ns) // step_ns
