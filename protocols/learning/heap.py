"""glibc's heap kept for the training's temporaries: a fresh process trains as fast as a warm one.

Why: every training step allocates and frees arrays of a few hundred kB (activations, gradients,
the rules' temporaries, the virtual chip's draws). With glibc's defaults, a block above the mmap
threshold (128 kB at start) is mapped and unmapped on every allocation, and freed memory at the
top of the heap is handed back to the system as soon as it exceeds the trim threshold; each
handed-back page is a page fault (zeroed by the kernel) the next time it is used. A fresh
process, such as ``labctl train`` as a user runs it, took 75,000 minor page faults in a 5-epoch
``permuted-digits`` run, +15-20 % CPU time over the same run repeated in a warm process (issue 13:
``labctl train`` as installed ran 1.11-1.18× the in-process run of ``scripts/bench_train.py``;
the software reference paid it on every run). With a fixed mmap threshold of 32 MB and a trim
threshold of 64 MB the heap keeps its pages: under 1,000 faults, and the first run costs what
the next ones do.

:func:`keep_heap` sets both once per process (glibc's ``mallopt``; there is no getter, so the
setting is not restored: the process keeps up to 64 MB of freed heap for reuse instead of
returning it). :func:`~.train.train_sequence` calls it, so every entry point gets it. Elsewhere
than glibc (macOS, Windows, musl) it does nothing; ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` in the environment (glibc's own variables) take precedence. Results do
not depend on it: only where memory comes from changes.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's ceiling for its own adaptive threshold
TRIM_THRESHOLD_BYTES = 64 << 20
GLIBC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")

_kept: bool | None = None  # once per process: None = not tried yet


def keep_heap() -> bool:
    """Keep freed heap memory for reuse (see the module docstring); True if glibc took it."""
    global _kept
    if _kept is None:
        _kept = _set_thresholds()
    return _kept


def _set_thresholds() -> bool:
    if not sys.platform.startswith("linux") or any(v in os.environ for v in GLIBC_VARIABLES):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl has a mallopt that ignores)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
