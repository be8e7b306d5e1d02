"""Yokogawa GS200 as a gate source (pymeasure's ``YokogawaGS200``).

Commands (GS200 user's manual, communication commands): ``:SOURce:FUNCtion VOLT``,
``SOURce:RANGe r`` (10 mV, 100 mV, 1 V, 10 V, 30 V), ``SOURce:LEVel x``,
``SOURce:PROTection:CURRent i`` (the current limiter, 1 mA to 200 mA: a smaller compliance is
refused, not rounded up), ``OUTPut:STATe 1|0``, ``SYST:ERR?``; with the /MON option ``:SENS 1``,
``:SENS:NPLC n`` and ``:MEAS?`` measure the current. Without /MON the leakage is unknown (NaN)
and a trip is never reported — set ``monitor: false`` only if the unit has no /MON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from pymeasure.instruments.yokogawa import YokogawaGS200

from instruments.adapters.common import drain_error_queue
from instruments.adapters.gate_base import GateSettings, RampedGate
from instruments.roles import LimitError, Window

VOLTAGE_RANGES_V = [10e-3, 100e-3, 1.0, 10.0, 30.0]
CURRENT_LIMITER_A = Window(1e-3, 200e-3, "A")
COMPLIANCE_FRACTION = 0.995


@dataclass
class GS200GateSettings(GateSettings):
    """Gate settings plus ``monitor`` (the /MON option is fitted)."""

    monitor: bool = True


class YokogawaGS200Gate(RampedGate):
    """Gate voltage from a Yokogawa GS200 on the smallest range holding the voltage limit."""

    driver_type: ClassVar[type[Any]] = YokogawaGS200

    settings_type: ClassVar[type] = GS200GateSettings
    rating_V: ClassVar[float] = 30.0  # pymeasure's source_level range follows the range setting
    compliance_control = (YokogawaGS200, "current_limit")
    compliance_rating = "the GS200 current limiter"
    settings: GS200GateSettings
    driver: YokogawaGS200

    def _check_compliance(self, current_A: float) -> float:
        checked = super()._check_compliance(current_A)
        if not CURRENT_LIMITER_A.contains(checked):
            limit = f"{CURRENT_LIMITER_A} (the GS200 current limiter)"
            raise LimitError(self.name, "compliance current", checked, limit)
        return checked

    @property
    def source_range_V(self) -> float:
        largest_V = max(abs(self.limits.voltage_V.low), abs(self.limits.voltage_V.high))
        return next(r for r in VOLTAGE_RANGES_V if r >= largest_V)

    def configure(self) -> None:
        self.driver.write(":SOURce:FUNCtion VOLT")
        self.driver.write(f"SOURce:RANGe {self.source_range_V:g}")
        self.driver.write(f"SOURce:PROTection:CURRent {self.compliance_A:g}")
        if self.settings.monitor:
            self.driver.write(":SENS 1")
            self.driver.write(f":SENS:NPLC {self.settings.nplc:g}")
        self._check_errors()

    def _write_level(self, voltage_V: float) -> None:
        self.driver.write(f"SOURce:LEVel {voltage_V:g}")

    def _read_level(self) -> float:
        return float(self.driver.ask(":SOURce:LEVel?"))

    def _output_enabled(self) -> bool:
        return bool(int(float(self.driver.ask("OUTPut:STATe?"))))

    def _set_output(self, enabled: bool) -> None:
        self.driver.write(f"OUTPut:STATe {int(enabled)}")

    def _write_compliance(self, current_A: float) -> None:
        self.driver.write(f"SOURce:PROTection:CURRent {current_A:g}")

    def _check_errors(self) -> None:
        drain_error_queue(self.name, self.driver.ask)

    def leakage_current_A(self) -> float:
        if not self.settings.monitor:
            return math.nan
        return float(self.driver.ask(":MEAS?"))

    def tripped(self) -> bool:
        current_A = self.leakage_current_A()
        return not math.isnan(current_A) and (
            abs(current_A) >= COMPLIANCE_FRACTION * self.compliance_A
        )
