"""DC Hall/TMR readouts: a Keithley 2400 in 4-wire mode, and 6221 + 2182A delta mode.

Settling: the 2400 integrates over ``nplc`` power-line cycles per reading (the instrument does
the waiting); delta mode runs ``delta_cycles`` three-point cycles of ``delta_delay_s`` plus one
2182A integration (``nplc / line_frequency_Hz``) per point, and the adapter waits that long
before reading the 6221's buffer. The delta reading is already the voltage at the excitation
amplitude (the 6221 averages out thermal offsets), so ``R = V / excitation_A``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pymeasure.instruments.keithley import Keithley2182, Keithley2400, Keithley6221

from instruments.adapters.common import (
    OpensDriver,
    count_transactions,
    drain_error_queue,
    positive,
    read_value,
)
from instruments.roles import HallReadout, InstrumentError, ReadoutLimits, Timebase


@dataclass
class DCReadoutSettings:
    """Settings of both DC readouts (station file, ``settings:``).

    ``excitation_A``: the sourced current. ``compliance_V``: the current source's voltage limit.
    ``nplc``: voltmeter integration. Delta mode only: ``nanovoltmeter_address`` (the 2182A),
    ``delta_cycles``, ``delta_delay_s``, ``line_frequency_Hz``.
    """

    excitation_A: float = 10e-6
    compliance_V: float = 2.0
    nplc: float = 1.0
    nanovoltmeter_address: str | None = None
    delta_cycles: int = 10
    delta_delay_s: float = 0.002
    line_frequency_Hz: float = 50.0


class _DCReadout(HallReadout):
    settings_type: ClassVar[type] = DCReadoutSettings
    settings: DCReadoutSettings

    def __init__(
        self,
        *,
        name: str,
        driver: Any,
        settings: DCReadoutSettings,
        limits: ReadoutLimits,
        timebase: Timebase,
    ) -> None:
        super().__init__(name, limits, timebase)
        self.driver = driver
        self.settings = settings
        self.check_settings(name, settings, limits)
        count_transactions(self, driver)

    @classmethod
    def check_settings(cls, name: str, settings: DCReadoutSettings, limits: ReadoutLimits) -> None:
        """Run by the station loader (no instrument opened) and again at construction."""
        limits.excitation_A.check(name, "excitation current", settings.excitation_A)
        positive(name, "compliance_V", settings.compliance_V)
        positive(name, "nplc", settings.nplc)

    @property
    def excitation_A(self) -> float:
        return self.settings.excitation_A

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "excitation_A": self.excitation_A, "nplc": self.settings.nplc}

    def close(self) -> None:
        self.driver.adapter.close()


class Keithley2400FourWireReadout(OpensDriver, _DCReadout):
    """Keithley 2400 sourcing ``excitation_A`` and measuring the voltage 4-wire.

    Commands (2400 manual): ``:SYST:RSEN 1``, ``:SOURCE:FUNCTION CURR``, ``:SOURCE:CURRENT x``,
    ``:SENSE:VOLTAGE:PROTECTION v``, ``:SENSE:VOLTAGE:NPLCYCLES n``, ``OUTPUT 1``,
    ``:MEASURE:VOLTAGE?`` (first of five fields), ``SYST:ERR?``.
    """

    driver_type: ClassVar[type[Any]] = Keithley2400

    driver: Keithley2400

    def configure(self) -> None:
        self.driver.clear()
        self.driver.write(":SYST:RSEN 1")
        self.driver.source_mode = "current"
        self.driver.source_current = 0.0
        self.driver.compliance_voltage = self.settings.compliance_V
        self.driver.voltage_nplc = self.settings.nplc
        self.driver.source_current = self.settings.excitation_A
        self.driver.source_enabled = True
        drain_error_queue(self.name, self.driver.ask)

    def read_voltage(self) -> float:
        # The voltage across the device cannot exceed the source's voltage compliance.
        return read_value(
            self,
            "device voltage",
            lambda: self.driver.values(":MEASURE:VOLTAGE?")[0],
            self.settings.compliance_V,
        )

    def safe_state(self) -> str:
        self.driver.source_current = 0.0
        self.driver.source_enabled = False
        return f"{self.name}: excitation 0 A, output off"


class Keithley6221DeltaReadout(OpensDriver, _DCReadout):
    """Keithley 6221 current source + 2182A nanovoltmeter in delta mode.

    The 2182A (``nanovoltmeter_address``) is configured for DC volts at ``nplc``; the 6221
    runs the delta cycles. Commands (6221 reference manual, delta): ``:SOUR:DELT:HIGH i``,
    ``:SOUR:DELT:LOW -i``, ``:SOUR:DELT:DELay d``, ``:SOUR:DELT:COUN n``, ``TRAC:POIN n``,
    ``:TRAC:CLE``, ``:SOUR:DELT:ARM``, ``:INIT:IMM``, ``:TRAC:DATA?`` (reading[, timestamp] ...),
    ``:SOUR:SWE:ABOR``; 2182A: ``:SENS:FUNC 'VOLT'``, ``:SENS:VOLT:NPLC n``.
    """

    driver_type: ClassVar[type[Any]] = Keithley6221
    driver: Keithley6221

    def __init__(self, *, nanovoltmeter: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.nanovoltmeter = nanovoltmeter
        if nanovoltmeter is not None:
            count_transactions(self, nanovoltmeter)

    def _open_companions(self, visa_library: str) -> None:
        """The 2182A nanovoltmeter, opened with the 6221 (closed with it if anything fails)."""
        address = self.settings.nanovoltmeter_address
        if not address:
            raise ValueError(f"{self.name}: setting nanovoltmeter_address (the 2182A) is required")
        self.nanovoltmeter = Keithley2182(address, visa_library=visa_library)
        count_transactions(self, self.nanovoltmeter)

    @property
    def cycle_time_s(self) -> float:
        """Duration of one delta cycle: three points of delay + one integration each."""
        s = self.settings
        return 3.0 * (s.delta_delay_s + s.nplc / s.line_frequency_Hz)

    def configure(self) -> None:
        if self.nanovoltmeter is not None:
            self.nanovoltmeter.write("*CLS")
            self.nanovoltmeter.write(":SENS:FUNC 'VOLT'")
            self.nanovoltmeter.write(f":SENS:VOLT:NPLC {self.settings.nplc:g}")
            drain_error_queue(self.name + " (2182A)", self.nanovoltmeter.ask)
        self.driver.clear()
        self.driver.source_compliance = self.settings.compliance_V
        self.driver.delta_high_source = self.settings.excitation_A
        self.driver.delta_low_source = -self.settings.excitation_A  # symmetric: cancels EMFs
        self.driver.delta_delay = float(self.settings.delta_delay_s)
        self.driver.delta_cycles = int(self.settings.delta_cycles)
        self.driver.delta_buffer_points = int(self.settings.delta_cycles)
        drain_error_queue(self.name, self.driver.ask)

    def read_voltage(self) -> float:
        # The voltage across the device cannot exceed the 6221's voltage compliance.
        return read_value(self, "delta voltage", self._delta_reading, self.settings.compliance_V)

    def _delta_reading(self) -> float:
        n = int(self.settings.delta_cycles)
        self.driver.write(":TRAC:CLE")
        self.driver.delta_arm()
        self.driver.delta_start()
        self.timebase.sleep(n * self.cycle_time_s)
        values = [float(v) for v in self.driver.ask(":TRAC:DATA?").split(",") if v.strip()]
        self.driver.delta_abort()
        readings = values[0::2] if len(values) == 2 * n else values
        if not readings:
            raise InstrumentError(self.name, "delta buffer empty after the delta cycles")
        return sum(readings) / len(readings)

    def safe_state(self) -> str:
        self.driver.delta_abort()
        self.driver.source_enabled = False
        return f"{self.name}: delta aborted, output off"

    def close(self) -> None:
        if self.nanovoltmeter is not None:
            self.nanovoltmeter.adapter.close()
        super().close()
