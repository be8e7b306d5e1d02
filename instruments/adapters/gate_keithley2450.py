"""Keithley 2450 SourceMeter as a gate source (pymeasure's ``Keithley2450``).

Commands (2450 reference manual, SCPI): ``:SOUR:FUNC VOLT``, ``:SENS:FUNC 'CURR'``,
``:SOUR:VOLT:LEV x``, ``:SOUR:VOLT:ILIM i``, ``:SENS:CURR:NPLC n``, ``OUTPUT ON|OFF``,
``OUTPUT?``, ``:READ?`` (the current, one field), ``SYST:ERR?``. A trip is a measured current
at the limit (``COMPLIANCE_FRACTION`` of it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pymeasure.instruments.keithley import Keithley2450

from instruments.adapters.common import drain_error_queue
from instruments.adapters.gate_base import RampedGate

COMPLIANCE_FRACTION = 0.995


class Keithley2450Gate(RampedGate):
    """Gate voltage from a Keithley 2450 (SCPI command set)."""

    driver_type: ClassVar[type[Any]] = Keithley2450

    rating_V: ClassVar[float] = 210.0  # pymeasure's source_voltage declares no range
    compliance_control = (Keithley2450, "compliance_current")
    driver: Keithley2450

    def configure(self) -> None:
        self.driver.write("*CLS")
        self.driver.source_mode = "voltage"
        self.driver.write(":SENS:FUNC 'CURR'")
        self.driver.current_nplc = self.settings.nplc
        self.driver.compliance_current = self.compliance_A
        self._check_errors()

    def _write_level(self, voltage_V: float) -> None:
        self.driver.source_voltage = voltage_V

    def _read_level(self) -> float:
        return float(self.driver.source_voltage)

    def _output_enabled(self) -> bool:
        # pymeasure casts the reply with bool(), which reads "0" as True: parse it here.
        return bool(int(float(self.driver.ask("OUTPUT?"))))

    def _set_output(self, enabled: bool) -> None:
        self.driver.write("OUTPUT ON" if enabled else "OUTPUT OFF")

    def _write_compliance(self, current_A: float) -> None:
        self.driver.compliance_current = current_A

    def _check_errors(self) -> None:
        drain_error_queue(self.name, self.driver.ask)

    def leakage_current_A(self) -> float:
        return float(self.driver.values(":READ?")[0])

    def tripped(self) -> bool:
        return abs(self.leakage_current_A()) >= COMPLIANCE_FRACTION * self.compliance_A
