"""The GateSource contract, on every gate source (see implementations.py for the list)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from instruments.roles import GateLimits, GateSource
from labctl.clock import VirtualClock

from .helpers import finite_float, outside, refused, said
from .implementations import IMPLEMENTATIONS

GATES = IMPLEMENTATIONS["gate"]


@pytest.fixture(scope="module", params=sorted(GATES))
def gate(
    request: pytest.FixtureRequest,
    suite_clock: VirtualClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GateSource]:
    with GATES[request.param].open("gate", tmp_path_factory.mktemp("gate"), suite_clock) as role:
        assert isinstance(role, GateSource)
        yield role


def test_plays_the_gate_role_with_the_gate_limits(gate: GateSource) -> None:
    assert gate.role == "gate" and type(gate.limits) is GateLimits
    assert gate.limits_type is GateLimits


def test_ramp_reaches_the_voltage_and_reports_finite_readings(gate: GateSource) -> None:
    sent = gate.transactions
    gate.ramp_to(0.5)
    assert finite_float(gate.voltage_V) == pytest.approx(0.5, abs=1e-6)
    assert abs(finite_float(gate.leakage_current_A())) < gate.limits.compliance_A
    assert gate.tripped() is False
    assert gate.transactions > sent  # every instrument exchange is counted
    said(gate.safe_state())


@pytest.mark.parametrize("where", ["above", "below", "nan"])
def test_a_voltage_outside_the_limits_is_refused_not_clipped(gate: GateSource, where: str) -> None:
    gate.ramp_to(0.25)
    value = dict(zip(("above", "below", "nan"), outside(gate.limits.voltage_V), strict=True))[where]
    refused(gate, "gate voltage", gate.limits.voltage_V, lambda: gate.ramp_to(value))
    assert gate.voltage_V == pytest.approx(0.25, abs=1e-6)  # left where it was
    said(gate.safe_state())


def test_a_compliance_above_the_limit_is_refused(gate: GateSource) -> None:
    limit_A = gate.limits.compliance_A
    refused(
        gate, "compliance current", f"<= {limit_A:g} A", lambda: gate.set_compliance(2 * limit_A)
    )
    refused(gate, "compliance current", "> 0 A", lambda: gate.set_compliance(0.0))
    gate.set_compliance(limit_A)  # at the limit: accepted


def test_a_pulse_outside_the_limits_is_refused(gate: GateSource) -> None:
    duration = gate.limits.pulse_duration_s
    refused(gate, "gate pulse duration", duration, lambda: gate.pulse(0.5, duration.high * 2))
    refused(gate, "gate pulse duration", duration, lambda: gate.pulse(0.5, duration.low / 2))
    voltage = gate.limits.voltage_V
    refused(gate, "gate voltage", voltage, lambda: gate.pulse(voltage.high + 1.0, 0.01))


def test_a_pulse_returns_its_leakage_and_ends_at_zero(gate: GateSource) -> None:
    leak_A = gate.pulse(1.0, 0.05)
    assert abs(finite_float(leak_A)) < gate.limits.compliance_A
    assert gate.voltage_V == 0.0
    assert gate.tripped() is False


def test_the_safe_state_is_zero_volts_and_can_be_repeated(gate: GateSource) -> None:
    gate.ramp_to(-0.5)
    said(gate.safe_state())
    assert gate.voltage_V == 0.0
    said(gate.safe_state())  # idempotent: a second way out after the first
    assert gate.voltage_V == 0.0
    gate.check_health()  # healthy: raises nothing
