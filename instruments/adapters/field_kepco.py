"""Kepco BOP (any rating) as the current supply of an electromagnet.

The supply runs in current mode with the compliance voltage from ``compliance_V``; the rating
(``max_current_A`` / ``max_voltage_V``, e.g. 12 A / 36 V for the BOP 36-12) comes from the
settings and any setpoint beyond it is refused.
"""

from __future__ import annotations

from typing import Any

from instruments.adapters.common import drain_error_queue
from instruments.adapters.field_base import ClosedLoopField, FieldSettings
from instruments.drivers.kepco_bop import KepcoBOP
from instruments.roles import FieldLimits, LimitError, Window


class KepcoBOPField(ClosedLoopField):
    """Electromagnet on a Kepco BOP, optionally closed on a gaussmeter."""

    driver: KepcoBOP

    @classmethod
    def _connect(cls, address: str, visa_library: str, settings: FieldSettings) -> Any:
        return KepcoBOP(
            address,
            visa_library=visa_library,
            max_voltage_V=settings.max_voltage_V,
            max_current_A=settings.max_current_A,
        )

    def configure(self) -> None:
        self.driver.operating_mode = "CURR"
        self.driver.voltage_setpoint = self.settings.compliance_V
        drain_error_queue(self.name, self.driver.ask)

    @classmethod
    def current_rating(cls, settings: FieldSettings) -> Window | None:
        return Window(-settings.max_current_A, settings.max_current_A, "A")

    @classmethod
    def check_settings(cls, name: str, settings: FieldSettings, limits: FieldLimits) -> None:
        super().check_settings(name, settings, limits)
        if not 0.0 < settings.compliance_V <= settings.max_voltage_V:
            limit = f"(0, {settings.max_voltage_V:g}] V (supply rating)"
            raise LimitError(name, "compliance voltage", settings.compliance_V, limit)

    def _write_current(self, current_A: float) -> None:
        self.driver.current_setpoint = current_A

    def _read_current_setpoint(self) -> float:
        return float(self.driver.current_setpoint)

    def _measure_current(self) -> float:
        return float(self.driver.current_A)

    def _output_enabled(self) -> bool:
        return bool(self.driver.output_enabled)

    def _set_output(self, enabled: bool) -> None:
        self.driver.output_enabled = enabled
