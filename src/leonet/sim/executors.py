"""Where work is computed: in this process, on local worker processes, or on a Dask cluster.

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
from contextlib import contextmanager
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any, Callable, Hashable, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError, LeonetError
from .model import SimulationModel
from .step import compute_chunk, compute_chunks

Task = tuple[int, int, int]  # (chunk number, first step, stop step)
#: A generic task: (key it is reported under, arguments after ``shared``).
KeyedTask = tuple[Hashable, tuple]


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


# -- local processes ------------------------------------------------------------------------------

_WORKER_SHARED: Any = None

#: Exit code of a worker process that refused to run the calling script's pool again
#: (:func:`_refuse_inside_worker_start`): the main process reads it to say what is wrong.
REFUSED_EXIT_CODE = 87
#: Exit code of a worker process that found its main process gone (:func:`_exit_with_parent`).
ORPHAN_EXIT_CODE = 88
#: Seconds between a worker's checks that its main process is still there.
PARENT_CHECK_S = 1.0

#: What the main process says when its workers refused to start (the script lacks its guard).
GUARD_MESSAGE = (
    "a worker process died while starting: the script that calls leonet with workers>1 runs again in "
    "each worker process, and it has no `if __name__ == \"__main__\":` guard. Put the script's code under "
    "`if __name__ == \"__main__\":` (see the README's Python API), or use workers=1"
)


#: The signals that stop a run cleanly (finished chunks kept): Ctrl-C, and SIGTERM from a
#: scheduler, ``docker stop`` or ``timeout`` (the command line raises it as Ctrl-C: leonet.cli.main).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _init_worker(shared_path: str, parent_pid: int | None = None) -> None:
    """Load what every task of a worker shares from the file the main process wrote.

    It travels through a file, not through the pipe that starts the worker: a worker that fails
    while starting (e.g. a script without a ``__main__`` guard) would leave the main process
    blocked forever writing a large model into that pipe.

    A worker ignores Ctrl-C (the terminal sends SIGINT to the whole process group): only the main
    process handles it, and ends its workers (:func:`_end_pool`). A worker interrupted half-way
    through reading a task or sending a result would leave the pool's pipes out of step, and the
    main process waiting on them for ever. A worker whose main process is gone (killed) exits.
    """
    global _WORKER_SHARED
    import pickle

    # SIGTERM too: `timeout` and schedulers signal the whole process group, and the command line
    # stops on SIGTERM as on Ctrl-C (leonet.cli.main), ending its workers itself
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked while it started (:func:`_sigint_deferred`)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))
    if parent_pid is not None:
        threading.Thread(target=_exit_with_parent, args=(parent_pid,), name="leonet-parent-watch",
                         daemon=True).start()
    # One core per worker: BLAS threads would fight over the cores the pool already uses.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    with open(shared_path, "rb") as f:
        _WORKER_SHARED = pickle.load(f)


def _exit_with_parent(parent_pid: int) -> None:
    """End this worker once its main process ``parent_pid`` is gone (killed before it could end
    its workers), instead of waiting for tasks for ever as an orphan."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(ORPHAN_EXIT_CODE)


def _worker_task(fn: Callable, args: tuple) -> Any:
    return fn(_WORKER_SHARED, *args)


def _refuse_inside_worker_start() -> None:
    """Refuse to start a pool from a process that is itself starting as a worker.

    With the ``spawn`` start method each worker imports the main script again; a script that
    calls ``leonet.run(..., workers=2)`` at its top level, without ``if __name__ == "__main__":``,
    would start pools from its workers. Such a worker says so and exits with
    :data:`REFUSED_EXIT_CODE`, which the main process reads to give the same advice
    (:data:`GUARD_MESSAGE`) instead of failing inside multiprocessing.
    """
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        print("leonet: leonet.run(..., workers>1) was called while a worker process was starting: the "
              "script that calls it runs again in each worker. Put the script's code under "
              "`if __name__ == \"__main__\":` (see the README's Python API), or use workers=1",
              file=sys.stderr, flush=True)
        raise SystemExit(REFUSED_EXIT_CODE)


#: Seconds to wait for the exit code of a worker process known to have exited.
EXIT_CODE_WAIT_S = 2.0


