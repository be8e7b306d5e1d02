"""The controller of ``gate-program``: which gate pulse to send next (pure logic, no I/O).

Magneto-ionic kinetics are exponential in the gate voltage (rate ∝ sinh(V/V0) ≈ e^{V/V0}), so a
pulse is summarised by its *dose* ``width·exp((|V| − V_ref)/V0)`` (seconds at the reference
voltage). For each polarity the controller keeps a gain — change of the coercive field per
unit dose — learned from the last pulses (a secant on a log-duration scale), aims a fraction
``damping`` of the way to the target, and grows the width at most ``max_growth`` times per
pulse. When the needed width exceeds the longest allowed pulse it raises the amplitude, up to
the voltage budget. Before the gain is known it escalates the width geometrically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pulse:
    voltage_V: float
    width_s: float
    saturated: bool = False  # at the voltage budget and the longest pulse

    @property
    def polarity(self) -> int:
        return 1 if self.voltage_V > 0 else -1


@dataclass
class GateController:
    """Proportional control of the dose, per polarity, on a log-duration scale."""

    raise_polarity: int = 1  # sign of the gate voltage that raises Hc
    amplitude_V: float = 2.0  # first amplitude tried (also V_ref of the dose)
    max_amplitude_V: float = 2.5  # voltage budget
    min_width_s: float = 1e-3
    max_width_s: float = 60.0
    initial_width_s: float = 0.1
    v0_V: float = 0.15  # voltage scale of the kinetics
    damping: float = 0.7  # aim this fraction of the way (approach from one side)
    max_growth: float = 8.0  # width growth per pulse while the gain is unknown or small
    reverse_slowdown: float = 5.0  # first guess: the lowering direction is this much slower
    noise_T: float = 2e-4  # changes below this are not trusted for the gain
    gains: dict[int, float] = field(default_factory=dict)  # T per second of dose, > 0
    last_dose_s: dict[int, float] = field(default_factory=dict)  # at amplitude_V

    def dose_s(self, pulse: Pulse) -> float:
        return pulse.width_s * math.exp((abs(pulse.voltage_V) - self.amplitude_V) / self.v0_V)

    def _gain(self, direction: int) -> float | None:
        if direction in self.gains:
            return self.gains[direction]
        other = self.gains.get(-direction)
        if other is None:
            return None
        lowering = direction != 1
        return other / self.reverse_slowdown if lowering else other * self.reverse_slowdown

    def propose(self, error_T: float) -> Pulse:
        """The next pulse for ``error_T`` = target − measured coercive field (T)."""
        direction = 1 if error_T > 0 else -1  # +1: raise Hc
        polarity = direction * self.raise_polarity
        gain = self._gain(direction)
        last = self.last_dose_s.get(direction)
        if gain is None:
            dose = self.initial_width_s if last is None else last * self.max_growth
        else:
            dose = self.damping * abs(error_T) / gain
            if last is not None:
                dose = min(dose, last * self.max_growth)
        amplitude, saturated = self.amplitude_V, False
        if dose > self.max_width_s:
            # raise the amplitude so that the longest pulse delivers the dose
            needed = self.amplitude_V + self.v0_V * math.log(dose / self.max_width_s)
            amplitude = min(needed, self.max_amplitude_V)
            saturated = needed > self.max_amplitude_V
        width = dose / math.exp((amplitude - self.amplitude_V) / self.v0_V)
        width = min(max(width, self.min_width_s), self.max_width_s)
        return Pulse(polarity * amplitude, width, saturated)

    def observe(self, pulse: Pulse, change_T: float) -> None:
        """Learn from the coercive-field change that ``pulse`` produced."""
        direction = pulse.polarity * self.raise_polarity
        dose = self.dose_s(pulse)
        self.last_dose_s[direction] = dose
        moved = change_T * direction  # > 0 when it moved the intended way
        if moved > self.noise_T:
            new = moved / dose
            old = self.gains.get(direction)
            self.gains[direction] = new if old is None else math.sqrt(old * new)
