"""What a twin is given: a clock and its wiring — never the lab itself.

A real instrument knows the time and its own terminals; it does not know the bench it sits on.
A twin gets the same two collaborators when the lab builds it (:mod:`sim_backend.lab`):

- a :class:`TwinClock`: the lab instant of the message being handled (the VISA session brought
  the lab to the process clock's now before handing the message over), and a way to be called
  while time passes (a ramp in progress);
- a :class:`Wiring`: what its terminals drive and read on the chip — the gate line or the pulse
  line through the switch matrix, a magnet's coil, a Hall bar's voltage — and the lab file's
  ``wiring:`` entries (``connections``) that say which.

These are protocols, so the command engines and the instrument models import nothing of the lab,
and a test may hand a twin any object that keeps the same promises.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Ticker(Protocol):
    """Something the clock calls while time passes (a twin whose output ramps)."""

    name: str

    def tick(self, t0_s: float, t1_s: float) -> None: ...


class TwinClock(Protocol):
    """The lab's time as one twin sees it."""

    def now_s(self) -> float:
        """The lab instant of the message being handled (no integration: already synced)."""
        ...

    def ticking(self, twin: Ticker, on: bool) -> None:
        """Have ``twin.tick(t0_s, t1_s)`` called as the lab's time moves (a ramp runs)."""
        ...


class Wiring(Protocol):
    """What one instrument output reaches on the chip, and the physics behind it."""

    #: the output's name in the lab (``gate`` or ``smu2636:none:smub``), for conflicts and bias
    name: str
    #: the chip line it drives or reads: ``gate``, ``pulse``, ``readout`` (``none:…`` unwired)
    terminal: str
    #: the lab file's ``wiring:`` entries of this instrument (``coil``, ``probe``, ``voltmeter``…)
    connections: dict[str, Any]
    #: the lab's noise source, shared by every twin so draws keep one order
    rng: np.random.Generator

    def unwired(self, channel: str) -> Wiring:
        """A second output of the same instrument, wired to nothing."""
        ...

    def twin_named(self, name: str) -> Any:
        """The instrument at the other end of a link cable (6221 → 2182A trigger link)."""
        ...

    # a voltage source on its terminal
    def drive(self, on: bool, voltage_V: float) -> None: ...

    def routed(self) -> np.ndarray: ...

    def leakage_at_A(self, voltage_V: float) -> float: ...

    def load_resistance_ohm(self) -> float: ...

    # magnets
    def drive_coil(self, current_A: float) -> None: ...

    def magnet(self) -> Any: ...

    def field_T(self) -> float: ...

    # readout
    def hall_voltage_V(self, current_A: float, bandwidth_Hz: float, dc_coupled: bool) -> float: ...

    def device_voltage_V(self, current_A: float, bandwidth_Hz: float) -> float: ...

    def set_dc_bias(self, current_A: float) -> None: ...

    def dc_bias_A(self) -> float: ...

    # write pulses
    def sot_pulse(self, amplitude_V: float, width_s: float, t_s: float | None = None) -> int: ...

    def sot_pulse_current(
        self, current_A: float, width_s: float, t_s: float | None = None
    ) -> int: ...

    # switch matrix
    def set_crosspoints(self, closed: set[tuple[str, int]]) -> None: ...
