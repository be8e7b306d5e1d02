"""Keysight 33500B waveform generator as a write-pulse source (pymeasure's ``Agilent33500``).

A pulse is a triggered burst of ``count`` cycles of the pulse function from a 0 V baseline into a
high-impedance load (``OUTP1:LOAD INF``: amplitudes are the voltage at the device, not into
50 Ω). Negative pulses invert the output (``OUTP1:POL INV``) so the baseline stays at 0 V.
Commands (33500B series operating and service guide, SCPI): ``SOUR1:FUNC PULS``,
``SOUR1:FUNC:PULS:PER p``, ``SOUR1:FUNC:PULS:WIDT w``, ``SOUR1:VOLT:LOW 0``,
``SOUR1:VOLT:HIGH a``, ``SOUR1:BURS:MODE TRIG``, ``SOUR1:BURS:NCYC n``, ``SOUR1:BURS:STAT 1``,
``TRIG1:SOUR BUS``, ``OUTP1 ON|OFF``, ``*TRG``, ``SYST:ERR?``. Settings that did not change
since the last pulse are not sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pymeasure.instruments.agilent import Agilent33500

from instruments.adapters.common import OpensDriver, count_transactions, drain_error_queue, positive
from instruments.ratings import control_window
from instruments.roles import PulseLimits, PulseSource, Timebase, Window


@dataclass
class Keysight33500BSettings:
    """``channel`` (1 or 2); ``period_factor``: pulse period = width x factor within a burst."""

    channel: int = 1
    period_factor: float = 10.0


class Keysight33500BPulse(OpensDriver, PulseSource):
    """Write pulses from one channel of a Keysight 33500B."""

    driver_type: ClassVar[type[Any]] = Agilent33500

    settings_type: ClassVar[type] = Keysight33500BSettings
    settings: Keysight33500BSettings
    driver: Agilent33500

    def __init__(
        self,
        *,
        name: str,
        driver: Any,
        settings: Keysight33500BSettings,
        limits: PulseLimits,
        timebase: Timebase,
    ) -> None:
        super().__init__(name, limits, timebase)
        self.check_settings(name, settings, limits)
        self.driver = driver
        self.settings = settings
        self._sent: dict[str, str] = {}
        count_transactions(self, driver)

    @classmethod
    def check_settings(
        cls, name: str, settings: Keysight33500BSettings, limits: PulseLimits
    ) -> None:
        """Run by the station loader (no instrument opened) and again at construction."""
        if settings.channel not in (1, 2):
            raise ValueError(f"{name}: setting channel must be 1 or 2, got {settings.channel!r}")
        positive(name, "period_factor", settings.period_factor)

    @classmethod
    def ratings(cls, settings: Any = None) -> dict[str, Window]:
        """pymeasure's ``voltage_high`` range (±5 V) is into 50 ohm; into the high-impedance
        load set here the same output gives twice that."""
        high = control_window(Agilent33500, "voltage_high", "V")
        width = control_window(Agilent33500, "pulse_width", "s")
        out = {"amplitude_V": Window(-2 * high.high, 2 * high.high, "V")} if high else {}
        return {**out, **({"width_s": width} if width else {})}

    def _send(self, header: str, value: str) -> bool:
        """Write ``header value`` unless it is already set; return whether it was sent."""
        if self._sent.get(header) == value:
            return False
        self.driver.write(f"{header} {value}")
        self._sent[header] = value
        return True

    def configure(self) -> None:
        ch = self.settings.channel
        self.driver.write("*CLS")
        self.driver.write(f"OUTP{ch} OFF")
        self.driver.write(f"OUTP{ch}:LOAD INF")
        self.driver.write(f"SOUR{ch}:FUNC PULS")
        self.driver.write(f"SOUR{ch}:VOLT:LOW 0")
        self.driver.write(f"SOUR{ch}:BURS:MODE TRIG")
        self.driver.write(f"SOUR{ch}:BURS:STAT 1")
        self.driver.write(f"TRIG{ch}:SOUR BUS")
        drain_error_queue(self.name, self.driver.ask)

    def pulse(self, amplitude_V: float, width_s: float, count: int = 1) -> None:
        self.limits.amplitude_V.check(self.name, "pulse amplitude", amplitude_V)
        self.limits.width_s.check(self.name, "pulse width", width_s)
        self.limits.count.check(self.name, "pulse count", count)
        ch = self.settings.channel
        period_s = width_s * self.settings.period_factor
        changed = [
            # a longer period first, so that the width always fits in it
            self._send(f"SOUR{ch}:FUNC:PULS:PER", f"{period_s:g}"),
            self._send(f"SOUR{ch}:FUNC:PULS:WIDT", f"{width_s:g}"),
            self._send(f"SOUR{ch}:VOLT:HIGH", f"{abs(amplitude_V):g}"),
            self._send(f"OUTP{ch}:POL", "INV" if amplitude_V < 0 else "NORM"),
            self._send(f"SOUR{ch}:BURS:NCYC", f"{int(count)}"),
        ]
        if any(changed):
            try:
                drain_error_queue(self.name, self.driver.ask)
            except Exception:
                self._sent.clear()  # the instrument state is unknown: resend next time
                raise
        self._send(f"OUTP{ch}", "ON")
        self.driver.write("*TRG")
        self.timebase.sleep(count * period_s)

    def safe_state(self) -> str:
        ch = self.settings.channel
        self.driver.write(f"OUTP{ch} OFF")
        self._sent.pop(f"OUTP{ch}", None)
        return f"{self.name}: output {ch} off"

    def close(self) -> None:
        self.driver.adapter.close()
