"""Every fault kind on every role of the default, delta and array stations.

Each run arms one fault (``sim_backend.faults``) on one instrument at a transaction number
taken from a clean run of the same protocol, and asserts on the outcome as the bench sees it:
the instruments' own state (the twins) is safe, nothing implausible is in the database, every
point the run took is stored, and a failed run names the instrument.
"""

from __future__ import annotations

import pytest
from harness import KINDS, SCENARIOS, STATIONS, Verdict, role_addresses, run_with_fault
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labctl.station import load_station

ROLES = [
    (scenario, role)
    for scenario, (station_file, _, _) in SCENARIOS.items()
    for role in role_addresses(load_station(STATIONS / station_file))
]
# Replies that fail validation are asked again, so these may end "completed" (recovered);
# a lost *write* (timeout), or a trip forced while an output is off, leaves nothing to see.
RECOVERABLE = {"timeout", "garbled", "truncated", "compliance"}


def assert_outcome(v: Verdict) -> None:
    where = f"{v.kind} at {v.at} on {v.station}/{v.role} ({v.address}): {v.outcome.error}"
    assert v.fired, f"the fault never fired: {where}"
    assert v.safe, f"not in the safe state {v.unsafe}: {where}; {v.outcome.safe_state}"
    assert v.points_ok, f"an implausible value was stored: {where}"
    assert v.stored == v.outcome.points, f"points lost: {v.stored}/{v.outcome.points}: {where}"
    assert v.metadata.get("status") == v.outcome.status
    if v.outcome.status == "completed":
        assert v.kind in RECOVERABLE, f"an unrecoverable fault went unnoticed: {where}"
        return
    assert v.outcome.status == "failed", where
    instrument = v.role.split(".")[0]
    assert v.outcome.error and instrument in v.outcome.error, where
    assert not any("FAILED" in line for line in v.outcome.safe_state), v.outcome.safe_state
    if v.kind == "dropped":
        assert v.address in v.outcome.error, where
        assert v.reconnected, f"no reconnection in the safe state: {v.outcome.safe_state}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("scenario", "role"), ROLES)
def test_fault_mid_run(scenario: str, role: str, kind: str, counts, tmp_path) -> None:
    n = counts(scenario)[role]
    assert_outcome(run_with_fault(scenario, role, kind, max(1, n // 2), tmp_path))


@pytest.mark.parametrize("kind", ["truncated", "dropped", "error"])
@pytest.mark.parametrize(("scenario", "role"), [r for r in ROLES if r[0] == "default"])
def test_fault_early(scenario: str, role: str, kind: str, tmp_path) -> None:
    assert_outcome(run_with_fault(scenario, role, kind, 3, tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("scenario", "role"), ROLES)
def test_fault_late(scenario: str, role: str, kind: str, counts, tmp_path) -> None:
    n = counts(scenario)[role]
    assert_outcome(run_with_fault(scenario, role, kind, max(1, n - 2), tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("scenario", "role"), ROLES)
def test_fault_at_any_transaction(scenario: str, role: str, kind: str, counts, tmp_path) -> None:
    n = counts(scenario)[role]

    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(min_value=1, max_value=max(1, n)))
    def check(at: int) -> None:
        assert_outcome(run_with_fault(scenario, role, kind, at, tmp_path))

    check()


@pytest.mark.parametrize("scenario", ["default", "delta"])
@pytest.mark.parametrize("fraction", [0.3, 0.5])
def test_a_gate_compliance_trip_in_a_gate_program_fails_the_run(
    scenario: str, fraction: float, counts, tmp_path
) -> None:
    """A trip on a gate transaction on the way up or at the plateau is a leaking dielectric:
    the run must not end "completed" (an injected trip lasts while the output is on)."""
    n = counts(scenario)["gate"]
    verdict = run_with_fault(scenario, "gate", "compliance", max(1, int(n * fraction)), tmp_path)
    assert_outcome(verdict)
    assert verdict.outcome.status == "failed", verdict.outcome.error
    assert "compliance trip" in (verdict.outcome.error or "")
    assert verdict.metadata["instrument_error"]["kind"] == "ComplianceTrip"
