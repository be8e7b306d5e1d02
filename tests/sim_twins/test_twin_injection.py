"""A twin runs on the clock and wiring it is given, with no lab behind them: the 707B publishes
its closed crosspoints to its wiring, and a ramping supply asks its clock for ticks."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim_backend.twins import MODELS
from sim_backend.wiring import Ticker


class StillClock:
    """A clock that stands at one instant and notes who asked for ticks."""

    def __init__(self, t_s: float) -> None:
        self.t_s = t_s
        self.tickers: dict[str, bool] = {}

    def now_s(self) -> float:
        return self.t_s

    def ticking(self, twin: Ticker, on: bool) -> None:
        self.tickers[twin.name] = on


class MatrixWiring:
    """Only what a switch matrix uses of its wiring: the crosspoints it closes."""

    name = "matrix"
    terminal = "none"

    def __init__(self) -> None:
        self.connections: dict[str, Any] = {}
        self.rng = np.random.default_rng(0)
        self.closed: set[tuple[str, int]] = set()

    def set_crosspoints(self, closed: set[tuple[str, int]]) -> None:
        self.closed = set(closed)


def test_a_707b_closes_crosspoints_on_the_wiring_it_is_given() -> None:
    wiring = MatrixWiring()
    matrix = MODELS["keithley707b"]("matrix", StillClock(0.0), wiring)  # type: ignore[arg-type]
    matrix.handle_message("channel.close('1A01,1C05')")
    assert wiring.closed == {("A", 1), ("C", 5)}
    assert matrix.handle_message("print(channel.getclose('allslots'))")
    assert matrix.output.pop() == "1A01;1C05"
    matrix.handle_message("channel.open('allslots')")
    assert wiring.closed == set() and not matrix.errors


def test_a_gs200_program_run_asks_its_clock_for_ticks() -> None:
    class SourceWiring(MatrixWiring):
        terminal = "none:gs200"

        def drive(self, on: bool, voltage_V: float) -> None:
            self.driven = (on, voltage_V)

        def leakage_at_A(self, voltage_V: float) -> float:
            return 0.0

        def load_resistance_ohm(self) -> float:
            return float("inf")

    clock = StillClock(5.0)
    source = MODELS["yokogawa_gs200"]("gs200", clock, SourceWiring())  # type: ignore[arg-type]
    wiring = source.wiring
    lines = (":PROG:EDIT:STAR", ":SOUR:LEV 1.0", ":PROG:EDIT:END", ":PROG:SLOP 2", ":OUTP ON")
    for line in lines:
        source.handle_message(line)
    source.handle_message(":PROG:RUN")
    assert not source.errors, list(source.errors)
    assert clock.tickers == {"gs200": True}  # a 2 s ramp from 0 V: tick me while time runs
    source.tick(5.0, 6.0)
    assert wiring.driven == (True, 0.5)
    source.tick(6.0, 7.0)
    assert wiring.driven == (True, 1.0) and clock.tickers == {"gs200": False}
