"""Shared test set-up.

- Every test starts from a fresh virtual lab: the lab is cached per process (like a bench that
  stays powered between scripts), so a magnet left on by one test would otherwise act on the
  next, and virtual clocks restart from the same epoch (seeded results do not depend on order).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sim_backend.lab import forget_labs


@pytest.fixture(autouse=True)
def _fresh_virtual_lab() -> Iterator[None]:
    forget_labs()
    yield
    forget_labs()
