"""One smoke test per driver key on real hardware (see conftest: ``--device-address``)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from instruments.adapters.gaussmeter import Gaussmeter, GaussmeterSpec
from instruments.registry import DRIVERS, GAUSSMETERS, load_adapter
from instruments.roles import (
    FieldSource,
    GateSource,
    HallReadout,
    Limits,
    PulseSource,
    Role,
    Router,
    Window,
)

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


def _limits(limits_type: type[Limits], given: dict[str, Any]) -> Limits:
    """Station limits from ``--device-limits``: numbers, or ``[low, high]`` for a window."""
    defaults = limits_type()
    values: dict[str, Any] = {}
    for key, value in given.items():
        default = getattr(defaults, key)  # AttributeError names an unknown key
        values[key] = Window(*value, default.unit) if isinstance(default, Window) else value
    return limits_type(**values)


def _open(config: pytest.Config, key: str) -> Role:
    address = config.getoption("--device-address", default=None)
    if not address:
        pytest.skip("no --device-address given")
    if config.getoption("--device-driver", default=None) != key:
        pytest.skip(f"--device-driver is not {key}")
    cls: Any = load_adapter(key)
    settings = cls.settings_type(**json.loads(config.getoption("--device-settings", default="{}")))
    limits = _limits(cls.limits_type, json.loads(config.getoption("--device-limits", default="{}")))
    return cls.open(
        name=f"hw-{key}",
        address=address,
        visa_library=config.getoption("--visa-library", default=""),
        settings=settings,
        limits=limits,
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


class _Owner:
    """What a gaussmeter needs of its owning role: a transaction counter."""

    transactions = 0


@pytest.mark.parametrize("key", sorted(GAUSSMETERS))
def test_gaussmeter_reads_a_small_field_in_tesla(request, key: str) -> None:
    config = request.config
    address = config.getoption("--device-address", default=None)
    if not address:
        pytest.skip("no --device-address given")
    if config.getoption("--device-driver", default=None) != key:
        pytest.skip(f"--device-driver is not {key}")
    spec = GaussmeterSpec.parse(f"hw-{key}", {"driver": key, "address": address})
    owner = _Owner()
    meter = Gaussmeter.open(spec, config.getoption("--visa-library", default=""), owner)  # type: ignore[arg-type]
    try:
        field_T = meter.field_T()
        assert math.isfinite(field_T) and abs(field_T) < 35.0  # the 425/475 full scale
        assert owner.transactions > 0
    finally:
        meter.close()
