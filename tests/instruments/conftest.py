"""Shared fixtures of the instrument-layer tests: a fake clock that records every sleep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labctl.clock import VirtualClock, use_clock
from sim_backend import faults
from sim_backend.open_labs import forget_labs


class FakeClock:
    """A virtual :class:`~instruments.roles.Timebase`: ``sleep`` advances time instantly."""

    def __init__(self, start_s: float = 1000.0) -> None:
        self.t_s = start_s
        self.sleeps_s: list[float] = []

    def now(self) -> float:
        return self.t_s

    def sleep(self, seconds: float) -> None:
        self.sleeps_s.append(seconds)
        self.t_s += max(0.0, seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def pytest_configure(config: pytest.Config) -> None:
    # pymeasure's SCPIUnknownMixin (2600, GS200) warns on every construction.
    config.addinivalue_line(
        "filterwarnings", "ignore:It is not known whether this device:FutureWarning"
    )


@pytest.fixture
def vclock() -> Iterator[VirtualClock]:
    """A virtual station clock on a fresh lab with no faults armed."""
    forget_labs()
    faults.clear()
    clock = VirtualClock()
    with use_clock(clock):
        yield clock
    faults.clear()
    forget_labs()
