"""BLAS thread pools sized for the training's matrices.

Why one thread: the network's matrices are small (a batch of 100 × 64 inputs × 256 hidden
units); a product of that size takes microseconds, less than waking and joining a pool of BLAS
threads. With OpenBLAS's default (one thread per core) every training step pays that
synchronisation, and on a machine whose cores are busy with other work the threads spin and
wait for each other: ``labctl train`` ran 5-8× slower than with ``OPENBLAS_NUM_THREADS=1``
(issue 13). The limit is set inside labctl's training (:func:`~.train.train_sequence`), so
every entry point gets it: ``labctl train``, ``labctl study``, ``labctl run train``, the
scripts and the Python API, without any environment variable.

``LABCTL_BLAS_THREADS=N`` lets a user with big matrices (``--hidden 4096``) give BLAS ``N``
threads. The limit holds while the training runs and the previous setting is restored after.
A different thread count may split a product's sums differently (rarely, a last-bit change
of a float); the default of one thread is the same on every machine.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

ENV_VAR = "LABCTL_BLAS_THREADS"
DEFAULT_THREADS = 1
F = TypeVar("F", bound=Callable[..., Any])


def blas_threads() -> int:
    """The number of BLAS threads training uses: ``$LABCTL_BLAS_THREADS``, else 1."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_THREADS
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{ENV_VAR}={raw!r}: expected a positive integer (BLAS threads)")
    return n


@contextmanager
def sized_blas() -> Iterator[int]:
    """BLAS limited to :func:`blas_threads` threads inside the block; yields that number."""
    from threadpoolctl import threadpool_limits  # ships with scikit-learn; imported on use

    n = blas_threads()
    with threadpool_limits(limits=n, user_api="blas"):
        yield n


def with_sized_blas(function: F) -> F:
    """Run ``function`` inside :func:`sized_blas`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with sized_blas():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
