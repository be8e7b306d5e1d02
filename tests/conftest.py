"""Shared test set-up.

- Every test starts from a fresh virtual lab: the lab is cached per process (like a bench that
  stays powered between scripts), so a magnet left on by one test would otherwise act on the
  next, and virtual clocks restart from the same epoch (seeded results do not depend on order).
- The process ends with ``os._exit`` once pytest has reported: a C extension among the
  dependencies (Qt bindings or another) over-releases ``None``, and after a full suite Python
  3.11's final garbage collection aborts with ``Fatal Python error: none_dealloc`` — after every
  result was printed, but with exit code 134. Skipping interpreter finalisation keeps pytest's own
  exit status.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from sim_backend.lab import forget_labs


@pytest.fixture(autouse=True)
def _fresh_virtual_lab() -> Iterator[None]:
    forget_labs()
    yield
    forget_labs()


_EXIT_STATUS = pytest.StashKey[int]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    status = config.stash.get(_EXIT_STATUS, None)
    if status is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
