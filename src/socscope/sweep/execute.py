"""Running many independent tasks: in this process, or on Dask distributed.

:func:`map_points` is the one entry every many-run computation uses (sweeps,
batches of movies, sensitivity tables, fit multi-starts): ``func`` is applied
to every point, serially or as Dask tasks, and the results come back in the
points' order. A worker that dies takes its running task with it; the
scheduler runs that task again elsewhere (Dask's ``allowed-failures``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import ParameterError

__all__ = ["SERIAL", "dask_client", "map_points"]

#: the scheduler value that runs every point in this process, one after the other
SERIAL = "serial"

# numba, OpenMP and BLAS each start a thread pool per process; one thread per
# worker process keeps a worker's task on its own core (and results bit-identical)
_ONE_THREAD = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}


def _require_distributed():
    from .._optional import require

    return require("distributed", "running on Dask distributed", extra="sweep")


def _check_scheduler(scheduler) -> None:
    if scheduler is None or scheduler in (SERIAL, "local"):
        return
    if isinstance(scheduler, str):
        if "://" not in scheduler and ":" not in scheduler:
            raise ParameterError(f"scheduler = {scheduler!r} is not a scheduler address; give e.g. "
                                 "'tcp://scheduler:8786', 'local' (a cluster on this machine) or 'serial'")
        return
    if not hasattr(scheduler, "submit"):
        raise ParameterError(f"scheduler = {scheduler!r} must be an address, 'local', 'serial' or a "
                             "distributed.Client")


@contextlib.contextmanager
def dask_client(scheduler="local", *, n_workers: int | None = None):
    """A ``distributed.Client`` for ``scheduler``, closed on exit when it was opened here.

    Parameters
    ----------
    scheduler : "local", str or distributed.Client
        ``"local"`` starts a ``LocalCluster`` of ``n_workers`` processes with
        one thread each (numba, OpenMP and BLAS pinned to one thread); an
        address such as ``"tcp://scheduler:8786"`` joins a running cluster;
        a Client is used as it is (and left open).
    n_workers : int, optional
        Worker processes of a local cluster (default: the CPU count).

    Yields
    ------
    distributed.Client
    """
    _check_scheduler(scheduler)
    distributed = _require_distributed()
    if hasattr(scheduler, "submit"):
        yield scheduler
        return
    if scheduler == "local":
        n = n_workers or os.cpu_count() or 1
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ParameterError(f"n_workers = {n_workers!r} must be a whole number >= 1, e.g. 4")
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=None, env=dict(_ONE_THREAD))
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(scheduler, timeout="30s")
    except OSError as exc:
        raise ParameterError(f"cannot reach the scheduler {scheduler!r} ({exc}); check the address "
                             "(e.g. tcp://scheduler:8786) and that the scheduler runs") from None
    with client:
        client.run(_pin_threads)
        yield client


def _pin_threads() -> None:
    """One numba thread in this process (on a cluster whose workers were started elsewhere)."""
    with contextlib.suppress(Exception):
        import numba

        numba.set_num_threads(1)


def map_points(func: Callable[[Any], Any], points: Iterable, *, scheduler=None, n_workers: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> list:
    """Apply ``func`` to every point and return the results in the points' order.

    Parameters
    ----------
    func : callable
        ``func(point) -> result``; on a cluster it and the points must pickle
        (a module-level function, plain data). Keep results small: a result
        too large to send back should be written by ``func`` itself.
    points : iterable
        The inputs, e.g. dicts of settings.
    scheduler : None, "serial", "local", str or distributed.Client
        ``None`` or ``"serial"``: in this process, one after the other.
        ``"local"``: a ``LocalCluster`` on this machine. An address
        (``"tcp://scheduler:8786"``) or a Client: that cluster.
    n_workers : int, optional
        Worker processes of a local cluster (default: the CPU count).
    progress : callable, optional
        ``progress(done, total)`` after each finished point.

    Returns
    -------
    list
        ``func(point)`` for every point, in order. An exception raised by
        ``func`` is raised here (catch it inside ``func`` to record failures
        per point instead).

    Examples
    --------
    >>> map_points(abs, [-1, 2, -3])
    [1, 2, 3]
    """
    _check_scheduler(scheduler)
    pts: Sequence = list(points)
    total = len(pts)
    if progress is not None and not callable(progress):
        raise ParameterError(f"progress = {progress!r} must be a callable progress(done, total) or None")
    if scheduler is None or scheduler == SERIAL:
        out = []
        for k, p in enumerate(pts, 1):
            out.append(func(p))
            if progress is not None:
                progress(k, total)
        return out
    distributed = _require_distributed()
    with dask_client(scheduler, n_workers=n_workers) as client:
        futures = client.map(func, pts, pure=False)
        order = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * total
        done = 0
        try:
            for fut in distributed.as_completed(futures):
                results[order[fut.key]] = fut.result()
                done += 1
                if progress is not None:
                    progress(done, total)
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:  # interrupted: stop the work still queued
                client.cancel(pending)
        return results
