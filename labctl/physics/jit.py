"""Compiled laws: how the device model's one-device laws also run compiled, over device arrays.

A law that the simulator applies to up to 1e6 devices per step is written once, as a plain
Python function of one device's numbers (``math`` functions on floats), marked :func:`law`.
Called from Python it is that Python function: a 1-device chip steps on it with no compiler
loaded (numba is imported only with :mod:`~labctl.physics.arrays`). The fused kernels of
:mod:`~labctl.physics.arrays` call the same functions, which :func:`register_laws` hands to
numba (``register_jitable``) so that they compile into the kernels' loops: one source, run
interpreted or compiled. ``math.exp`` and friends are the C library's on either side.

Kernels are compiled with ``cache=True`` into a cache directory named by a hash of the
physics sources: numba keys its cache on the kernel's own file only, so a change to a law in
another module would otherwise leave stale compiled kernels. No ``fastmath``: results are the
IEEE results of the written operations in the written order, on one thread or several.

:class:`Kernel` compiles one loop twice: serially (small arrays: a parallel launch costs
microseconds) and with ``parallel=True`` (``prange`` over the devices; element-wise work and
min/count reductions give the same numbers on any number of threads), the latter only when
more than one thread is set (:func:`set_threads`; one by default).
"""

from __future__ import annotations

import hashlib
import os
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Arrays at least this long run the parallel twin of a kernel when more than one thread is
# set (below it the thread launch costs more than the work).
PARALLEL_MIN_SIZE = 32768
# Threads of the parallel kernels. One by default: on the 2-core machines this runs on, shared
# with the rest of the process (the twins' servers, the station) or other jobs, a 1e6-device
# step measured 1.5-2.5x faster on one thread than on two (scripts/bench_chip.py prints both).
# LABCTL_KERNEL_THREADS=2 (or set_threads) uses more; the numbers are the same either way.
_threads = max(1, int(os.environ.get("LABCTL_KERNEL_THREADS", "1")))

_LAWS: list[Callable[..., Any]] = []
_registered = False
# error_model="numpy": a float division by zero gives inf/nan as in numpy instead of raising
# (and costs no check per element).
_FLAGS: dict[str, Any] = {"cache": True, "error_model": "numpy"}


def law(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a one-device law: plain Python, compiled into the array kernels as well."""
    _LAWS.append(fn)
    return fn


def _cache_dir() -> str:
    """A numba cache directory keyed by the physics package's sources (see the module doc)."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "labctl-numba",
    )
    return os.path.join(base, digest.hexdigest()[:16])


def register_laws() -> None:
    """Hand every :func:`law` to numba (once), and point numba's cache at :func:`_cache_dir`."""
    global _registered
    if _registered:
        return
    import numba
    from numba.extending import register_jitable

    numba.config.CACHE_DIR = _cache_dir()
    for fn in _LAWS:
        register_jitable(error_model="numpy")(fn)
    _registered = True


def njit(fn: Callable[..., Any]) -> Any:
    """``numba.njit`` with the flags above (the laws registered first)."""
    register_laws()
    import numba

    return numba.njit(**_FLAGS)(fn)


class Kernel:
    """A loop compiled serially and in parallel; call ``pick(n)`` for the one to run."""

    def __init__(self, fn: Callable[..., Any], **flags: Any) -> None:
        register_laws()
        import numba

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
        """The compiled loop to run over ``n`` elements (the parallel one is compiled only
        when first picked)."""
        if _threads > 1 and n >= PARALLEL_MIN_SIZE:
            return self.parallel
        return self.serial


def kernel(fn: Callable[..., Any] | None = None, **flags: Any) -> Any:
    """Decorator (bare or with numba flags): ``fn``, a loop with ``numba.prange``, compiled
    serially and in parallel."""
    if fn is None:
        return lambda f: Kernel(f, **flags)
    return Kernel(fn)


def set_threads(n: int) -> None:
    """Threads of the kernels (1: serial; up to the number of cores numba found)."""
    global _threads
    import numba

    _threads = max(1, int(n))
    if _threads > 1:
        numba.set_num_threads(min(_threads, numba.config.NUMBA_NUM_THREADS))


def get_threads() -> int:
    """Threads the kernels run on now."""
    if _threads == 1:
        return 1
    import numba

    return numba.get_num_threads()


def max_threads() -> int:
    """Threads available to the parallel kernels (numba's count of cores)."""
    import numba

    return numba.config.NUMBA_NUM_THREADS
