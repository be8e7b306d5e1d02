"""Keithley 2636B (TSP) as a gate source, channel A or B (pymeasure's ``Keithley2600``).

pymeasure's channel properties format numbers with ``%f`` (six decimals: a 100 nA compliance
would be sent as ``0.000000``), so this adapter writes its own TSP statements, from the 2600B
reference manual: ``smua.source.func=smua.OUTPUT_DCVOLTS``, ``smua.source.levelv=x``,
``smua.source.limiti=i``, ``smua.measure.nplc=n``, ``smua.source.output=1``, and the queries
``print(smua.source.levelv)``, ``print(smua.source.output)``, ``print(smua.measure.i())``,
``print(errorqueue.next())`` (``code<TAB>message<TAB>...``; code 0 means empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pymeasure.instruments.keithley import Keithley2600
from pymeasure.instruments.keithley.keithley2600 import Channel

from instruments.adapters.common import drain_error_queue
from instruments.adapters.gate_base import GateSettings, RampedGate
from instruments.roles import GateLimits

COMPLIANCE_FRACTION = 0.995


@dataclass
class Keithley2636BGateSettings(GateSettings):
    """Gate settings plus the SMU channel, ``"a"`` or ``"b"``."""

    channel: str = "a"


def _number(reply: str) -> float:
    """A TSP number; measurements may carry a TAB-separated status after the value."""
    return float(reply.strip().split("\t")[0])


class Keithley2636BGate(RampedGate):
    """Gate voltage from one channel of a Keithley 2636B."""

    driver_type: ClassVar[type[Any]] = Keithley2600

    settings_type: ClassVar[type] = Keithley2636BGateSettings
    voltage_control = (Channel, "source_voltage")
    compliance_control = (Channel, "compliance_current")
    settings: Keithley2636BGateSettings
    driver: Keithley2600

    @classmethod
    def check_settings(
        cls, name: str, settings: Keithley2636BGateSettings, limits: GateLimits
    ) -> None:
        super().check_settings(name, settings, limits)
        if settings.channel.lower() not in ("a", "b"):
            got = settings.channel
            raise ValueError(f"{name}: setting channel must be 'a' or 'b', got {got!r}")

    @property
    def smu(self) -> str:
        return f"smu{self.settings.channel.lower()}"

    def configure(self) -> None:
        smu = self.smu
        self.driver.write(f"{smu}.source.func={smu}.OUTPUT_DCVOLTS")
        self.driver.write(f"{smu}.source.limiti={self.compliance_A:.6g}")
        self.driver.write(f"{smu}.measure.nplc={self.settings.nplc:.6g}")
        self._check_errors()

    def _write_level(self, voltage_V: float) -> None:
        self.driver.write(f"{self.smu}.source.levelv={voltage_V:.6g}")

    def _read_level(self) -> float:
        return _number(self.driver.ask(f"print({self.smu}.source.levelv)"))

    def _output_enabled(self) -> bool:
        return _number(self.driver.ask(f"print({self.smu}.source.output)")) != 0.0

    def _set_output(self, enabled: bool) -> None:
        self.driver.write(f"{self.smu}.source.output={int(enabled)}")

    def _write_compliance(self, current_A: float) -> None:
        self.driver.write(f"{self.smu}.source.limiti={current_A:.6g}")

    def _check_errors(self) -> None:
        drain_error_queue(self.name, self.driver.ask, "print(errorqueue.next())")

    def leakage_current_A(self) -> float:
        return _number(self.driver.ask(f"print({self.smu}.measure.i())"))

    def tripped(self) -> bool:
        return abs(self.leakage_current_A()) >= COMPLIANCE_FRACTION * self.compliance_A
