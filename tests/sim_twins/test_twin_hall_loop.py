"""Physics through the instruments: Hall loops with the Kepco BOP, Lake Shore 425 and SR830 twins.

Raw pyvisa on a virtual clock: step the coil current, dwell, read the field (Lake Shore 425) and
the Hall voltage (SR830). The loop must be square, and its coercive fields must match the
chip's own prediction for the fields and dwell actually used. A gate program through the
Keithley 2400 twin between two loops then shifts the coercive field by what the kinetics predict.
"""

from __future__ import annotations

import numpy as np
import pytest

from labctl.clock import VirtualClock, use_clock
from sim_backend.chip.predict import (
    H0_delta_at_x,
    coercive_field_stepwise_T,
    x_after_gate_program,
)
from sim_backend.lab import Lab

DWELL_S = 0.5
SMU = "GPIB0::24::INSTR"


def _sweep(rm, clock: VirtualClock, currents_A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bop = rm.open_resource("GPIB0::6::INSTR", read_termination="\n")
    lockin = rm.open_resource("GPIB0::8::INSTR", read_termination="\n")
    gauss = rm.open_resource("GPIB0::12::INSTR", read_termination="\r\n")
    gauss.write("UNIT 2")
    lockin.write("SLVL 1.0;OFLT 6;OFSL 3")  # 10 ms time constant, 24 dB/oct
    bop.write("FUNC:MODE CURR;VOLT 30;CURR 0;OUTP 1")
    fields, hall = [], []
    for current_A in currents_A:
        bop.write(f"CURR {current_A:.5f}")
        clock.sleep(DWELL_S)
        fields.append(float(gauss.query("RDGFIELD?")))
        hall.append(float(lockin.query("OUTP? 1")))
    return np.array(fields), np.array(hall)


def _loop(rm, clock: VirtualClock, up_A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Saturate down, then sweep up and back down; (fields_T, hall_V) of the whole loop."""
    bop = rm.open_resource("GPIB0::6::INSTR", read_termination="\n")
    bop.write(f"FUNC:MODE CURR;VOLT 30;CURR {up_A[0]:.5f};OUTP 1")
    clock.sleep(3.0)
    return _sweep(rm, clock, np.concatenate([up_A, up_A[::-1]]))


def _switching_fields(fields: np.ndarray, hall: np.ndarray) -> tuple[float, float]:
    mid = (hall.min() + hall.max()) / 2
    n = len(fields) // 2
    up_switch = np.flatnonzero(hall[:n] > mid)[0]
    down_switch = n + np.flatnonzero(hall[n:] < mid)[0]
    return float(fields[up_switch]), float(fields[down_switch])


def _coil_T_per_A(lab: Lab) -> float:
    return float(lab.magnets["electromagnet"].params.k_coil_T_per_A)


def test_hall_loop_is_square_with_the_predicted_coercive_field(lab: Lab, rm) -> None:
    chip = lab.chip
    assert chip.m[0] != 0
    up = np.linspace(-2.0, 2.0, 81)  # ±60 mT in 1.5 mT steps
    with use_clock(VirtualClock()) as clock:
        fields, hall = _loop(rm, clock, up)

    low, high = hall.min(), hall.max()
    span = high - low
    excitation_A = 1.0 / float(lab.spec.instruments["lockin"].settings["series_resistor_ohm"])
    R_AHE = float(chip.spread.R_AHE_ohm[0])
    assert span == pytest.approx(2 * R_AHE * excitation_A, rel=0.05)  # ΔV = 2·R_AHE·I
    levels = (hall - low) / span
    assert np.all((levels < 0.1) | (levels > 0.9)), "a square loop has two levels only"

    hc_up, hc_down = _switching_fields(fields, hall)
    assert hc_up > 0 > hc_down
    n = len(up)
    H0, delta = float(chip.H0_T(0)[0]), float(chip.delta(0)[0])
    predicted_up = coercive_field_stepwise_T(fields[:n], DWELL_S, H0, delta, start_m=-1)
    predicted_down = coercive_field_stepwise_T(fields[n:], DWELL_S, H0, delta, start_m=+1)
    step_T = _coil_T_per_A(lab) * (up[1] - up[0])
    # one device: its switching field scatters around the median by a few field steps
    assert hc_up == pytest.approx(predicted_up, abs=3 * step_T)
    assert hc_down == pytest.approx(predicted_down, abs=3 * step_T)


def test_gate_program_through_the_2400_shifts_hc_as_the_kinetics_predict(lab: Lab, rm) -> None:
    chip, params = lab.chip, lab.chip.params
    up = np.linspace(-2.0, 2.0, 81)
    step_T = _coil_T_per_A(lab) * (up[1] - up[0])
    gate_V, pulse_s, n_pulses = 2.0, 0.1, 12
    x0 = float(chip.x[0])
    x1 = x_after_gate_program(
        params, x0, gate_V, n_pulses * pulse_s, A_scale=float(chip.spread.A_scale[0])
    )
    assert x1 - x0 > 0.03  # oxidising polarity: x rises towards x_opt, PMA strengthens
    with use_clock(VirtualClock()) as clock:
        fields0, hall0 = _loop(rm, clock, up)
        smu = rm.open_resource(SMU, read_termination="\n")
        smu.write(f":SOUR:FUNC VOLT;:SOUR:VOLT {gate_V};:SENS:CURR:PROT 1e-6")
        for _ in range(n_pulses):
            smu.write(":OUTP ON")
            clock.sleep(pulse_s)
            smu.write(":OUTP OFF")
        assert smu.query("SYST:ERR?") == '0,"No error"'
        fields1, hall1 = _loop(rm, clock, up)
    before, after = _switching_fields(fields0, hall0), _switching_fields(fields1, hall1)

    assert float(chip.x[0]) == pytest.approx(x1, abs=0.01)  # what the program did to x
    scales = float(chip.spread.H0_scale[0]), float(chip.spread.delta_scale[0])
    n = len(up)

    def predicted(x: float, fields: np.ndarray) -> tuple[float, float]:
        H0, delta = H0_delta_at_x(params, x, *scales)
        return (
            coercive_field_stepwise_T(fields[:n], DWELL_S, H0, delta, start_m=-1),
            coercive_field_stepwise_T(fields[n:], DWELL_S, H0, delta, start_m=+1),
        )

    (p0_up, p0_down), (p1_up, p1_down) = predicted(x0, fields0), predicted(x1, fields1)
    assert p1_up - p0_up > 3 * step_T  # the kinetics predict a clear rise of Hc
    measured_shift = after[0] - before[0], before[1] - after[1]
    assert all(shift > 0 for shift in measured_shift)  # Hc grew on both branches
    assert measured_shift[0] == pytest.approx(p1_up - p0_up, abs=3 * step_T)
    assert measured_shift[1] == pytest.approx(p0_down - p1_down, abs=3 * step_T)
    assert after[0] == pytest.approx(p1_up, abs=3 * step_T)
    assert after[1] == pytest.approx(p1_down, abs=3 * step_T)
