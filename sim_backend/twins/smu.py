"""The physics of a source-measure unit, shared by the SourceMeter twins (2400, 2450, 2636B, GS200).

An SMU sources a voltage or a current on its terminal and measures what the load draws. On the
gate terminal the load is the gate oxide (``chip.gate_leakage_at_A``); on the readout terminal it
is the device itself. When the load would draw more than the compliance limit the SMU does what
the real one does: it becomes a current (voltage) source at the limit, the voltage it actually
applies drops accordingly, and the compliance flag is raised.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sim_backend.commands.base import InstrumentError

if TYPE_CHECKING:
    from sim_backend.wiring import Wiring

LINE_FREQUENCY_HZ = 50.0


def _solve(f: Any, target: float, hi: float) -> float:
    """Bisection for f(v) = target on [0, hi] (f monotonic, f(0) = 0); hi may be negative."""
    lo = 0.0
    for _ in range(48):
        mid = 0.5 * (lo + hi)
        if abs(f(mid)) > abs(target):
            hi = mid
        else:
            lo = mid
    return lo


class SmuCore:
    """Output state, levels, limits and compliance of one SMU channel."""

    def __init__(self, wiring: Wiring, name: str = "") -> None:
        self.wiring = wiring
        self.name = name
        self.reset()

    def reset(self) -> None:
        if getattr(self, "on", False):
            self.wiring.drive(False, 0.0)
        self.on = False
        self.func = "VOLT"  # what is sourced: VOLT or CURR
        self.level_V = 0.0
        self.level_A = 0.0
        self.limit_A = 105e-6
        self.limit_V = 21.0
        self.applied_V = 0.0
        self.tripped = False
        self.forced_trip = False
        self.nplc = 1.0

    # --- sourcing -------------------------------------------------------------------------
    def apply(self) -> None:
        """Drive the terminal with the current settings; refuse a second source on one pin.

        An injected trip stands for a load that broke down: it lasts, through new levels, until
        the output goes off (a one-shot trip cleared by the next ramp step would model nothing
        a bench meets, and would hide from every check made after a source action)."""
        if not self.on:
            self.forced_trip = False
            self.applied_V = 0.0
            self.tripped = False
            self.wiring.drive(False, 0.0)
            return
        self.applied_V, tripped = self._operating_point()
        self.tripped = tripped or self.forced_trip
        try:
            self.wiring.drive(True, self.applied_V)
        except InstrumentError:
            self.on = False
            self.applied_V = 0.0
            raise

    def _operating_point(self) -> tuple[float, bool]:
        wiring = self.wiring
        if self.func == "VOLT":
            v = self.level_V
            if wiring.terminal == "gate":
                i = wiring.leakage_at_A(v)
                if abs(i) > self.limit_A:
                    return _solve(wiring.leakage_at_A, self.limit_A, v), True
                return v, False
            r = wiring.load_resistance_ohm()
            if math.isfinite(r) and abs(v / r) > self.limit_A:
                return math.copysign(self.limit_A * r, v), True
            return v, False
        i = self.level_A
        if wiring.terminal == "gate":
            if i == 0:
                return 0.0, False
            v_max = math.copysign(self.limit_V, i)
            if abs(wiring.leakage_at_A(v_max)) < abs(i):
                return v_max, True
            return _solve(wiring.leakage_at_A, i, v_max), False
        r = wiring.load_resistance_ohm()
        v = i * r if math.isfinite(r) else math.copysign(math.inf, i) if i else 0.0
        if abs(v) > self.limit_V:
            return math.copysign(self.limit_V, i), True
        return v, False

    # --- measuring ------------------------------------------------------------------------
    def bandwidth_Hz(self) -> float:
        return 1.0 / (2.0 * max(self.nplc, 1e-3) / LINE_FREQUENCY_HZ)

    def measure(self) -> tuple[float, float, bool]:
        """(voltage_V, current_A, in_compliance) at the terminal now."""
        wiring = self.wiring
        if not self.on:
            return 0.0, 0.0, False
        leak_A: float | None = None  # the load's current at applied_V, if computed
        if self.wiring.terminal == "gate" and self.func == "VOLT":
            leak_A = wiring.leakage_at_A(self.applied_V)
            if not self.tripped and abs(leak_A) > self.limit_A:
                self.apply()  # the load changed (breakdown): the SMU goes into compliance
                leak_A = None
        rng = wiring.rng
        if self.forced_trip:
            limit = self.limit_A if self.func == "VOLT" else self.limit_V
            sign = 1.0 if (self.level_V if self.func == "VOLT" else self.level_A) >= 0 else -1.0
            if self.func == "VOLT":
                return self.applied_V, sign * limit, True
            return sign * limit, self.level_A, True
        if wiring.terminal == "gate":
            v = self.applied_V
            i = leak_A if leak_A is not None else wiring.leakage_at_A(v)
            if self.tripped and self.func == "VOLT":
                i = math.copysign(self.limit_A, v or 1.0)
            if self.func == "CURR" and not self.tripped:
                i = self.level_A
        elif self.func == "CURR":
            i = self.level_A
            v = wiring.device_voltage_V(i, self.bandwidth_Hz())
            if abs(v) > self.limit_V:
                v, self.tripped = math.copysign(self.limit_V, v), True
        else:
            v = self.applied_V
            r = wiring.load_resistance_ohm()
            i = v / r if math.isfinite(r) else 0.0
            if abs(i) > self.limit_A:
                i, self.tripped = math.copysign(self.limit_A, i), True
        noise_i = 1e-12 + 2e-5 * abs(i)
        noise_v = 1e-6 + 2e-5 * abs(v)
        return v + rng.normal(0.0, noise_v), i + rng.normal(0.0, noise_i), self.tripped

    def force_compliance(self) -> None:
        if self.on:
            self.forced_trip = True
            self.tripped = True

    def state(self) -> dict[str, Any]:
        return {
            "output": self.on,
            "source": self.func,
            "level_V": self.level_V,
            "level_A": self.level_A,
            "applied_V": self.applied_V,
            "limit_A": self.limit_A,
            "limit_V": self.limit_V,
            "compliance": self.tripped,
        }
