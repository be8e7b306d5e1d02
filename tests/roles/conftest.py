"""Fixtures of the role contract suites: one opened implementation per module and parameter.

Opening a station costs pyvisa sessions and twin start-up, so each implementation is opened
once per suite (module scope) and every test of the suite runs on it; tests leave it in its
safe state. The lab is fresh at the start and the end of each suite, not between its tests
(the repository-wide per-test reset is replaced here for that reason).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labctl.clock import VirtualClock, use_clock
from sim_backend import faults
from sim_backend.open_labs import forget_labs


@pytest.fixture(autouse=True)
def _fresh_virtual_lab() -> Iterator[None]:
    """Overrides the per-test lab reset of tests/conftest.py: ``suite_clock`` resets per suite."""
    yield


@pytest.fixture(scope="module")
def suite_clock() -> Iterator[VirtualClock]:
    forget_labs()
    faults.clear()
    clock = VirtualClock()
    with use_clock(clock):
        yield clock
    faults.clear()
    forget_labs()


def pytest_configure(config: pytest.Config) -> None:
    # pymeasure's SCPIUnknownMixin (2600, GS200) warns on every construction.
    config.addinivalue_line(
        "filterwarnings", "ignore:It is not known whether this device:FutureWarning"
    )
