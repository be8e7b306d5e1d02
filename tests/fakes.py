"""In-process fake roles for engine tests (the physics tests use the simulated twins)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from instruments.roles import FieldSource, GateSource, HallReadout, Timebase


@dataclass
class FakeSettings:
    fail_at_read: int = -1  # raise on the n-th read (fault injection)


class _Fake:
    settings_type = FakeSettings

    @classmethod
    def open(
        cls,
        *,
        name: str,
        address: str,
        visa_library: str,
        settings: Any,
        limits: Any,
        timebase: Timebase,
    ) -> Any:
        role = cls(name, limits, timebase)  # type: ignore[call-arg]
        role.settings = settings
        role.address = address
        return role


class FakeGate(_Fake, GateSource):
    def __init__(self, name: str, limits: Any, timebase: Timebase) -> None:
        super().__init__(name, limits, timebase)
        self._v = 0.0
        self.output = False

    @property
    def voltage_V(self) -> float:
        return self._v

    def ramp_to(self, voltage_V: float) -> None:
        self.limits.voltage_V.check(self.name, "gate voltage", voltage_V)
        self.output, self._v = True, voltage_V

    def set_compliance(self, current_A: float) -> None:
        pass

    def leakage_current_A(self) -> float:
        return 0.0

    def tripped(self) -> bool:
        return False

    def safe_state(self) -> str:
        was, self._v, self.output = self._v, 0.0, False
        return f"ramped {was:g} V -> 0 V, output off"


class FakeField(_Fake, FieldSource):
    def __init__(self, name: str, limits: Any, timebase: Timebase) -> None:
        super().__init__(name, limits, timebase)
        self.field = 0.0

    def set_field(self, field_T: float) -> float:
        self.field = self.limits.field_T.check(self.name, "field", field_T)
        return self.field

    def field_T(self) -> float:
        return self.field

    def safe_state(self) -> str:
        self.field = 0.0
        return "field 0 T, output off"


class FakeHall(_Fake, HallReadout):
    def __init__(self, name: str, limits: Any, timebase: Timebase) -> None:
        super().__init__(name, limits, timebase)
        self.reads = 0

    @property
    def excitation_A(self) -> float:
        return 1e-4

    def read_voltage(self) -> float:
        self.reads += 1
        if self.reads == self.settings.fail_at_read:
            raise TimeoutError(f"{self.name}: VI_ERROR_TMO (injected)")
        return 1e-4 * (1.0 if self.reads % 2 else -1.0)

    def safe_state(self) -> str:
        return "nothing to do"
