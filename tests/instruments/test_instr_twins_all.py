"""Every role adapter against its twin over ``@labsim`` (default lab, virtual clock).

The Keithley 2400 gate, Kepco BOP + 425 field and SR830 readout are in ``test_instr_twins.py``;
here: the other gate sources, field sources, readouts, pulse sources, routers and the synapse
array. Each test acts through the role, checks what the twin/chip did, refuses an out-of-limit
request before anything is sent, and ends in the role's safe state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from instruments.registry import load_adapter
from instruments.roles import ComplianceTrip, LimitError, Role, Window
from labctl.clock import VirtualClock
from sim_backend.lab import Lab
from sim_backend.open_labs import get_lab


def open_role(
    key: str,
    address: str,
    clock: VirtualClock,
    limits: dict[str, Any] | None = None,
    library: str = "@labsim",
    **settings: Any,
) -> Role:
    cls = load_adapter(key)
    return cls.open(
        name=key,
        address=address,
        visa_library=library,
        settings=cls.settings_type(**settings),
        limits=cls.limits_type(**(limits or {})),
        timebase=clock,
    )


def slope(points: list[tuple[float, float]]) -> float:
    t, y = np.array(points).T
    return float(np.polyfit(t, y, 1)[0])


# --- gate sources ---------------------------------------------------------------------------
GATES = {
    "keithley2450": ("GPIB0::18::INSTR", {}, {}),
    "keithley2636b": ("GPIB0::26::INSTR", {}, {}),
    "yokogawa_gs200": ("GPIB0::2::INSTR", {"compliance_A": 1e-3}, {"compliance_A": 1e-3}),
}


@pytest.mark.parametrize("key", sorted(GATES))
def test_gate_source_on_its_twin(key: str, vclock: VirtualClock, monkeypatch) -> None:
    address, settings, limits = GATES[key]
    gate = open_role(key, address, vclock, limits, ramp_V_per_s=2.0, **settings)
    lab = get_lab()
    seen: list[tuple[float, float]] = []
    drive = lab.drive_gate

    def record(name: str, terminal: str, on: bool, voltage_V: float) -> None:
        seen.append((vclock.now(), voltage_V if on else 0.0))
        drive(name, terminal, on, voltage_V)

    monkeypatch.setattr(lab, "drive_gate", record)
    gate.ramp_to(1.5)
    ramp = [(t, v) for t, v in seen if v > 0.0]
    assert ramp[-1][1] == pytest.approx(1.5)
    assert slope(ramp) == pytest.approx(2.0, rel=0.05)  # the configured rate, measured
    assert lab.chip.gate_V[0] == pytest.approx(1.5)
    assert abs(gate.leakage_current_A()) < 1e-9  # intact oxide: ~1e11 Ω
    assert not gate.tripped()

    sent = gate.transactions
    with pytest.raises(LimitError, match=rf"{key}: refused gate voltage = 2\.5.*\[-2, 2\] V"):
        gate.ramp_to(2.5)
    assert gate.transactions == sent  # refused before anything was sent
    assert lab.chip.gate_V[0] == pytest.approx(1.5)

    gate.ramp_to(0.0)
    x0 = float(lab.chip.x[0])
    gate.pulse(1.8, 5.0)
    assert float(lab.chip.x[0]) > x0  # oxidising polarity: the hidden state moved
    assert lab.chip.gate_V[0] == 0.0
    assert "off" in gate.safe_state()
    assert not lab._gate_sources["gate"]  # no source left on the gate pin
    gate.close()


# --- field sources --------------------------------------------------------------------------
def test_lakeshore643_with_a_475_closes_the_loop_and_ramps_at_rate(
    vclock: VirtualClock, monkeypatch
) -> None:
    lab = get_lab()
    supply = lab.by_name["magnet_supply"]
    segments: list[list[tuple[float, float]]] = []
    start_ramp = supply.start_ramp

    def record(setpoint_A: float) -> None:
        start_ramp(setpoint_A)
        t0 = supply._t0  # the twin's output trajectory of this ramp segment, sampled
        times = t0 + np.linspace(0.0, 60.0, 6001)
        segments.append([(t, supply.output_A(t)) for t in times])

    monkeypatch.setattr(supply, "start_ramp", record)
    magnet = open_role(
        "lakeshore643",
        "ASRL1::INSTR",
        vclock,
        coil_T_per_A=0.03,
        ramp_T_per_s=0.05,
        tolerance_T=2e-4,
        gaussmeter={"driver": "lakeshore475", "address": "GPIB0::11::INSTR"},
    )
    assert magnet.gaussmeter is not None  # opened with the magnet
    segments.clear()
    measured_T = magnet.set_field(0.03)
    assert measured_T == pytest.approx(0.03, abs=2e-4)
    assert lab.magnets["electromagnet"].field_at(vclock.now()) == pytest.approx(0.03, abs=2e-4)
    first = segments[0]
    target_A = first[-1][1]
    ramp = [(t, i) for t, i in first if 0.05 * target_A < i < 0.95 * target_A]
    assert len(ramp) > 5
    assert 0.03 * slope(ramp) == pytest.approx(0.05, rel=0.05)  # T/s through the coil constant
    sent = magnet.transactions
    with pytest.raises(LimitError, match=r"lakeshore643: refused field = 0\.8.*\[-0\.5, 0\.5\] T"):
        magnet.set_field(0.8)
    assert magnet.transactions == sent
    magnet.safe_state()
    vclock.sleep(5.0)
    assert abs(lab.magnets["electromagnet"].field_at(vclock.now())) < 3e-3  # remanence only
    magnet.close()


def test_ami430_ramps_the_superconducting_magnet_at_rate(vclock: VirtualClock) -> None:
    magnet = open_role("ami430", "TCPIP0::127.0.0.1::7180::SOCKET", vclock, ramp_T_per_s=0.01)
    sc = get_lab().magnets["sc_magnet"]
    t0 = vclock.now()
    measured_T = magnet.set_field(0.1)
    t1 = vclock.now()
    assert measured_T == pytest.approx(0.1, abs=2e-4)
    times = np.linspace(t0, t1, 200)
    fields = np.array([sc.field_at(t) for t in times])
    moving = (fields > 0.01) & (fields < 0.09)
    assert slope(list(zip(times[moving], fields[moving], strict=True))) == pytest.approx(
        0.01, rel=0.05
    )
    sent = magnet.transactions
    with pytest.raises(LimitError, match=r"ami430: refused field = -0\.6.*\[-0\.5, 0\.5\] T"):
        magnet.set_field(-0.6)
    assert magnet.transactions == sent
    assert "ZERO" in magnet.safe_state()  # returns once the magnet is at zero
    assert abs(sc.field_at(vclock.now())) < 1e-4
    magnet.close()


# --- readouts -------------------------------------------------------------------------------
def test_sr860_reads_the_hall_voltage(vclock: VirtualClock) -> None:
    readout = open_role(
        "sr860", "GPIB0::4::INSTR", vclock, series_resistance_ohm=1e4, excitation_A=1e-4
    )
    chip = get_lab().chip
    expected_V = float(chip.hall_resistance_ohm(0)[0]) * 1e-4
    assert readout.read_voltage() == pytest.approx(expected_V, rel=0.02)
    with pytest.raises(LimitError, match=r"refused excitation current = 0\.002"):
        open_role("sr860", "GPIB0::4::INSTR", vclock, excitation_A=2e-3)
    assert readout.safe_state()
    readout.close()


def test_6221_2182a_delta_mode_cancels_the_thermal_emf(vclock: VirtualClock) -> None:
    readout = open_role(
        "keithley6221_2182a",
        "GPIB0::13::INSTR",
        vclock,
        excitation_A=1e-4,
        nanovoltmeter_address="GPIB0::7::INSTR",
        delta_cycles=10,
    )
    chip = get_lab().chip
    expected_V = float(chip.hall_resistance_ohm(0)[0]) * 1e-4
    assert readout.read_voltage() == pytest.approx(expected_V, rel=0.03)
    assert readout.read_resistance() == pytest.approx(expected_V / 1e-4, rel=0.03)
    assert "off" in readout.safe_state()
    assert not get_lab().by_name["current_source"].values["output"]
    readout.close()


MTJ_LAB = """\
name: 4-wire bench
chip: {preset: cofeb_mgo_mtj, n_devices: 2, seed: 2}
instruments:
  meter: {address: 'GPIB0::24::INSTR', model: keithley2400, wiring: {terminal: readout}}
