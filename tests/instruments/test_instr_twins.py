"""Adapters against the simulated twins over ``@labsim`` (default lab, virtual clock).

Here: ``keithley2400`` (gate: ramp rate, compliance trip mid-pulse), ``kepco_bop`` +
``lakeshore425`` (closed-loop field, ramp rate), ``sr830`` (hall). Every other adapter is
tested against its twin in ``test_instr_twins_all.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from instruments.registry import load_adapter
from instruments.roles import ComplianceTrip, FieldLimits, GateLimits, ReadoutLimits
from labctl.clock import VirtualClock
from sim_backend import faults
from sim_backend.lab import Terminals
from sim_backend.open_labs import get_lab

GATE = "GPIB0::24::INSTR"
BOP = "GPIB0::6::INSTR"
GAUSSMETER = "GPIB0::12::INSTR"
LOCKIN = "GPIB0::8::INSTR"


def slope(points: list[tuple[float, float]]) -> float:
    t, y = np.array(points).T
    return float(np.polyfit(t, y, 1)[0])


def open_gate(clock: VirtualClock, **settings: float):
    cls = load_adapter("keithley2400")
    return cls.open(
        name="gate",
        address=GATE,
        visa_library="@labsim",
        settings=cls.settings_type(**settings),
        limits=GateLimits(),
        timebase=clock,
    )


def test_gate_ramp_rate_measured_on_the_twin_is_within_5_percent(vclock, monkeypatch) -> None:
    gate = open_gate(vclock, ramp_V_per_s=2.0)
    lab = get_lab()
    seen: list[tuple[float, float]] = []
    drive = lab.drive_gate

    def record(name: str, terminal: str, on: bool, voltage_V: float) -> None:
        seen.append((vclock.now(), voltage_V))
        drive(name, terminal, on, voltage_V)

    monkeypatch.setattr(lab, "drive_gate", record)
    gate.ramp_to(1.5)
    ramp = [(t, v) for t, v in seen if v > 0.0]
    assert ramp[-1][1] == pytest.approx(1.5)
    assert slope(ramp) == pytest.approx(2.0, rel=0.05)
    assert gate.voltage_V == pytest.approx(1.5)
    gate.safe_state()
    gate.close()


def test_compliance_trip_mid_pulse_ends_in_the_safe_state(vclock) -> None:
    gate = open_gate(vclock, trip_check_s=0.5)
    # ramp to 1 V: ":SOURCE:VOLTAGE?", "OUTPUT?", "OUTPUT 1", 20 steps, the check at the
    # plateau (24th), then one every 0.5 s: the 27th transaction, the check 1.5 s into the
    # 5 s plateau, finds the dielectric leaking.
    faults.inject(GATE, "compliance", at=27)
    t0 = vclock.now()
    with pytest.raises(ComplianceTrip, match=r"1\.5 s into 5 s: pulse stopped.*output off"):
        gate.pulse(1.0, 5.0)
    assert vclock.now() - t0 < 3.0  # ramp up 0.1 s + 1 s + ramp down: the rest never ran
    smu = get_lab().by_name["gate_smu"].smu
    assert not smu.on
    assert smu.level_V == 0.0
    gate.close()


def test_field_closed_loop_on_the_twin_gaussmeter(vclock, monkeypatch) -> None:
    cls = load_adapter("kepco_bop")
    settings = cls.settings_type(
        coil_T_per_A=0.03,
        remanence_T=0.0,
        ramp_T_per_s=0.05,
        tolerance_T=1e-4,
        gaussmeter={"driver": "lakeshore425", "address": GAUSSMETER},
    )
    seen: list[tuple[float, float]] = []
    drive = Terminals.drive_coil

    def record(wiring: Terminals, current_A: float) -> None:
        seen.append((vclock.now(), current_A))
        drive(wiring, current_A)

    monkeypatch.setattr(Terminals, "drive_coil", record)
    magnet = cls.open(
        name="magnet",
        address=BOP,
        visa_library="@labsim",
        settings=settings,
        limits=FieldLimits(),
        timebase=vclock,
    )
    seen.clear()
    measured_T = magnet.set_field(0.02)
    assert measured_T == pytest.approx(0.02, abs=1e-4)
    target_A = 0.02 / 0.03
    end = next(k for k, (_, i) in enumerate(seen) if i == pytest.approx(target_A))
    first_ramp = [(t, i) for t, i in seen[: end + 1] if i > 0.0]
    assert 0.03 * slope(first_ramp) == pytest.approx(0.05, rel=0.05)
    assert "output off" in magnet.safe_state()
    assert get_lab().magnets["electromagnet"] is not None
    magnet.close()


def test_sr830_reads_the_hall_voltage_of_the_twin(vclock) -> None:
    cls = load_adapter("sr830")
    readout = cls.open(
        name="hall",
        address=LOCKIN,
        visa_library="@labsim",
        settings=cls.settings_type(series_resistance_ohm=1e4, excitation_A=1e-4),
        limits=ReadoutLimits(),
        timebase=vclock,
    )
    t0 = vclock.now()
    voltage_V = readout.read_voltage()
    assert vclock.now() - t0 >= 10 * 0.1  # 24 dB/oct: 10 time constants
    assert np.isfinite(voltage_V) and voltage_V != 0.0
    assert readout.transactions > 0
    readout.close()
