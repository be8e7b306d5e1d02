"""AMI Model 430 superconducting-magnet programmer as a field source (pymeasure's ``AMI430``).

The 430 ramps by itself in field units. Commands (Model 430 manual, remote interface):
``CONF:FIELD:UNITS 1`` (tesla), ``CONF:RAMP:RATE:UNITS 0`` (per second),
``CONF:RAMP:RATE:FIELD 1,r,Bmax`` (segment 1: rate r T/s up to Bmax), ``CONF:FIELD:TARG B``,
``RAMP``, ``ZERO``, ``STATE?`` (1 ramping, 2 holding, 7 quench, 8 at zero current …),
``FIELD:MAG?``, ``SYST:ERR?``. The greeting banner is read by pymeasure's driver at connect.

``set_field`` checks the field and its current equivalent (``B / coil_T_per_A``) against the
station limits, ramps, waits the ramp time, polls ``STATE?`` until HOLDING, and — with a
gaussmeter — corrects the target by the measured error until within ``tolerance_T``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pymeasure.instruments.ami import AMI430

from instruments.adapters.common import OpensDriver, count_transactions, drain_error_queue, positive
from instruments.adapters.field_base import FieldSettings
from instruments.adapters.gaussmeter import ClosesTheLoop, Gaussmeter, GaussmeterSpec
from instruments.roles import (
    FieldLimits,
    FieldNotReached,
    FieldSource,
    InstrumentError,
    Timebase,
    check_max,
)

HOLDING, QUENCH, AT_ZERO = 2, 7, 8
MAX_POLLS = 100


class AMI430Field(ClosesTheLoop, OpensDriver, FieldSource):
    """Superconducting magnet on an AMI 430; ``coil_T_per_A`` converts to the current limit."""

    settings_type: ClassVar[type] = FieldSettings
    settings: FieldSettings
    driver: AMI430

    def __init__(
        self,
        *,
        name: str,
        driver: Any,
        settings: FieldSettings,
        limits: FieldLimits,
        timebase: Timebase,
        gaussmeter: Gaussmeter | None = None,
    ) -> None:
        super().__init__(name, limits, timebase)
        self.driver = driver
        self.settings = settings
        self.gaussmeter = gaussmeter
        self.check_settings(name, settings, limits)
        self.ramp_rate_T_per_s = settings.ramp_T_per_s or limits.ramp_T_per_s
        count_transactions(self, driver)

    @classmethod
    def check_settings(cls, name: str, settings: FieldSettings, limits: FieldLimits) -> None:
        """Run by the station loader (no instrument opened) and again at construction."""
        positive(name, "coil_T_per_A", abs(settings.coil_T_per_A))
        if settings.gaussmeter:
            GaussmeterSpec.parse(name, settings.gaussmeter)
        check_max(
            name,
            "field ramp rate",
            positive(name, "ramp_T_per_s", settings.ramp_T_per_s or limits.ramp_T_per_s),
            limits.ramp_T_per_s,
            "T/s",
        )

    @classmethod
    def _connect(cls, address: str, visa_library: str, settings: FieldSettings) -> Any:
        return AMI430(address, visa_library=visa_library, read_termination="\r\n")

    def configure(self) -> None:
        bound_T = max(abs(self.limits.field_T.low), abs(self.limits.field_T.high))
        self.driver.write("CONF:FIELD:UNITS 1")
        self.driver.write("CONF:RAMP:RATE:UNITS 0")
        self.driver.write(f"CONF:RAMP:RATE:FIELD 1,{self.ramp_rate_T_per_s:g},{bound_T:g}")
        drain_error_queue(self.name, self.driver.ask)

    def _wait_for(self, states: tuple[int, ...], duration_s: float) -> int:
        self.timebase.sleep(duration_s)
        poll_s = max(self.settings.ramp_min_step_s, 0.01)
        for _ in range(MAX_POLLS):
            state = int(float(self.driver.ask("STATE?")))
            if state == QUENCH:
                raise InstrumentError(self.name, "STATE? reports a QUENCH")
            if state in states:
                return state
            self.timebase.sleep(poll_s)
        raise InstrumentError(self.name, f"STATE? never reached {states}")

    def _ramp_to(self, target_T: float) -> None:
        start_T = float(self.driver.ask("FIELD:MAG?"))
        self.driver.write(f"CONF:FIELD:TARG {target_T:g}")
        self.driver.write("RAMP")
        self._wait_for((HOLDING,), abs(target_T - start_T) / self.ramp_rate_T_per_s)

    def _check(self, target_T: float) -> None:
        self.limits.field_T.check(self.name, "field", target_T)
        self.limits.current_A.check(
            self.name, "magnet current", target_T / self.settings.coil_T_per_A
        )

    def set_field(self, field_T: float) -> float:
        self._check(field_T)
        target_T = field_T
        self._ramp_to(target_T)
        self.timebase.sleep(self.settings.settle_s)
        measured_T = self.field_T()
        if self.gaussmeter is None:
            return measured_T
        for _ in range(self.settings.max_corrections):
            if abs(field_T - measured_T) <= self.settings.tolerance_T:
                return measured_T
            target_T += field_T - measured_T
            self._check(target_T)
            self._ramp_to(target_T)
            self.timebase.sleep(self.settings.settle_s)
            measured_T = self.field_T()
        if abs(field_T - measured_T) <= self.settings.tolerance_T:
            return measured_T
        raise FieldNotReached(
            f"{self.name}: field {measured_T:.6g} T after {self.settings.max_corrections} "
            f"corrections, target {field_T:.6g} T ± {self.settings.tolerance_T:g} T"
        )

    def field_T(self) -> float:
        if self.gaussmeter is not None:
            return self.gaussmeter.field_T()
        return float(self.driver.ask("FIELD:MAG?"))

    def safe_state(self) -> str:
        try:
            start_T = float(self.driver.ask("FIELD:MAG?"))
        except Exception:
            start_T = self.limits.field_T.high  # unknown: allow the longest ramp
        self.driver.write("ZERO")
        self._wait_for((AT_ZERO, HOLDING), abs(start_T) / self.ramp_rate_T_per_s)
        return f"{self.name}: ZERO — ramped from {start_T:g} T to zero current"

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "ramp_T_per_s": self.ramp_rate_T_per_s}

    def close(self) -> None:
        if self.gaussmeter is not None:
            self.gaussmeter.close()
        self.driver.adapter.close()