"""


def test_2400_four_wire_reads_the_mtj_resistance(vclock: VirtualClock, tmp_path: Path) -> None:
    lab_file = tmp_path / "mtj.yaml"
    lab_file.write_text(MTJ_LAB)
    lab: Lab = get_lab(lab_file)
    readout = open_role(
        "keithley2400_4wire",
        "GPIB0::24::INSTR",
        vclock,
        library=f"{lab_file}@labsim",
        excitation_A=1e-5,
    )
    assert lab.by_name["meter"].values["four_wire"]
    chip = lab.chip
    expected = float(chip.mtj_resistance_ohm(0, bias_V=1e-5 * chip.mtj_resistance_ohm(0)[0])[0])
    assert readout.read_resistance() == pytest.approx(expected, rel=2e-3)
    assert "off" in readout.safe_state()
    readout.close()


# --- pulse sources --------------------------------------------------------------------------
def test_33500b_bursts_switch_the_routed_device(vclock: VirtualClock) -> None:
    pulse = open_role("keysight33500b", "GPIB0::10::INSTR", vclock)
    lab = get_lab()
    twin = lab.by_name["awg"]
    pulse.pulse(-6.0, 1e-6, count=3)
    assert twin.pulses_fired == 3 and lab.chip.m[0] == -1
    pulse.pulse(6.0, 1e-6)
    assert twin.pulses_fired == 4 and lab.chip.m[0] == 1
    with pytest.raises(LimitError, match=r"keysight33500b: refused pulse amplitude = 12"):
        pulse.pulse(12.0, 1e-6)
    assert twin.pulses_fired == 4
    assert "off" in pulse.safe_state()
    assert not any(c["on"] for c in twin.channels)
    pulse.close()


def test_6221_pulse_mode_switches_device_0(vclock: VirtualClock) -> None:
    pulse = open_role("keithley6221_pulse", "GPIB0::13::INSTR", vclock, load_resistance_ohm=1e3)
    chip = get_lab().chip
    pulse.pulse(-4.0, 1e-4)
    assert chip.m[0] == -1
    pulse.pulse(4.0, 1e-4, count=2)
    assert chip.m[0] == 1
    with pytest.raises(LimitError, match=r"pulse width \(6221 range\) = 1e-06"):
        pulse.pulse(4.0, 1e-6)
    assert "off" in pulse.safe_state()
    pulse.close()


# --- routers and the array --------------------------------------------------------------------
ROUTERS = {
    "keithley707b": ("GPIB0::16::INSTR", {}),
    "keithley3706a": ("GPIB0::17::INSTR", {"terminals": {"gate": "1", "pulse": "2", "hall": "3"}}),
}


@pytest.mark.parametrize("key", sorted(ROUTERS))
def test_router_routes_break_before_make(key: str, vclock: VirtualClock) -> None:
    address, settings = ROUTERS[key]
    router = open_role(key, address, vclock, **settings)
    lab = get_lab()
    router.connect("pulse", 3)
    assert lab.routed("pulse").tolist() == [3]
    router.connect("pulse", 5)  # the old crosspoint opens first
    assert lab.routed("pulse").tolist() == [5]
    router.connect("hall", 2)
    assert router.connections() == {"pulse": 5, "hall": 2}
    router.connect("gate", 5)  # never two terminals on one device pin
    assert lab.routed("pulse").tolist() == [] and lab.routed("gate").tolist() == [5]
    with pytest.raises(ValueError, match=rf"{key}: no device 12"):
        router.connect("gate", 12)
    assert "open" in router.safe_state()
    assert router.connections() == {}
    assert lab.routed("readout").tolist() == [0]  # nothing closed: the single-cross bench
    router.close()


def test_synapse_array_writes_reads_and_consolidates_through_the_twins(
    vclock: VirtualClock,
) -> None:
    roles: dict[str, Role] = {
        "router": open_role("keithley707b", "GPIB0::16::INSTR", vclock),
        "pulse": open_role("keysight33500b", "GPIB0::10::INSTR", vclock),
        "gate": open_role("keithley2400", "GPIB0::24::INSTR", vclock),
        "hall": open_role(
            "sr830", "GPIB0::8::INSTR", vclock, series_resistance_ohm=1e4, excitation_A=1e-4
        ),
    }
    cls = load_adapter("synapse_array")
    array = cls.open(
        name="array",
        address="",
        visa_library="@labsim",
        settings=cls.settings_type(),
        limits=cls.limits_type(),
        timebase=vclock,
        roles=roles,
    )
    chip = get_lab().chip
    pattern = np.where(np.arange(12) % 3 == 0, 1, -1)
    array.write(np.arange(12), pattern, 6.0, 1e-6)
    np.testing.assert_array_equal(chip.m[:12], pattern)
    np.testing.assert_array_equal(array.read(np.arange(12)), pattern)
    x_before = chip.x.copy()
    array.consolidate([4], 1.5, 2.0)
    assert chip.x[4] > x_before[4]
    others = np.arange(chip.n_devices) != 4
    np.testing.assert_array_equal(chip.x[others], x_before[others])
    counts = array.counts.as_dict()
    assert counts["write_pulses"] == 12 and counts["reads"] == 12
    assert counts["consolidation_pulses"] == 1 and array.transactions > 0
    with pytest.raises(LimitError, match="array: refused write amplitude = 12"):
        array.write([0], 1, 12.0, 1e-6)
    assert "all crosspoints open" in array.safe_state()
    for role in roles.values():
        role.close()


SMU_GATES = {
    "keithley2400": ("GPIB0::24::INSTR", "gate_smu"),
    "keithley2450": ("GPIB0::18::INSTR", "gate_smu2450"),
    "keithley2636b": ("GPIB0::26::INSTR", "smu2636b"),
}


@pytest.mark.parametrize("key", sorted(SMU_GATES))
def test_leaking_oxide_trips_compliance_mid_pulse_and_ends_safe(
    key: str, vclock: VirtualClock
) -> None:
    """No fault injection: at 7 V the gate oxide itself tunnels more than 1 µA."""
    address, twin_name = SMU_GATES[key]
    limits = {"voltage_V": Window(-8.0, 8.0, "V")}
    gate = open_role(key, address, vclock, limits)
    lab = get_lab()
    assert float(lab.chip.gate_leakage_at_A([0], 7.0)[0]) > gate.limits.compliance_A
    t0 = vclock.now()
    with pytest.raises(ComplianceTrip, match=rf"{key}.*output off"):
        gate.pulse(7.0, 10.0)
    assert vclock.now() - t0 < 10.0  # stopped before the pulse's end
    assert lab.chip.gate_V[0] == 0.0
    assert not lab._gate_sources["gate"]
    state = lab.by_name[twin_name].journal_state()
    smu = state.get("smua", state)
    assert not smu["output"] and smu["level_V"] == 0.0  # the twin itself: safe state
    assert not lab.chip.broken[0]  # stopped in time: the oxide survived
    gate.close()


def test_every_driver_key_and_gaussmeter_has_a_twin_test() -> None:
    """A new registry key must come with a test against its twin (here or in test_instr_twins)."""
    from instruments.registry import DRIVERS, GAUSSMETERS

    in_test_instr_twins = {"keithley2400", "kepco_bop", "sr830"}
    here = {
        *GATES,
        *ROUTERS,
        "lakeshore643",
        "ami430",
        "sr860",
        "keithley6221_2182a",
        "keithley2400_4wire",
        "keysight33500b",
        "keithley6221_pulse",
        "synapse_array",
    }
    assert in_test_instr_twins | here == set(DRIVERS)
    assert {"lakeshore425", "lakeshore475"} == set(GAUSSMETERS)  # 425: test_instr_twins