def _exit_code(proc) -> int | None:
    """The exit code of worker process ``proc``, None while it runs. One that has exited (its
    sentinel is ready) may not have been reaped yet, or be reaped by the pool's manager thread
    meanwhile (then this thread's wait for it fails until that thread records its code): wait
    for its code, a moment at most."""
    from multiprocessing.connection import wait as ready

    code = proc.exitcode
    if code is not None:
        return code
    try:
        if not ready([proc.sentinel], timeout=0):
            return None
    except (OSError, ValueError):  # closed meanwhile
        return proc.exitcode
    deadline = time.monotonic() + EXIT_CODE_WAIT_S
    while (code := proc.exitcode) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return code


def _dead_workers(pool: ProcessPoolExecutor) -> list[str]:
    """Worker processes of ``pool`` that have exited (described by pid and exit code)."""
    procs = getattr(pool, "_processes", None) or {}
    codes = [(p.pid, _exit_code(p)) for p in list(procs.values())]
    return [f"pid {pid} (exit code {code})" for pid, code in codes if code is not None]


def _refused(pool: ProcessPoolExecutor) -> bool:
    """Whether a worker of ``pool`` exited because the calling script has no ``__main__`` guard."""
    procs = getattr(pool, "_processes", None) or {}
    return any(_exit_code(p) == REFUSED_EXIT_CODE for p in list(procs.values()))


def _broken_error(pool: ProcessPoolExecutor, died: str, dead: list[str] | None = None) -> LeonetError:
    """The error for a pool whose worker died: :data:`GUARD_MESSAGE` where the workers refused to
    start, else ``died`` naming the dead workers."""
    if _refused(pool):
        return LeonetError(GUARD_MESSAGE)
    return LeonetError(died.format(who=", ".join(dead if dead is not None else _dead_workers(pool)) or "unknown"))


@contextmanager
def _sigint_deferred():
    """A Ctrl-C (or a SIGTERM, which the command line takes as one) meanwhile is raised as it ends,
    and both are blocked in this thread: what this wraps (:meth:`ProcessPoolExecutor.submit`, which
    starts workers) is not cut between starting a worker and listing it, so the worker is not left
    behind; and a worker started meanwhile inherits the block, so a signal cannot kill it half-way
    through its imports (it ignores them once it runs: :func:`_init_worker`)."""
    caught = []
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for stop in STOP_SIGNALS:
            handler = signal.getsignal(stop)
            if callable(handler):  # ignored, default or not Python's: left as it is
                handlers[stop] = handler
                signal.signal(stop, lambda signum, frame: caught.append((signum, frame)))
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS)) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        for stop, handler in handlers.items():
            signal.signal(stop, handler)
        if caught:
            signum, frame = caught[0]
            handlers[signum](signum, frame)


#: Seconds between checks that every worker process is still alive.
WORKER_CHECK_S = 1.0


def run_pool(fn: Callable, shared: Any, tasks: list[KeyedTask], workers: int,
             what: str = "chunks", ordered: bool = False,
             after_death: str | None = None) -> Iterator[tuple[Hashable, Any]]:
    """``fn(shared, *args)`` of each task on ``workers`` local processes (spawned), at most 2 per
    worker in flight (bounded memory), yielded as ``(key, result)`` as they finish, or with
    ``ordered`` in the order of ``tasks`` (a result that finishes early waits, and counts as in
    flight until it is yielded). ``fn`` must be importable by name (a module-level function);
    ``shared`` is pickled once for all workers.

    A worker that dies (killed, out of memory, or failing to start) ends the work with a
    :class:`LeonetError` within about :data:`WORKER_CHECK_S` seconds; its message ends with
    ``after_death``, by default that finished ``what`` (chunks, variants) are kept. Workers that
    refuse to start (a calling script without a ``__main__`` guard) end it with
    :data:`GUARD_MESSAGE`. Work that ends early (Ctrl-C, an error, the caller stopping) ends the
    workers at once: Ctrl-C reaches only this process (:func:`_init_worker`).
    """
    _refuse_inside_worker_start()
    if after_death is None:
        after_death = f"finished {what} are kept - run the same command again to resume"
    died = "a worker process died (killed, out of memory, or failing to start: {who}); " + after_death.replace("{", "{{").replace("}", "}}")
    import pickle
    import tempfile

    fd, shared_path = tempfile.mkstemp(prefix="leonet-shared-", suffix=".pickle")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(shared, f, protocol=pickle.HIGHEST_PROTOCOL)
        yield from _run_pool(fn, shared_path, tasks, workers, died, ordered)
    finally:
        os.unlink(shared_path)


