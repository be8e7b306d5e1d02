"""A gate source that ramps: the model-independent half of every gate adapter.

A concrete adapter supplies a handful of primitives (write the level, read it back, switch the
output, set the compliance, measure the current) and gets from here: limit checks before
anything is sent, ramps at the configured rate, and a safe state that works on a half-configured
instrument (ramp to 0 V if the output is on, then output off).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from instruments.adapters.common import OpensDriver, count_transactions, positive, ramp
from instruments.ratings import control_window
from instruments.roles import (
    ComplianceTrip,
    GateLimits,
    GateSource,
    LimitError,
    Timebase,
    Window,
    check_max,
)


@dataclass
class GateSettings:
    """Per-instrument gate settings (station file, ``settings:``).

    ``ramp_V_per_s`` / ``compliance_A``: ``None`` means the station limit itself.
    ``ramp_step_V``: the largest voltage step of a ramp; ``ramp_min_step_s``: the shortest
    time between two steps. ``nplc``: integration time of the current measurement in power-line
    cycles. ``trip_check_s``: seconds between compliance checks during a gate pulse's plateau
    (``None``: at its start and end only).
    """

    ramp_V_per_s: float | None = None
    compliance_A: float | None = None
    ramp_step_V: float = 0.01
    ramp_min_step_s: float = 0.005
    nplc: float = 1.0
    trip_check_s: float | None = None


class RampedGate(OpensDriver, GateSource):
    """Gate source on top of a driver; subclasses implement the ``_primitives``."""

    settings_type: ClassVar[type] = GateSettings
    # The rating comes from the driver's validator of (the class holding) the level and the
    # compliance where it has one; rating_V / rating_A where it does not.
    voltage_control: ClassVar[tuple[type, str] | None] = None
    compliance_control: ClassVar[tuple[type, str] | None] = None
    rating_V: ClassVar[float] = 200.0  # the instrument's largest output voltage
    rating_A: ClassVar[float] = 1.0  # the instrument's largest current compliance
    compliance_rating: ClassVar[str] = "the instrument rating"
    settings: GateSettings

    def __init__(
        self,
        *,
        name: str,
        driver: Any,
        settings: GateSettings,
        limits: GateLimits,
        timebase: Timebase,
    ) -> None:
        super().__init__(name, limits, timebase)
        self.driver = driver
        self.settings = settings
        self.trip_check_s = settings.trip_check_s
        self.check_settings(name, settings, limits)
        self.ramp_rate_V_per_s = settings.ramp_V_per_s or limits.ramp_V_per_s
        self.compliance_A = self._check_compliance(settings.compliance_A or limits.compliance_A)
        self._held_V = 0.0  # the level the adapter left the output at (0: nothing to watch)
        count_transactions(self, driver)

    @classmethod
    def ratings(cls, settings: Any = None) -> dict[str, Window]:
        """The instrument's rating per station limit (what its driver accepts)."""
        voltage = cls.voltage_control and control_window(*cls.voltage_control, "V")
        compliance = cls.compliance_control and control_window(*cls.compliance_control, "A")
        return {
            "voltage_V": voltage or Window(-cls.rating_V, cls.rating_V, "V"),
            "compliance_A": compliance or Window(0.0, cls.rating_A, "A"),
        }

    @classmethod
    def check_settings(cls, name: str, settings: GateSettings, limits: GateLimits) -> None:
        """Refuse station limits beyond the rating and settings the instrument cannot take:
        run by the station loader (no instrument opened) and again at construction."""
        ratings = cls.ratings()
        voltage, compliance = ratings["voltage_V"], ratings["compliance_A"]
        for bound in (limits.voltage_V.low, limits.voltage_V.high):
            if not voltage.contains(bound):
                rating = f"the instrument rating {voltage}"
                raise LimitError(name, "station limit voltage_V", bound, rating)
        if limits.compliance_A > compliance.high:
            rating = f"the instrument rating <= {compliance.high:g} A"
            raise LimitError(name, "station limit compliance_A", limits.compliance_A, rating)
        positive(name, "ramp_step_V", settings.ramp_step_V)
        positive(name, "ramp_min_step_s", settings.ramp_min_step_s)
        if settings.trip_check_s is not None:
            positive(name, "trip_check_s", settings.trip_check_s)
        check_max(
            name,
            "gate ramp rate",
            positive(name, "ramp_V_per_s", settings.ramp_V_per_s or limits.ramp_V_per_s),
            limits.ramp_V_per_s,
            "V/s",
        )
        compliance_A = positive(name, "compliance_A", settings.compliance_A or limits.compliance_A)
        check_max(name, "compliance current", compliance_A, limits.compliance_A, "A")
        if compliance_A < ratings["compliance_A"].low:
            rating = f"{ratings['compliance_A']} ({cls.compliance_rating})"
            raise LimitError(name, "compliance current", compliance_A, rating)

    # ------------------------------------------------------------------ construction
    @abstractmethod
    def configure(self) -> None:
        """Voltage source, compliance, NPLC; then read the error queue (InstrumentError)."""

    # ------------------------------------------------------------------ primitives
    @abstractmethod
    def _write_level(self, voltage_V: float) -> None: ...

    @abstractmethod
    def _read_level(self) -> float: ...

    @abstractmethod
    def _output_enabled(self) -> bool: ...

    @abstractmethod
    def _set_output(self, enabled: bool) -> None: ...

    @abstractmethod
    def _write_compliance(self, current_A: float) -> None: ...

    @abstractmethod
    def _check_errors(self) -> None:
        """Read the error queue; raise :class:`InstrumentError` with the instrument's message."""

    # ------------------------------------------------------------------ role
    @property
    def voltage_V(self) -> float:
        return self._read_level()

    def ramp_to(self, voltage_V: float) -> None:
        self._ramp_to_plateau(voltage_V)
        if voltage_V != 0.0 and self.tripped():
            # A source action is where a leaking dielectric shows: checked after every ramp
            # away from 0 V (one measurement; a pulse checks at its plateau instead).
            action = self.safe_state()
            raise ComplianceTrip(
                f"{self.name}: compliance trip at {voltage_V:g} V, end of a ramp (compliance "
                f"{self.compliance_A:g} A): {action}"
            )

    def _ramp_to_plateau(self, voltage_V: float) -> None:
        self.limits.voltage_V.check(self.name, "gate voltage", voltage_V)
        start_V = self._read_level()
        if not self._output_enabled():
            # A programmed level behind an open output would appear as a step: start from 0 V.
            if start_V != 0.0:
                self._write_level(0.0)
            start_V = 0.0
            self._set_output(True)
        self._ramp(start_V, voltage_V)
        self._held_V = voltage_V

    def set_compliance(self, current_A: float) -> None:
        self.compliance_A = self._check_compliance(current_A)
        self._write_compliance(self.compliance_A)
        self._check_errors()

    def check_health(self) -> None:
        """Queued errors (serial poll, free), and while a gate voltage is held, the compliance:
        one measurement per check, only when the gate is away from 0 V."""
        super().check_health()
        if self._held_V != 0.0 and self.tripped():
            held_V = self._held_V
            action = self.safe_state()
            raise ComplianceTrip(
                f"{self.name}: compliance trip while holding {held_V:g} V (compliance "
                f"{self.compliance_A:g} A): {action}"
            )

    def safe_state(self) -> str:
        self._held_V = 0.0
        try:
            start_V = self._read_level()
            enabled = self._output_enabled()
        except Exception as exc:  # half-configured or confused: fall back to a hard zero
            self._write_level(0.0)
            self._set_output(False)
            return (
                f"{self.name}: state unreadable ({exc}); level set to 0 V without a ramp, "
                "output off"
            )
        if enabled and start_V != 0.0:
            self._ramp(start_V, 0.0)
            done = f"ramped gate from {start_V:g} V to 0 V at {self.ramp_rate_V_per_s:g} V/s"
        else:
            if start_V != 0.0:
                self._write_level(0.0)
            done = "gate at 0 V"
        self._set_output(False)
        return f"{self.name}: {done}, output off"

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "ramp_V_per_s": self.ramp_rate_V_per_s,
            "compliance_A": self.compliance_A,
            "nplc": self.settings.nplc,
        }

    def close(self) -> None:
        self.driver.adapter.close()

    # ------------------------------------------------------------------ helpers
    def _check_compliance(self, current_A: float) -> float:
        if not current_A > 0.0:
            raise LimitError(self.name, "compliance current", current_A, "> 0 A")
        return check_max(self.name, "compliance current", current_A, self.limits.compliance_A, "A")

    def _ramp(self, start_V: float, stop_V: float) -> None:
        ramp(
            self.timebase,
            start_V,
            stop_V,
            self.ramp_rate_V_per_s,
            self.settings.ramp_step_V,
            self.settings.ramp_min_step_s,
            self._write_level,
        )
