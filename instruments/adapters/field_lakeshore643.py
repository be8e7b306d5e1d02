"""Lake Shore 643 electromagnet supply as a field source (our driver).

The 643 ramps by itself: the adapter sets ``RATE`` (the configured rate converted to A/s through
``coil_T_per_A``) and ``LIMIT`` once, then each move is one ``SETI``; it waits the ramp time and
polls ``RDGI?`` until the output is within the current equivalent of ``tolerance_T``. There is
no output switch: the safe state is ``SETI 0`` at ``RATE``.
"""

from __future__ import annotations

from typing import Any

from instruments.adapters.field_base import ClosedLoopField, FieldSettings
from instruments.drivers.lakeshore643 import MAX_CURRENT_A, LakeShore643
from instruments.roles import InstrumentError, Window

MAX_POLLS = 50  # RDGI? polls after the nominal ramp time before giving up


class LakeShore643Field(ClosedLoopField):
    """Electromagnet on a Lake Shore 643, optionally closed on a gaussmeter."""

    driver: LakeShore643
    has_output_switch = False

    @classmethod
    def _connect(cls, address: str, visa_library: str, settings: FieldSettings) -> Any:
        return LakeShore643(address, visa_library=visa_library)

    @property
    def rate_A_per_s(self) -> float:
        return self.ramp_rate_T_per_s / abs(self.settings.coil_T_per_A)

    def configure(self) -> None:
        self.driver.clear()
        max_current_A = max(abs(self.limits.current_A.low), abs(self.limits.current_A.high))
        self.driver.limits = (min(max_current_A, MAX_CURRENT_A), self.rate_A_per_s)
        self.driver.ramp_rate_A_per_s = self.rate_A_per_s
        self._check_errors()

    def _check_errors(self) -> None:
        hardware, operational = (int(v) for v in self.driver.values("ERST?")[:2])
        if hardware or operational:
            raise InstrumentError(
                self.name, f"ERST? reports hardware errors {hardware}, operational {operational}"
            )

    @classmethod
    def current_rating(cls, settings: FieldSettings) -> Window | None:
        return Window(-MAX_CURRENT_A, MAX_CURRENT_A, "A")

    def _write_current(self, current_A: float) -> None:
        self.driver.current_setpoint_A = current_A

    def _read_current_setpoint(self) -> float:
        return float(self.driver.current_setpoint_A)

    def _measure_current(self) -> float:
        return float(self.driver.current_A)

    def _output_enabled(self) -> bool:
        return True

    def _set_output(self, enabled: bool) -> None:
        """No output switch on the 643: the output follows SETI."""

    def _approach(self, start_A: float, stop_A: float) -> None:
        self._write_current(stop_A)
        self.timebase.sleep(abs(stop_A - start_A) / self.rate_A_per_s)
        tolerance_A = self.settings.tolerance_T / abs(self.settings.coil_T_per_A)
        poll_s = max(self.settings.ramp_min_step_s, 0.01)
        for _ in range(MAX_POLLS):
            if abs(self._measure_current() - stop_A) <= tolerance_A:
                return
            self.timebase.sleep(poll_s)
        raise InstrumentError(self.name, f"output did not reach {stop_A:g} A (RDGI?)")
