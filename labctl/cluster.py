"""Independent jobs on Dask distributed: a cluster on this machine by default, or one that runs.

:func:`open_client` gives a ``distributed.Client``: without a scheduler address (argument or
``$LABCTL_SCHEDULER``) a ``LocalCluster`` sized to the machine (one single-threaded worker
process per core this process may use: the jobs are CPU-bound Python, and a study pins BLAS to
one thread per job), its scheduler (and the HTTP port it keeps for health checks) bound to
loopback and its dashboard off; with an address (``tcp://HOST:PORT``) the cluster already
running there. Any other bind address for a local
scheduler is the caller's explicit choice, and a warning says so.

:func:`map_jobs` submits every job, gives each result to ``on_result`` in the calling process
as it arrives (so the caller is the only one that writes the database: workers never do), and
moves a progress bar over the jobs. A job's result does not depend on where or when it ran: it
carries its own seed, so the numbers are the same with one worker or many, in any order.

``distributed`` is imported by the functions, never at module level (every ``labctl`` start
would pay for it).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from labctl.errors import LabctlError
from labctl.progress import ProgressBar

log = logging.getLogger("labctl")
T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_ENV = "LABCTL_SCHEDULER"
LOOPBACK = "127.0.0.1"
CONNECT_TIMEOUT_S = 20.0


def machine_workers() -> int:
    """The cores this process may use (its CPU affinity where the system says, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def scheduler_address(given: str | None = None) -> str | None:
    """The scheduler to use: ``given``, else ``$LABCTL_SCHEDULER``, else None (a local one)."""
    address = given or os.environ.get(SCHEDULER_ENV, "").strip() or None
    if address is not None and "://" not in address:
        raise LabctlError(
            f"scheduler {address!r}: expected an address like tcp://127.0.0.1:8786"
            + (f" (from ${SCHEDULER_ENV})" if not given else "")
        )
    return address


@contextmanager
def open_client(
    scheduler: str | None = None,
    n_workers: int | None = None,
    host: str = LOOPBACK,
    dashboard_address: str | None = None,
) -> Iterator[Any]:
    """A Dask client: on ``scheduler`` (or ``$LABCTL_SCHEDULER``) if given, else on a new
    ``LocalCluster`` of ``n_workers`` single-threaded processes (default: one per core) whose
    scheduler listens on ``host`` (loopback unless asked) and whose dashboard is off unless
    ``dashboard_address`` names one. The local cluster is closed on the way out."""
    import dask
    from distributed import Client

    address = scheduler_address(scheduler)
    if address is not None:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise LabctlError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    if host not in (LOOPBACK, "localhost", "::1"):
        log.warning("the Dask scheduler listens on %s: reachable from other machines", host)
    if dashboard_address is not None and not dashboard_address.startswith(
        (LOOPBACK, "localhost", "[::1]")
    ):
        log.warning("the Dask dashboard listens on %s: reachable from other machines",
                    dashboard_address)  # fmt: skip
    for name in ("distributed", "tornado", "bokeh"):  # their INFO lines are not the study's
        logging.getLogger(name).setLevel(logging.ERROR)
    # distributed's nanny writes its workers' variables into this process's own environment
    # before it spawns them and leaves them there (OPENBLAS_NUM_THREADS=1, PYTHONHASHSEED,
    # MALLOC_TRIM_THRESHOLD_ ...): every later child of a notebook or a test would inherit
    # them, so the environment is put back once the workers are up. The workers keep freed
    # heap as training wants it (protocols.learning.heap yields to a MALLOC_ variable).
    environment = dict(os.environ)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        try:
            cluster = _local_cluster(n_workers, host, dashboard_address)
        finally:
            os.environ.clear()
            os.environ.update(environment)
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _local_cluster(n_workers: int | None, host: str, dashboard_address: str | None) -> Any:
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers or machine_workers(),
        threads_per_worker=1,
        processes=True,
        host=host,
        # without a dashboard the scheduler still serves its health and metrics routes over
        # HTTP: on loopback, on a free port (distributed's ":8787" would be every interface)
        dashboard_address=dashboard_address or f"{host}:0",
        scheduler_kwargs={"dashboard": dashboard_address is not None},
        silence_logs=logging.ERROR,
    )


def map_jobs(
    client: Any,
    job: Callable[[T], R],
    items: Sequence[T],
    on_result: Callable[[int, R], None],
    label: str = "jobs",
    progress: bool | None = None,
    at_once: int | None = None,
) -> None:
    """``job(item)`` for every item on ``client``'s workers; ``on_result(index, result)`` runs
    here, in the order they finish. ``at_once`` limits how many run at the same time (1: one
    after the other, e.g. jobs that share one bench); default: as many as the workers take.
    ``progress`` (default: stderr is a terminal) shows a bar over the jobs. A job that raises
    cancels the rest and raises here."""
    from distributed import as_completed

    if not items:
        return
    show = sys.stderr.isatty() if progress is None else progress
    bar = ProgressBar(label) if show else None
    pending = list(enumerate(items))[::-1]
    index: dict[Any, int] = {}
    futures: list[Any] = []

    def submit() -> Any:
        i, item = pending.pop()
        future = client.submit(job, item, pure=False)
        index[future.key] = i
        futures.append(future)
        return future

    first = len(pending) if at_once is None else min(at_once, len(pending))
    running = as_completed([submit() for _ in range(first)])
    done = 0
    try:
        for future in running:
            result = future.result()
            on_result(index[future.key], result)
            done += 1
            if pending:
                running.add(submit())
            if bar is not None:
                bar.update(done, len(items), f"{done}/{len(items)}")
    finally:
        client.cancel([f for f in futures if not f.done()])
        if bar is not None:
            bar.close()