def _run_pool(fn: Callable, shared_path: str, tasks: list[KeyedTask], workers: int,
              died: str, ordered: bool = False) -> Iterator[tuple[Hashable, Any]]:
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_init_worker, initargs=(shared_path, os.getpid()))
    pending = {}  # future -> (task number, key)
    held: dict[int, tuple[Hashable, Any]] = {}  # with ordered: finished, waiting for an earlier task
    queue = list(tasks)
    submitted = next_out = 0
    finished = False
    try:
        while queue or pending:
            while queue and len(pending) + len(held) < 2 * workers:
                key, args = queue.pop(0)
                try:
                    with _sigint_deferred():  # submit starts the workers
                        pending[pool.submit(_worker_task, fn, args)] = (submitted, key)
                except BrokenProcessPool:  # a worker died since the last check
                    raise _broken_error(pool, died) from None
                submitted += 1
            done, _ = wait(pending, timeout=WORKER_CHECK_S, return_when=FIRST_COMPLETED)
            if not done:
                dead = _dead_workers(pool)
                if dead:
                    raise _broken_error(pool, died, dead)
                continue
            for fut in done:
                number, key = pending.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    raise _broken_error(pool, died) from None
                if not ordered:
                    yield key, result
                    continue
                held[number] = (key, result)
                while next_out in held:
                    yield held.pop(next_out)
                    next_out += 1
        finished = True
    finally:
        if finished and not _dead_workers(pool):
            pool.shutdown(wait=True)
        else:  # interrupted (Ctrl-C), failed, stopped early, or a worker died: end the workers now
            _end_pool(pool)


#: Seconds a terminated worker is given to exit before it is killed.
WORKER_END_S = 5.0


