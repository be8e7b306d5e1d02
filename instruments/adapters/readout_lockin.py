"""Lock-in Hall/TMR readout: SR830 and SR860 (pymeasure's drivers).

The excitation is the lock-in's sine output through a series resistor much larger than the
device: ``I_rms = SLVL / series_resistance_ohm``, so ``SLVL = excitation_A · series_resistance_ohm``
(SLVL is an rms amplitude on both models). Before each reading the adapter waits the settling
time of the output filter: ``N`` time constants, ``N`` from the filter slope (time to settle
within 1 % of a step, SR830 manual, "Time constants"): 6 dB/oct 5 τ, 12 dB/oct 7 τ,
18 dB/oct 9 τ, 24 dB/oct 10 τ — or ``settle_time_constants`` when given. The reading is X, the
in-phase rms voltage.

Configuration errors: the lock-ins have no SCPI error queue; ``*ESR?`` bits 4 (execution error)
and 5 (command error), and on the SR830 ``ERRS?``, are read back after configuring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pymeasure.instruments.srs import SR830, SR860

from instruments.adapters.common import (
    OpensDriver,
    count_transactions,
    one_of,
    positive,
    read_value,
)
from instruments.roles import HallReadout, InstrumentError, ReadoutLimits, Timebase, Window

OVERLOAD_FRACTION = 1.1  # |X| beyond this fraction of the sensitivity is an overload
SETTLING_TIME_CONSTANTS = {6: 5.0, 12: 7.0, 18: 9.0, 24: 10.0}
FILTER_SLOPES_dB = [6, 12, 18, 24]
ESR_BITS = {4: "execution error", 5: "command error"}
SR830_ERRS_BITS = {
    1: "battery backup failed",
    2: "RAM memory test error",
    4: "ROM memory test error",
    5: "GPIB fast data transfer aborted",
    6: "DSP test error",
    7: "math error",
}


@dataclass
class LockinSettings:
    """Per-lock-in settings (station file, ``settings:``). Amplitudes are rms."""

    excitation_A: float = 1e-6
    series_resistance_ohm: float = 1e6
    frequency_Hz: float = 13.7
    time_constant_s: float = 0.1
    filter_slope_dB: int = 24
    sensitivity_V: float = 1e-3
    settle_time_constants: float | None = None


def _bits(value: int, names: dict[int, str]) -> list[str]:
    return [f"{name} (bit {bit})" for bit, name in names.items() if value & (1 << bit)]


class LockinReadout(OpensDriver, HallReadout):
    """Hall voltage = X of a lock-in whose sine output drives the excitation current."""

    settings_type: ClassVar[type] = LockinSettings
    driver_type: ClassVar[type[Any]] = SR830
    sine_window_V: ClassVar[Window] = Window(0.004, 5.0, "V")
    settings: LockinSettings

    def __init__(
        self,
        *,
        name: str,
        driver: Any,
        settings: LockinSettings,
        limits: ReadoutLimits,
        timebase: Timebase,
    ) -> None:
        super().__init__(name, limits, timebase)
        self.driver = driver
        self.settings = settings
        self.check_settings(name, settings, limits)
        self.sine_amplitude_V = settings.excitation_A * settings.series_resistance_ohm
        self.settle_s = self._settle_time_constants(settings) * settings.time_constant_s
        count_transactions(self, driver)

    @staticmethod
    def _settle_time_constants(settings: LockinSettings) -> float:
        n_tau = settings.settle_time_constants
        if n_tau is None:
            return SETTLING_TIME_CONSTANTS[int(settings.filter_slope_dB)]
        return n_tau

    @classmethod
    def check_settings(cls, name: str, settings: LockinSettings, limits: ReadoutLimits) -> None:
        """Run by the station loader (no instrument opened) and again at construction."""
        positive(name, "series_resistance_ohm", settings.series_resistance_ohm)
        positive(name, "frequency_Hz", settings.frequency_Hz)
        limits.excitation_A.check(name, "excitation current", settings.excitation_A)
        cls.sine_window_V.check(
            name,
            "sine amplitude (excitation_A x series_resistance_ohm)",
            settings.excitation_A * settings.series_resistance_ohm,
        )
        one_of(name, "time_constant_s", settings.time_constant_s, cls.driver_type.TIME_CONSTANTS)
        one_of(name, "sensitivity_V", settings.sensitivity_V, cls.driver_type.SENSITIVITIES)
        one_of(name, "filter_slope_dB", settings.filter_slope_dB, FILTER_SLOPES_dB)
        positive(name, "settle_time_constants", cls._settle_time_constants(settings))

    def configure(self) -> None:
        """Reference, excitation, filter, sensitivity; then the error registers."""
        self.driver.write("*CLS")
        self.driver.frequency = self.settings.frequency_Hz
        self.driver.sine_voltage = self.sine_amplitude_V
        self.driver.time_constant = self.settings.time_constant_s
        self._write_filter_slope(int(self.settings.filter_slope_dB))
        self.driver.sensitivity = self.settings.sensitivity_V
        self._check_errors()

    def _write_filter_slope(self, slope_dB: int) -> None:
        self.driver.filter_slope = slope_dB

    def _check_errors(self) -> None:
        problems = _bits(int(self.driver.ask("*ESR?")), ESR_BITS)
        if problems:
            raise InstrumentError(self.name, "*ESR? reports " + ", ".join(problems))

    @property
    def excitation_A(self) -> float:
        return self.settings.excitation_A

    def read_voltage(self) -> float:
        self.timebase.sleep(self.settle_s)
        bound_V = OVERLOAD_FRACTION * self.settings.sensitivity_V
        return read_value(self, "Hall voltage", lambda: self.driver.x, bound_V)

    def safe_state(self) -> str:
        # The sine output cannot be switched off: the smallest amplitude is the safe state.
        self.driver.sine_voltage = self.sine_window_V.low
        return f"{self.name}: sine output at its minimum {self.sine_window_V.low:g} V"

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "excitation_A": self.settings.excitation_A,
            "sine_amplitude_V": self.sine_amplitude_V,
            "frequency_Hz": self.settings.frequency_Hz,
            "time_constant_s": self.settings.time_constant_s,
            "filter_slope_dB": self.settings.filter_slope_dB,
            "settle_s": self.settle_s,
        }

    def close(self) -> None:
        self.driver.adapter.close()


class SR830Readout(LockinReadout):
    """SR830: ``SLVL`` 0.004-5 V rms, ``OUTP?1`` for X, ``ERRS?`` error bits."""

    driver_type = SR830

    def _check_errors(self) -> None:
        super()._check_errors()
        problems = _bits(int(self.driver.ask("ERRS?")), SR830_ERRS_BITS)
        if problems:
            raise InstrumentError(self.name, "ERRS? reports " + ", ".join(problems))


class SR860Readout(LockinReadout):
    """SR860: ``SLVL`` 1 nV-2 V rms, ``SCAL`` sensitivity, ``OUTP? 0`` for X."""

    driver_type = SR860
    sine_window_V = Window(1e-9, 2.0, "V")

    def _write_filter_slope(self, slope_dB: int) -> None:
        self.driver.filter_slope = FILTER_SLOPES_dB.index(slope_dB)
