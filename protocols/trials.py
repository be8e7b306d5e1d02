"""Single-shot switching trials: reset with the field, drive, read the state at zero field.

Building blocks of ``switching-probability`` and ``neuromodulation``. The binary state is read
against a threshold half-way between the two saturated remanent Hall voltages, measured once
by :func:`calibrate_states` (the offset of each device differs, so each device gets its own).
"""

from __future__ import annotations

from dataclasses import dataclass

from labctl.api import Run


@dataclass(frozen=True)
class StateReference:
    v_up_V: float  # remanent Hall voltage after saturating up (+field)
    v_down_V: float

    @property
    def threshold_V(self) -> float:
        return (self.v_up_V + self.v_down_V) / 2

    @property
    def contrast_V(self) -> float:
        return abs(self.v_up_V - self.v_down_V) / 2

    def state(self, v_V: float) -> int:
        """+1 (up) or −1 (down) from a Hall voltage."""
        above = v_V > self.threshold_V
        return 1 if above == (self.v_up_V > self.v_down_V) else -1


def reset(run: Run, reset_field_T: float) -> None:
    """Saturate along ``reset_field_T`` and come back to zero field."""
    magnet = run.station.field
    magnet.set_field(reset_field_T)
    magnet.set_field(0.0)


def calibrate_states(run: Run, saturate_T: float) -> StateReference:
    """Remanent Hall voltages of the up and down states of the connected device."""
    hall = run.station.hall
    reset(run, abs(saturate_T))
    v_up = hall.read_voltage()
    reset(run, -abs(saturate_T))
    v_down = hall.read_voltage()
    return StateReference(v_up, v_down)


def field_pulse(run: Run, field_T: float, width_s: float) -> float:
    """Hold ``field_T`` for ``width_s`` and return to zero field; returns the time (s) the
    device actually spent at ``field_T``: ``width_s`` plus the magnet's settling (and closed-
    loop corrections) once its ramp had arrived — the duration the switching fit must use."""
    magnet = run.station.field
    t0_s = run.now()
    magnet.set_field(field_T)
    ramp_s = abs(field_T) / magnet.limits.ramp_T_per_s  # the ramp, at the station's rate
    settled_s = max(0.0, run.now() - t0_s - ramp_s)
    run.sleep(width_s)
    magnet.set_field(0.0)
    return width_s + settled_s