def _end_pool(pool: ProcessPoolExecutor) -> None:
    """End a pool at once, so that this process can exit within seconds: its work was interrupted
    (Ctrl-C), failed or stopped early, or one of its workers died.

    The workers are ended (terminated, then killed after :data:`WORKER_END_S` seconds); what
    they were computing is lost, what they finished is kept (a rerun resumes). A worker killed while
    it was sending a result leaves the pool's manager thread blocked reading the rest of that
    message from the result pipe, and the interpreter joins that thread at exit: the process would
    hang forever. Once every worker has exited, closing this process's copy of the pipe's writing
    end lets that read see end-of-file: the thread marks the pool broken and ends. The pending
    futures are left to that thread (it fails them; one cancelled here would make it raise), and it
    is joined here: ending while the interpreter exits, it races with the exit's own wake-up call.
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())
    result_queue = getattr(pool, "_result_queue", None)
    manager = getattr(pool, "_executor_manager_thread", None)
    for proc in procs:
        if proc.exitcode is None:
            proc.terminate()
    deadline = time.monotonic() + WORKER_END_S
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
    for proc in procs:
        if _exit_code(proc) is None:
            proc.kill()
            proc.join(WORKER_END_S)
    if result_queue is not None:
        result_queue._writer.close()
    pool.shutdown(wait=False)
    if manager is not None:  # ended here, not while the interpreter exits (that races with it)
        manager.join(WORKER_END_S)


# -- Dask -----------------------------------------------------------------------------------------

#: Dask settings for ``--dask local``: diagnostics and housekeeping that cost CPU and serve no one in
#: a batch run on the cores it shares. No sampling profiler (every 10 ms in each worker) and no GIL
#: monitor; the event loops' tick check every 1 s instead of 20 ms, the memory and system monitors
#: every 1 s / 5 s instead of 100 / 500 ms (the nannies still restart a worker past its memory
#: limit, up to a second later); no work stealing (two workers that pull from the scheduler's
#: queue leave nothing to steal).
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.scheduler.work-stealing": False,
    # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, so glibc hands every freed block
    # over 64 KiB back to the kernel and maps it again on the next step: with a step's large
    # numpy arrays that cost the P2 workers ~16 s of system time over 300 steps (their user time
    # equal to local workers'). Leave glibc's adaptive default, as the local workers have it.
    "distributed.nanny.pre-spawn-environ": {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1},
}


def check_dask_address(address: str | None, connect_timeout_s: float = 10.0) -> None:
    """Check ``--dask`` before any work (before a results folder is prepared): Dask installed, and
    ``address`` either ``local`` or a scheduler address of a scheme Dask knows whose host answers
    (tcp, tls, ws, wss: a connection is opened and closed). An InputError naming ``--dask`` else."""
    if not address:
        return
    try:
        from distributed.comm.addressing import parse_address, parse_host_port
        from distributed.comm.registry import get_backend
    except ImportError:
        raise InputError("Dask is not installed; install it with: pip install 'leonet[dask]'", location="--dask") from None
    if address == "local":
        return
    try:
        scheme, loc = parse_address(address)
        get_backend(scheme)
    except ValueError as err:
        raise InputError(f"{address!r} is not a Dask scheduler address ({err}); give tcp://host:port or 'local'",
                         location="--dask") from None
    if scheme not in ("tcp", "tls", "ws", "wss"):
        return  # inproc, ucx: Dask's own connection says what is wrong
    try:
        host, port = parse_host_port(loc, 8786)
    except ValueError as err:
        raise InputError(f"{address!r} is not a Dask scheduler address ({err}); give tcp://host:port or 'local'",
                         location="--dask") from None
    import socket

    try:
        socket.create_connection((host, port), timeout=connect_timeout_s).close()
    except (OSError, ValueError, OverflowError) as err:
        raise InputError(f"no Dask scheduler answered at {address} within {connect_timeout_s:g} s ({err})",
                         location="--dask") from None


@contextmanager
def dask_client(address: str, workers: int, connect_timeout_s: float = 10.0):
    """A Dask client: ``address`` is ``tcp://host:port`` or ``local`` (a LocalCluster of
    ``workers`` processes with one thread each, started here and closed on exit). Yields
    ``(client, as_completed)``; a missing Dask or a silent scheduler is an InputError."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("Dask is not installed; install it with: pip install 'leonet[dask]'", location="--dask") from None
    cluster = None
    if address == "local":
        import dask.config

        # A local cluster shares this machine's cores with the run: no sampling profiler (every
        # 10 ms in each worker by default) and no GIL monitor, which only cost CPU here. The
        # nannies hand this configuration to the worker processes they start.
        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
    try:
        client = Client(cluster if cluster is not None else address, timeout=f"{connect_timeout_s}s")
    except (OSError, TimeoutError) as err:
        if cluster is not None:
            cluster.close()
        raise InputError(f"no Dask scheduler answered at {address} within {connect_timeout_s:g} s ({err})",
                         location="--dask") from None
    try:
        yield client, as_completed
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_dask_tasks(fn: Callable, shared: Any, tasks: list[KeyedTask], address: str, workers: int,
                   connect_timeout_s: float = 10.0) -> Iterator[tuple[Hashable, Any]]:
    """``fn(shared, *args)`` of each task on a Dask cluster (see :func:`dask_client`); ``shared``
    is scattered to every worker once."""
    with dask_client(address, workers, connect_timeout_s) as (client, as_completed):
        remote = client.scatter(shared, broadcast=True) if shared is not None else None
        futures = {client.submit(fn, remote, *args, pure=False): key for key, args in tasks}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()


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
    """Chunks on a Dask cluster (see :func:`dask_client`), as Parquet bytes."""
    return run_dask_tasks(compute_chunk_bytes, model, _chunk_tasks(tasks), address, workers, connect_timeout_s)


def execute(model: SimulationModel, tasks: list[Task], workers: int = 1, dask: str | None = None,
            root: str | None = None) -> Iterable[tuple[int, dict]]:
    """Chunks of one model: Dask if ``dask`` is given, else local processes if ``workers > 1``.
    Yields ``(chunk, table -> Parquet bytes)``; with ``root`` (a results folder the workers share:
    :func:`writes_in_workers`) the workers write the files there and it yields
    ``(chunk, table -> ChunkRecord)``."""
    fn = compute_chunk_bytes if root is None else compute_chunk_files
    return run_tasks(fn, model, _chunk_tasks(tasks, root), workers, dask)
