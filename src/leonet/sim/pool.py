"""Work on local worker processes: a spawned pool whose workers load what every task shares once,
stop with their main process, refuse to re-run a script without its ``__main__`` guard, and end a
run with one clear message when one of them dies (:func:`run_pool`)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any, Callable, Hashable, Iterator

from ..errors import LeonetError

#: A task: (key it is reported under, arguments after ``shared``).
KeyedTask = tuple[Hashable, tuple]

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
