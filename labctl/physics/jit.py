"""Compiled laws: numba's ``njit`` as the device model uses it (on-disk cache, no fast-math).

A law that the simulator applies to up to 1e6 devices per step is written once, as a numba
function of one device's numbers, in its law module; :mod:`~labctl.physics.arrays` loops those
over device arrays in fused kernels, and the law's array function loops it too. ``cache=True``
keeps compiled code next to the module (``__pycache__``), so only the first process after a
change pays the compilation. No ``fastmath``: results are the IEEE results of the written
operations in the written order, on one thread or several.

:func:`kernel` compiles one loop twice: serially (small arrays: a parallel launch costs
microseconds, more than a 1-device step) and with ``parallel=True`` (``prange`` over the
devices; element-wise work and min/count reductions give the same numbers on any number of
threads). Callers pick by array size with :func:`pick`.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numba

# Arrays at least this long run the parallel twin of a kernel (below it the thread launch
# costs more than the work; measured by scripts/bench_chip.py).
PARALLEL_MIN_SIZE = 32768

# error_model="numpy": a float division by zero gives inf/nan as in numpy instead of raising
# (and costs no check per element).
_FLAGS = {"cache": True, "error_model": "numpy"}
# The one-device laws are inlined into the loops that call them (numba IR inlining): a call
# per element would keep the loops from vectorising and cost more than the arithmetic.
njit = numba.njit(**_FLAGS)


class Kernel:
    """A loop compiled serially and in parallel; call ``pick(n)`` for the one to run."""

    def __init__(self, fn: Callable[..., Any], **flags: Any) -> None:
        self.serial = numba.njit(**_FLAGS, **flags)(fn)
        twin = types.FunctionType(
            fn.__code__, fn.__globals__, fn.__name__ + "_parallel", fn.__defaults__, fn.__closure__
        )
        # a distinct qualname: numba's cache files are named by it
        twin.__qualname__ = fn.__qualname__ + "_parallel"
        twin.__module__ = fn.__module__
        twin.__doc__ = fn.__doc__
        self.parallel = numba.njit(parallel=True, **_FLAGS, **flags)(twin)
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def pick(self, n: int) -> Callable[..., Any]:
        """The compiled loop to run over ``n`` elements."""
        return self.parallel if n >= PARALLEL_MIN_SIZE else self.serial


def kernel(fn: Callable[..., Any] | None = None, **flags: Any) -> Any:
    """Decorator (bare or with numba flags such as ``fastmath``): ``fn``, a loop with
    ``numba.prange``, compiled serially and in parallel."""
    if fn is None:
        return lambda f: Kernel(f, **flags)
    return Kernel(fn)


def set_threads(n: int) -> None:
    """Threads of the parallel kernels (1 to the number of cores numba found)."""
    numba.set_num_threads(n)


def get_threads() -> int:
    """Threads the parallel kernels run on now."""
    return numba.get_num_threads()
