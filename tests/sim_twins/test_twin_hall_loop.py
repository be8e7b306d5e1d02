"""Physics through the instruments: a Hall loop with the Kepco BOP and SR830 twins.

Raw pyvisa on a virtual clock: step the coil current, dwell, read the field (Lake Shore 425) and
the Hall voltage (SR830). The loop must be square, and its coercive fields must match the
chip's own prediction for the fields and dwell actually used.
"""

from __future__ import annotations

import numpy as np
import pytest

from labctl.clock import VirtualClock, use_clock
from sim_backend.chip.predict import coercive_field_stepwise_T
from sim_backend.lab import Lab

DWELL_S = 0.5
K_COIL_T_PER_A = 0.03


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


def test_hall_loop_is_square_with_the_predicted_coercive_field(lab: Lab, rm) -> None:
    chip = lab.chip
    assert chip.m[0] != 0
    up = np.linspace(-2.0, 2.0, 81)  # ±60 mT in 1.5 mT steps
    currents = np.concatenate([up, up[::-1]])
    with use_clock(VirtualClock()) as clock:
        bop = rm.open_resource("GPIB0::6::INSTR", read_termination="\n")
        bop.write("FUNC:MODE CURR;VOLT 30;CURR -2;OUTP 1")  # saturate down first
        clock.sleep(3.0)
        fields, hall = _sweep(rm, clock, currents)

    low, high = hall.min(), hall.max()
    span = high - low
    excitation_A = 1.0 / (10_000)  # SLVL over the series resistor
    assert span == pytest.approx(2 * 1.0 * excitation_A, rel=0.15)  # ΔV = 2·R_AHE·I, ≈ 1 Ω
    levels = (hall - low) / span
    assert np.all((levels < 0.1) | (levels > 0.9)), "a square loop has two levels only"

    mid = (low + high) / 2
    n = len(up)
    up_switch = np.flatnonzero(hall[:n] > mid)[0]
    down_switch = n + np.flatnonzero(hall[n:] < mid)[0]
    hc_up, hc_down = fields[up_switch], fields[down_switch]
    assert hc_up > 0 > hc_down

    H0, delta = float(chip.H0_T(0)[0]), float(chip.delta(0)[0])
    predicted_up = coercive_field_stepwise_T(fields[:n], DWELL_S, H0, delta, start_m=-1)
    predicted_down = coercive_field_stepwise_T(fields[n:], DWELL_S, H0, delta, start_m=+1)
    step_T = K_COIL_T_PER_A * (up[1] - up[0])
    # one device: its switching field scatters around the median by a few field steps
    assert hc_up == pytest.approx(predicted_up, abs=3 * step_T)
    assert hc_down == pytest.approx(predicted_down, abs=3 * step_T)
