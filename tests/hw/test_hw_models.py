"""One smoke test per driver key on real hardware (see conftest: ``--device-address``)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from instruments.registry import DRIVERS, load_adapter
from instruments.roles import FieldSource, GateSource, HallReadout, PulseSource, Role, Router

pytestmark = pytest.mark.hw


class WallTimebase:
    """Real time for the bench (tests never assert on it)."""

    def now(self) -> float:
        import time

        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        import time

        if seconds > 0:
            time.sleep(seconds)


def _open(config: pytest.Config, key: str) -> Role:
    address = config.getoption("--device-address", default=None)
    if not address:
        pytest.skip("no --device-address given")
    if config.getoption("--device-driver", default=None) != key:
        pytest.skip(f"--device-driver is not {key}")
    cls: Any = load_adapter(key)
    settings = cls.settings_type(**json.loads(config.getoption("--device-settings", default="{}")))
    return cls.open(
        name=f"hw-{key}",
        address=address,
        visa_library=config.getoption("--visa-library", default=""),
        settings=settings,
        limits=cls.limits_type(),
        timebase=WallTimebase(),
    )


@pytest.mark.parametrize("key", sorted(k for k, d in DRIVERS.items() if d.role != "array"))
def test_model_opens_works_and_returns_to_its_safe_state(request, key: str) -> None:
    role = _open(request.config, key)
    try:
        if isinstance(role, GateSource):
            role.ramp_to(0.1)
            assert role.voltage_V == pytest.approx(0.1, abs=1e-3)
            assert abs(role.leakage_current_A()) < role.limits.compliance_A
        elif isinstance(role, FieldSource):
            assert abs(role.set_field(0.001) - 0.001) < 0.01
        elif isinstance(role, HallReadout):
            assert math.isfinite(role.read_voltage())
        elif isinstance(role, PulseSource):
            role.pulse(0.1, 1e-3, 1)
        elif isinstance(role, Router):
            role.connect(next(iter(role.settings.terminals)), 0)  # type: ignore[attr-defined]
            assert len(role.connections()) == 1
        assert role.snapshot()["name"] == f"hw-{key}"
    finally:
        print(role.safe_state())
        role.close()
