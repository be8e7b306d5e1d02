"""Keithley 6221 in pulse mode as a write-pulse source (our pulse-delta driver).

The 6221 sources current; a pulse of ``amplitude_V`` across the write path of resistance
``load_resistance_ohm`` is a current pulse ``I = amplitude_V / load_resistance_ohm`` from a
0 A base. Widths are limited by the instrument to 50 µs - 12 ms (refused outside, in addition to
the station limit); pulses repeat every ``interval_plc`` power-line cycles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from instruments.adapters.common import OpensDriver, count_transactions, drain_error_queue, positive
from instruments.drivers.keithley6221_pulse import (
    CURRENT_RANGE_A,
    PULSE_WIDTH_RANGE_S,
    Keithley6221PulseDelta,
)
from instruments.ratings import control_window
from instruments.roles import PulseLimits, PulseSource, Timebase, Window


@dataclass
class Keithley6221PulseSettings:
    """``load_resistance_ohm``: converts volts to the sourced current; ``compliance_V``;
    ``interval_plc`` and ``line_frequency_Hz``: pulse repetition."""

    load_resistance_ohm: float = 1e3
    compliance_V: float = 10.0
    interval_plc: int = 5
    line_frequency_Hz: float = 50.0


class Keithley6221Pulse(OpensDriver, PulseSource):
    """Current pulses equivalent to ``amplitude_V`` across ``load_resistance_ohm``."""

    driver_type: ClassVar[type[Any]] = Keithley6221PulseDelta

    settings_type: ClassVar[type] = Keithley6221PulseSettings
    settings: Keithley6221PulseSettings
    driver: Keithley6221PulseDelta

    def __init__(
        self,
        *,
        name: str,
        driver: Any,
        settings: Keithley6221PulseSettings,
        limits: PulseLimits,
        timebase: Timebase,
    ) -> None:
        super().__init__(name, limits, timebase)
        self.driver = driver
        self.settings = settings
        self.check_settings(name, settings, limits)
        count_transactions(self, driver)

    @classmethod
    def check_settings(
        cls, name: str, settings: Keithley6221PulseSettings, limits: PulseLimits
    ) -> None:
        """Run by the station loader (no instrument opened) and again at construction."""
        positive(name, "load_resistance_ohm", settings.load_resistance_ohm)
        positive(name, "compliance_V", settings.compliance_V)

    @classmethod
    def ratings(cls, settings: Any = None) -> dict[str, Window]:
        """The pulse widths the 6221 offers (its driver's ``pulse_width_s`` validator)."""
        width = control_window(Keithley6221PulseDelta, "pulse_width_s", "s")
        return {"width_s": width} if width else {}

    def configure(self) -> None:
        self.driver.clear()
        self.driver.source_compliance = self.settings.compliance_V
        self.driver.pulse_low_A = 0.0
        self.driver.pulse_interval_plc = int(self.settings.interval_plc)
        drain_error_queue(self.name, self.driver.ask)

    def pulse(self, amplitude_V: float, width_s: float, count: int = 1) -> None:
        self.limits.amplitude_V.check(self.name, "pulse amplitude", amplitude_V)
        self.limits.width_s.check(self.name, "pulse width", width_s)
        self.limits.count.check(self.name, "pulse count", count)
        Window(*PULSE_WIDTH_RANGE_S, "s").check(self.name, "pulse width (6221 range)", width_s)
        current_A = amplitude_V / self.settings.load_resistance_ohm
        Window(*CURRENT_RANGE_A, "A").check(self.name, "pulse current (6221 range)", current_A)
        self.driver.pulse_high_A = current_A
        self.driver.pulse_width_s = width_s
        self.driver.pulse_count = int(count)
        drain_error_queue(self.name, self.driver.ask)
        self.driver.pulse_arm()
        self.driver.write(":INIT:IMM")
        interval_s = self.settings.interval_plc / self.settings.line_frequency_Hz
        self.timebase.sleep(count * interval_s)
        self.driver.write(":SOUR:SWE:ABOR")

    def safe_state(self) -> str:
        self.driver.write(":SOUR:SWE:ABOR")
        self.driver.source_enabled = False
        return f"{self.name}: pulse sequence aborted, output off"

    def close(self) -> None:
        self.driver.adapter.close()
