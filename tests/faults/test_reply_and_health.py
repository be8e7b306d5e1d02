"""Reply validation, instrument health and reconnection, each on one chosen transaction.

A small ``hold`` protocol (gate held at 0.25 V, field set, Hall voltage read each second) arms
one fault after a chosen number of points, so the fault lands on a known exchange. Outcomes
are judged from the twins' own state and from the database.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import STATIONS, lab, plausible, settled_state, unsafe_instruments
from pymeasure.instruments.srs import SR830
from pymeasure.test import expected_protocol

from instruments.adapters.readout_lockin import LockinSettings, SR830Readout
from instruments.roles import BadReply, ReadoutLimits
from labctl.api import Run, param, protocol
from labctl.clock import VirtualClock
from labctl.data import load_run
from labctl.engine import execute
from labctl.params import build_params
from labctl.protocol import ProtocolSpec, spec_of
from labctl.station import load_station
from sim_backend import faults

GATE, LOCKIN, MAGNET = "GPIB0::24::INSTR", "GPIB0::8::INSTR", "GPIB0::6::INSTR"


@dataclass(frozen=True)
class HoldParams:
    gate_V: float = param(0.25, unit="V", low=-3, high=3, help="gate voltage held")
    points: int = param(6, low=1, high=1000, help="Hall readings")


def _hold(run: Run, p: HoldParams) -> None:
    run.station.gate.ramp_to(p.gate_V)
    run.station.field.set_field(0.02)
    for _ in range(p.points):
        run.sleep(1.0)
        run.record(v_hall_V=run.station.hall.read_voltage())


@protocol("hold", columns={"v_hall_V": "V"})
def hold(run: Run, p: HoldParams) -> None:
    _hold(run, p)


@protocol("hold-tolerant", columns={"v_hall_V": "V"}, tolerates=(-222,))
def hold_tolerant(run: Run, p: HoldParams) -> None:
    _hold(run, p)


@dataclass
class Held:
    status: str
    error: str
    safe_state: list[str]
    values: list[float]
    metadata: dict[str, Any]
    unsafe: list[str]


def run_hold(tmp_path: Path, arm: Callable[[], Any], after_points: int = 2, fn: Any = hold) -> Held:
    """Run ``fn`` on the default station; ``arm()`` once ``after_points`` points are stored."""
    spec: ProtocolSpec = spec_of(fn)
    station = load_station(STATIONS / "simulated.yaml")
    clock = VirtualClock()
    lab()

    def on_run(run: Run) -> None:
        def arm_at(row: dict[str, Any]) -> None:
            if run.n_points == after_points:
                arm()

        run.subscribers.append(arm_at)

    db = tmp_path / "hold.db"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = execute(
                spec,
                build_params(HoldParams, {}, spec.name),
                station,
                db,
                on_run=on_run,
                handle_signals=False,
                clock=clock,
            )
    finally:
        faults.clear()
    info, points = load_run(db, outcome.run_id)
    values = [float(v) for v in points["v_hall_V"]] if len(points) else []
    assert len(values) == outcome.points  # every point the run took is in the database
    assert all(plausible(v, "v_hall_V") for v in values), values
    return Held(
        outcome.status,
        outcome.error or "",
        outcome.safe_state,
        values,
        info.metadata,
        unsafe_instruments(settled_state(clock)),
    )


def test_one_truncated_lockin_reply_is_asked_again_and_the_right_value_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="instruments"):
        held = run_hold(tmp_path, lambda: faults.inject(LOCKIN, "truncated", at=1))
    assert held.status == "completed", held.error
    assert len(held.values) == 6 and held.metadata["reply_retries"] == 1
    assert not held.unsafe
    retry = [r.getMessage() for r in caplog.records if "asking again" in r.getMessage()]
    assert retry and "hall" in retry[0] and "SR830 @ GPIB0::8::INSTR" in retry[0]
    # The SR830 driver reads without a termination character, so the cut reply (8.8976 of
    # 8.8976e-05) is caught by the range check: beyond the lock-in's sensitivity.
    assert "beyond the instrument's range" in retry[0] and "OUTP?1" in retry[0]


@pytest.mark.parametrize("kind", ["truncated", "garbled", "timeout"])
def test_a_reply_bad_on_every_try_fails_the_run_naming_the_exchange(
    tmp_path: Path, kind: str
) -> None:
    held = run_hold(tmp_path, lambda: faults.inject(LOCKIN, kind, at=1, times=3))
    assert held.status == "failed"
    for part in ("hall", "SR830", LOCKIN, "OUTP?", "bad reply", "3 tries"):
        assert part in held.error, held.error
    assert len(held.values) == 2  # the points before the fault, and no bad one
    assert held.metadata["instrument_error"]["instrument"] == "hall"
    assert not held.unsafe, held.safe_state


def test_a_reading_beyond_the_lockin_sensitivity_is_refused() -> None:
    class Timebase:
        def now(self) -> float:
            return 0.0

        def sleep(self, seconds: float) -> None:
            pass

    with expected_protocol(SR830, [("OUTP?1", "8.897")] * 3) as driver:
        hall = SR830Readout(
            name="hall",
            driver=driver,
            settings=LockinSettings(),
            limits=ReadoutLimits(),
            timebase=Timebase(),
        )
        with pytest.raises(BadReply, match=r"8\.897 is beyond the instrument's range ±0\.0011"):
            hall.read_voltage()
    assert hall.reply_retries == 2


def test_an_instrument_error_mid_run_fails_it_with_the_code_in_the_metadata(
    tmp_path: Path,
) -> None:
    held = run_hold(tmp_path, lambda: faults.inject(GATE, "error", at=1, code=-222))
    assert held.status == "failed"
    assert '-222,"Device-specific error"' in held.error and "gate" in held.error
    assert held.metadata["instrument_error"]["codes"] == [-222]
    assert held.metadata["status"] == "failed"
    assert 2 <= len(held.values) < 6
    assert not held.unsafe


def test_a_protocol_may_tolerate_an_error_code(tmp_path: Path) -> None:
    arm = lambda: faults.inject(GATE, "error", at=1, code=-222)  # noqa: E731
    held = run_hold(tmp_path, arm, fn=hold_tolerant)
    assert held.status == "completed", held.error
    assert len(held.values) == 6
    assert spec_of(hold_tolerant).tolerates == frozenset({-222})


def test_a_compliance_trip_while_the_gate_is_held_reaches_the_safe_state(
    tmp_path: Path,
) -> None:
    held = run_hold(tmp_path, lambda: faults.inject(GATE, "compliance", at=1))
    assert held.status == "failed"
    assert "compliance trip while holding 0.25 V" in held.error
    assert held.metadata["instrument_error"]["kind"] == "ComplianceTrip"
    assert not held.unsafe
    gate = lab().by_name["gate_smu"].journal_state()
    assert gate["output"] is False and gate["level_V"] == 0.0


def test_a_dropped_gate_is_reconnected_and_brought_to_0_V(tmp_path: Path) -> None:
    held = run_hold(tmp_path, lambda: faults.inject(GATE, "dropped", at=1))
    assert held.status == "failed"
    assert "gate" in held.error and "connection lost" in held.error and GATE in held.error
    gate_line = next(line for line in held.safe_state if line.startswith("gate"))
    assert f"reconnected {GATE}" in gate_line and "to 0 V" in gate_line
    assert gate_line.endswith("output off")
    assert "FAILED" not in gate_line
    assert lab().by_name["gate_smu"].journal_state()["output"] is False
    assert not held.unsafe


def test_a_magnet_dropped_during_the_safe_state_is_reconnected_and_zeroed(
    tmp_path: Path,
) -> None:
    # The hold sends the magnet nothing after set_field: the drop hits the safe state.
    held = run_hold(tmp_path, lambda: faults.inject(MAGNET, "dropped", at=1), after_points=5)
    magnet_line = next(line for line in held.safe_state if line.startswith("magnet"))
    assert f"reconnected {MAGNET}" in magnet_line and "output off" in magnet_line
    bop = lab().by_name["bop"].journal_state()
    assert bop["output"] is False and bop["current_A"] == 0.0
    assert not held.unsafe
