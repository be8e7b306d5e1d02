"""Shared test set-up.

- Every test starts from a fresh virtual lab: the lab is cached per process (like a bench that
  stays powered between scripts), so a magnet left on by one test would otherwise act on the
  next, and virtual clocks restart from the same epoch (seeded results do not depend on order).
  So the lab is not kept outside the process (``LABSIM_PERSIST=0``: no orphan of a killed test
  process is ever taken over), and runs are not supervised (``LABCTL_SUPERVISE=0``: no watchdog
  process per run); tests of those features turn them on for their subprocesses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sim_backend.open_labs import forget_labs

os.environ.setdefault("LABSIM_PERSIST", "0")
os.environ.setdefault("LABCTL_SUPERVISE", "0")


@pytest.fixture(autouse=True)
def _fresh_virtual_lab() -> Iterator[None]:
    forget_labs()
    yield
    forget_labs()
