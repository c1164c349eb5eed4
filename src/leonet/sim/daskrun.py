"""Work on a Dask cluster: ``--dask local`` (a LocalCluster on this machine) or a scheduler's address
(:func:`run_dask_tasks`), and the check of that address before any work (:func:`check_dask_address`)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator

from ..errors import InputError
from .pool import KeyedTask

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
