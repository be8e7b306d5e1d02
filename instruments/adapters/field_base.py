"""A magnet supply closed on a gaussmeter: the model-independent half of every field adapter.

Calibration: ``B = coil_T_per_A · I + remanence_T``. ``set_field`` computes the supply current
from the calibration, checks the field *and* the current against the station limits (nothing is
sent on a refusal), ramps at the configured rate, then — with a gaussmeter — reads the field and
corrects the current by ``ΔI = (B_target - B_measured) / coil_T_per_A`` until the error is within
``tolerance_T`` (at most ``max_corrections`` times). Without a gaussmeter the field is the
calibrated estimate from the measured supply current.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from instruments.adapters.common import OpensDriver, count_transactions, positive, ramp
from instruments.adapters.gaussmeter import ClosesTheLoop, Gaussmeter, GaussmeterSpec
from instruments.roles import (
    ConnectionLost,
    FieldLimits,
    FieldNotReached,
    FieldSource,
    Timebase,
    Window,
    check_max,
)


@dataclass
class FieldSettings:
    """Per-magnet settings (station file, ``settings:``).

    ``coil_T_per_A`` and ``remanence_T``: the calibration. ``tolerance_T``: closed-loop
    tolerance; ``max_corrections``: correction steps before giving up. ``settle_s``: wait after
    a ramp before reading the gaussmeter. ``ramp_T_per_s``: ``None`` means the station limit.
    ``ramp_step_T`` / ``ramp_min_step_s``: staircase of software ramps. ``compliance_V``: the
    supply's voltage limit in current mode. ``max_current_A`` / ``max_voltage_V``: the supply's
    rating (model dependent). ``gaussmeter``: ``{driver, address[, range_index]}`` or ``None``.
    """

    coil_T_per_A: float = 0.05
    remanence_T: float = 0.0
    tolerance_T: float = 2e-4
    max_corrections: int = 5
    settle_s: float = 0.1
    ramp_T_per_s: float | None = None
    ramp_step_T: float = 1e-3
    ramp_min_step_s: float = 0.01
    compliance_V: float = 10.0
    max_current_A: float = 12.0
    max_voltage_V: float = 36.0
    gaussmeter: dict[str, Any] | None = None


class ClosedLoopField(ClosesTheLoop, OpensDriver, FieldSource):
    """Field source on top of a current supply; subclasses implement the ``_primitives``."""

    settings_type: ClassVar[type] = FieldSettings
    has_output_switch: ClassVar[bool] = True
    settings: FieldSettings

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
        # Current (A) the closed loop last had to add to the calibration: fed forward to the
        # next setpoint, so a remanence the calibration misses does not make every new field
        # first land beyond its target (for settle_s) before the correction
        self._trim_A = 0.0
        self.check_settings(name, settings, limits)
        self.ramp_rate_T_per_s = settings.ramp_T_per_s or limits.ramp_T_per_s
        count_transactions(self, driver)

    @classmethod
    def check_settings(cls, name: str, settings: FieldSettings, limits: FieldLimits) -> None:
        """Refuse settings the supply cannot take: run by the station loader (no instrument
        opened) and again at construction."""
        positive(name, "coil_T_per_A", abs(settings.coil_T_per_A))
        positive(name, "tolerance_T", settings.tolerance_T)
        positive(name, "ramp_step_T", settings.ramp_step_T)
        positive(name, "ramp_min_step_s", settings.ramp_min_step_s)
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
    def ratings(cls, settings: FieldSettings) -> dict[str, Window]:
        """The supply's rating per station limit (the station check compares the limits the
        file sets; the current is also refused beyond it at every setpoint)."""
        rating = cls.current_rating(settings)
        return {} if rating is None else {"current_A": rating}

    @classmethod
    def current_rating(cls, settings: FieldSettings) -> Window | None:
        """The supply's output current range (None: not declared)."""
        return None

    @abstractmethod
    def configure(self) -> None:
        """Current mode, compliance; then the error queue (InstrumentError)."""

    @classmethod
    def observe(
        cls,
        *,
        name: str,
        address: str,
        visa_library: str,
        settings: Any,
        limits: FieldLimits,
        timebase: Timebase,
    ) -> ClosedLoopField:
        """The supply opened for reading only: nothing configured, no gaussmeter, nothing
        written (a monitor next to a run that holds the bench, e.g. through an instrument
        server). Only :meth:`programmed` is meant to be called on it."""
        driver = cls._connect(address, visa_library, settings)
        return cls(name=name, driver=driver, settings=settings, limits=limits, timebase=timebase)

    def programmed(self) -> tuple[float, bool]:
        """(programmed current in A, output on): setpoint queries, no measurement."""
        return self._read_current_setpoint(), self._output_enabled()

    # ------------------------------------------------------------------ primitives
    @abstractmethod
    def _write_current(self, current_A: float) -> None: ...

    @abstractmethod
    def _read_current_setpoint(self) -> float: ...

    @abstractmethod
    def _measure_current(self) -> float: ...

    @abstractmethod
    def _output_enabled(self) -> bool: ...

    @abstractmethod
    def _set_output(self, enabled: bool) -> None: ...

    def _check_current_rating(self, current_A: float) -> None:
        """Refuse a current beyond the supply's rating (subclasses with a rating)."""
        rating = self.current_rating(self.settings)
        if rating is not None:
            rating.check(self.name, "magnet current (supply rating)", current_A)

    def _approach(self, start_A: float, stop_A: float) -> None:
        """Software ramp at the configured rate; supplies that ramp themselves override this."""
        ramp(
            self.timebase,
            start_A,
            stop_A,
            self.ramp_rate_T_per_s / abs(self.settings.coil_T_per_A),
            self.settings.ramp_step_T / abs(self.settings.coil_T_per_A),
            self.settings.ramp_min_step_s,
            self._write_current,
        )

    # ------------------------------------------------------------------ role
    def current_for(self, field_T: float) -> float:
        """The supply current (A) that the calibration assigns to ``field_T``."""
        return (field_T - self.settings.remanence_T) / self.settings.coil_T_per_A

    def _check_current(self, current_A: float) -> float:
        self.limits.current_A.check(self.name, "magnet current", current_A)
        self._check_current_rating(current_A)
        return current_A

    def _go_to(self, current_A: float) -> None:
        start_A = self._read_current_setpoint()
        if not self._output_enabled():
            if start_A != 0.0:
                self._write_current(0.0)
            start_A = 0.0
            self._set_output(True)
        self._approach(start_A, current_A)

    def set_field(self, field_T: float) -> float:
        self.limits.field_T.check(self.name, "field", field_T)
        current_A = self._check_current(self.current_for(field_T) + self._trim_A)
        self._go_to(current_A)
        self.timebase.sleep(self.settings.settle_s)
        measured_T = self.field_T()
        if self.gaussmeter is None:
            return measured_T
        for _ in range(self.settings.max_corrections):
            error_T = field_T - measured_T
            if abs(error_T) <= self.settings.tolerance_T:
                self._trim_A = current_A - self.current_for(field_T)
                return measured_T
            current_A = self._check_current(current_A + error_T / self.settings.coil_T_per_A)
            self._go_to(current_A)
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
        return self.settings.coil_T_per_A * self._measure_current() + self.settings.remanence_T

    def safe_state(self) -> str:
        rate_A_per_s = self.ramp_rate_T_per_s / abs(self.settings.coil_T_per_A)
        try:
            start_A = self._read_current_setpoint()
            enabled = self._output_enabled()
        except Exception as exc:
            self._write_current(0.0)
            self._set_output(False)
            return f"{self.name}: state unreadable ({exc}); current set to 0 A, output off"
        if enabled and start_A != 0.0:
            self._approach(start_A, 0.0)
            done = f"ramped magnet from {start_A:g} A to 0 A at {rate_A_per_s:g} A/s"
        else:
            if start_A != 0.0:
                self._write_current(0.0)
            done = "magnet at 0 A"
        # The coil current lags the supply by L/R: wait before calling the field zero.
        self.timebase.sleep(self.settings.settle_s)
        if self.gaussmeter is not None:
            done += ", " + self._remanence_report(self.gaussmeter)
        self._set_output(False)
        off = "output off" if self.has_output_switch else "no output switch (output follows 0 A)"
        return f"{self.name}: {done}, {off}"

    @staticmethod
    def _remanence_report(meter: Gaussmeter) -> str:
        """The field left after zeroing; a dropped gaussmeter is reconnected to read it."""
        reconnected = ""
        for attempt in range(2):
            try:
                return f"{reconnected}field now {meter.field_T() * 1e3:.3g} mT (remanence)"
            except ConnectionLost as exc:
                if attempt:
                    return f"gaussmeter unreadable ({exc})"
                meter.link.reconnect()
                reconnected = f"gaussmeter reconnected ({meter.link.address}), "
            except Exception as exc:
                return f"{reconnected}gaussmeter unreadable ({exc})"
        raise AssertionError("unreachable")

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "coil_T_per_A": self.settings.coil_T_per_A,
            "remanence_T": self.settings.remanence_T,
            "ramp_T_per_s": self.ramp_rate_T_per_s,
            "gaussmeter": self.settings.gaussmeter,
        }

    def close(self) -> None:
        if self.gaussmeter is not None:
            self.gaussmeter.close()
        self.driver.adapter.close()
