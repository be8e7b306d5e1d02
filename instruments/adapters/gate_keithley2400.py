"""Keithley 2400 SourceMeter as a gate source (pymeasure's ``Keithley2400``).

Commands (2400 manual, SCPI): ``:SOURCE:FUNCTION VOLT``, ``:SOURCE:VOLTAGE x``,
``:SENSE:CURRENT:PROTECTION i``, ``:SENSE:CURRENT:NPLCYCLES n``, ``OUTPUT 1``,
``:MEASURE:CURRENT?`` (five fields per pymeasure's ``:FORMAT:ELEMENTS``; the fifth is the status
word, bit 3 = in compliance), ``SYST:ERR?``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pymeasure.instruments.keithley import Keithley2400

from instruments.adapters.common import drain_error_queue
from instruments.adapters.gate_base import RampedGate

COMPLIANCE_STATUS_BIT = 1 << 3  # status word bit 3: "Cmpl", the source is in compliance
COMPLIANCE_FRACTION = 0.995  # |I| this close to the compliance also counts as a trip


class Keithley2400Gate(RampedGate):
    """Gate voltage from a Keithley 2400; leakage from ``:MEASURE:CURRENT?``."""

    driver_type: ClassVar[type[Any]] = Keithley2400

    voltage_control = (Keithley2400, "source_voltage")
    compliance_control = (Keithley2400, "compliance_current")
    driver: Keithley2400

    def configure(self) -> None:
        self.driver.clear()
        self.driver.source_mode = "voltage"
        self.driver.compliance_current = self.compliance_A
        self.driver.current_nplc = self.settings.nplc
        self._check_errors()

    def _write_level(self, voltage_V: float) -> None:
        self.driver.source_voltage = voltage_V

    def _read_level(self) -> float:
        return float(self.driver.source_voltage)

    def _output_enabled(self) -> bool:
        return bool(self.driver.source_enabled)

    def _set_output(self, enabled: bool) -> None:
        self.driver.source_enabled = enabled

    def _write_compliance(self, current_A: float) -> None:
        self.driver.compliance_current = current_A

    def _check_errors(self) -> None:
        drain_error_queue(self.name, self.driver.ask)

    def _measure(self) -> tuple[float, int]:
        """One ``:MEASURE:CURRENT?``: (current in A, status word)."""
        values = self.driver.values(":MEASURE:CURRENT?")
        return float(values[1]), int(float(values[4]))

    def leakage_current_A(self) -> float:
        return self._measure()[0]

    def tripped(self) -> bool:
        current_A, status = self._measure()
        return bool(status & COMPLIANCE_STATUS_BIT) or (
            abs(current_A) >= COMPLIANCE_FRACTION * self.compliance_A
        )
