"""The station clock shared by the engine and the simulated lab.

On a real bench the clock is the wall clock. On the simulated bench the engine installs a
:class:`VirtualClock`: ``sleep`` advances virtual time without waiting, and the virtual chip
integrates its physics over the elapsed virtual time exactly. ``sim_backend`` reads the current
clock through :func:`get_clock`, so a plain pyvisa script (no engine) runs on wall-clock time.

This module must stay import-light: ``sim_backend`` may import it and nothing else of labctl.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Anything that tells time in seconds and can wait."""

    def now(self) -> float:
        """Seconds on a monotonic time axis."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of station time."""
        ...


class WallClock:
    """Real time: ``time.monotonic`` and ``time.sleep``."""

    virtual = False

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


VIRTUAL_EPOCH_S = 2.0**24  # ≈ 194 days: later than the wall clock of any bench booted since
_virtual_high_water_s = 0.0  # the latest time any virtual clock of this process has reached


def virtual_start_s() -> float:
    """Where a new :class:`VirtualClock` starts: a whole second at or after the epoch, the
    wall clock and every earlier virtual clock of this process.

    Never before the wall clock or an earlier virtual clock, so a simulated lab that has been
    running never sees time go backwards when a virtual clock takes over. Always a whole
    second in the same binade [2^24, 2^25) s, so floating-point rounding of the virtual time
    is the same for every start: a simulation gives the same numbers whatever ran before
    it in the process (a start at ``time.monotonic()`` made seeded results depend on it).
    """
    floor_s = max(VIRTUAL_EPOCH_S, time.monotonic(), _virtual_high_water_s)
    return float(math.ceil(floor_s))


def reset_virtual_time() -> None:
    """Forget how far earlier virtual clocks got: only for when no simulated lab that saw
    them is left (``sim_backend.open_labs.forget_labs``), so nothing can see time go backwards."""
    global _virtual_high_water_s
    _virtual_high_water_s = 0.0


def _raise_high_water(t_s: float) -> None:
    global _virtual_high_water_s
    if t_s > _virtual_high_water_s:
        _virtual_high_water_s = t_s


def catch_up_to(t_s: float) -> None:
    """A simulated lab that reached ``t_s`` in another process was taken over: virtual clocks
    of this process, the one in force and those made later, must not start behind it."""
    _raise_high_water(t_s)
    clock = get_clock()
    if isinstance(clock, VirtualClock):
        clock.advance_to(t_s)


class VirtualClock:
    """Virtual time that advances only when someone sleeps on it (starts at virtual_start_s)."""

    virtual = True

    def __init__(self, start_s: float | None = None) -> None:
        self._t_s = virtual_start_s() if start_s is None else float(start_s)
        self._lock = threading.Lock()
        _raise_high_water(self._t_s)

    def now(self) -> float:
        return self._t_s

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time ({seconds} s)")
        with self._lock:
            self._t_s += seconds
            _raise_high_water(self._t_s)

    def advance_to(self, t_s: float) -> None:
        """Move the clock forward to ``t_s`` (never backwards)."""
        with self._lock:
            self._t_s = max(self._t_s, t_s)
            _raise_high_water(self._t_s)


_current: Clock = WallClock()


def get_clock() -> Clock:
    """The clock in force for this process."""
    return _current


def set_clock(clock: Clock) -> Clock:
    """Install ``clock`` for this process and return the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Install ``clock`` for the duration of a ``with`` block."""
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
