"""Readout: Hall and TMR levels, Johnson / 1/f / thermal-EMF noise, gate leakage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labctl.physics.readout import K_B_J_PER_K, johnson_rms_V
from sim_backend.chip import ChipParams, VirtualChip, load_preset


def test_johnson_constant() -> None:
    # 4.07 nV/√Hz at 1 kΩ, 300 K (docs/physics.md §4)
    assert johnson_rms_V(300.0, 1e3, 1.0) == pytest.approx(4.07e-9, rel=2e-3)


def test_ac_readout_noise_is_johnson_over_the_bandwidth(hall: ChipParams) -> None:
    chip = VirtualChip(hall, n_devices=2, seed=0)
    current_A, bw, n = 1e-4, 78.125, 4000  # ENBW of a 24 dB/oct lock-in at τ = 1 ms: 5/(64τ)
    mean = current_A * chip.hall_resistance_ohm(1)[0]
    v = np.array([chip.hall_voltage_V(1, current_A, bw, 0.0, dc_coupled=False) for _ in range(n)])
    expected = math.sqrt(4 * K_B_J_PER_K * hall.temperature_K * chip.spread.R_xx_ohm[1] * bw)
    assert (v - mean).std() == pytest.approx(expected, rel=5 / math.sqrt(2 * n))
    assert abs((v - mean).mean()) < 5 * expected / math.sqrt(n)
    assert chip.johnson_rms_V(1, bw) == pytest.approx(expected)


def test_dc_readout_adds_thermal_emf_and_flicker(hall: ChipParams) -> None:
    chip = VirtualChip(hall, n_devices=1, seed=0)
    no = hall.noise
    bw, n, R = 0.5, 3000, chip.spread.R_xx_ohm[0]
    # reads 1e4 s apart are uncorrelated: variance = Johnson + 7 flicker decades + EMF drift
    v = np.array([chip.hall_voltage_V(0, 0.0, bw, 1e4 * (k + 1)) for k in range(n)])
    white = 4 * K_B_J_PER_K * hall.temperature_K * R
    var = white * bw + 7 * white * no.flicker_corner_Hz * math.log(10) + no.thermal_emf_rms_V**2
    assert v.mean() == pytest.approx(no.thermal_emf_mean_V, abs=5 * math.sqrt(var / n))
    assert v.std() == pytest.approx(math.sqrt(var), rel=0.1)


def test_dc_drift_is_correlated_in_time(hall: ChipParams) -> None:
    chip = VirtualChip(hall, n_devices=1, seed=0)
    v = np.array([chip.hall_voltage_V(0, 0.0, 1e-3, 1e-3 * k) for k in range(2000)])
    # successive reads 1 ms apart share the slow flicker and EMF states
    assert np.corrcoef(v[:-1], v[1:])[0, 1] > 0.9


def test_hall_levels_scale_with_moment(hall: ChipParams) -> None:
    chip = VirtualChip(hall.replace(m_init="up"), n_devices=3, seed=0)
    s = chip.spread
    np.testing.assert_allclose(chip.hall_resistance_ohm(), s.R_AHE_ohm + s.R_offset_ohm)
    assert np.all(np.abs(s.R_offset_ohm) <= hall.readout.R_offset_rel * s.R_AHE_ohm)
    np.testing.assert_allclose(chip.device_resistance_ohm(), s.R_xx_ohm)


def test_mtj_resistance_levels_and_bias_dependence() -> None:
    p = load_preset("cofeb_mgo_mtj")
    chip = VirtualChip(p.replace(m_init="up"), n_devices=2, seed=0)
    ro = p.readout
    R_P = chip.spread.R_P_ohm
    np.testing.assert_allclose(chip.mtj_resistance_ohm(bias_V=0.0), R_P)
    chip.field_pulse(-0.2, 1.0, 0.0)
    assert np.all(chip.m == -1)
    np.testing.assert_allclose(chip.mtj_resistance_ohm(bias_V=0.0), R_P * (1 + ro.TMR0))
    tmr_h = chip.mtj_resistance_ohm(bias_V=ro.V_h_V) / R_P - 1
    np.testing.assert_allclose(tmr_h, ro.TMR0 / 2)
    np.testing.assert_allclose(chip.device_resistance_ohm(), chip.mtj_resistance_ohm())
    # a current-biased read is self-consistent in its own bias
    current_A = 2e-4
    v = chip.device_voltage_V(0, current_A, 0.0, 2.0, dc_coupled=False)
    assert v == pytest.approx(current_A * chip.mtj_resistance_ohm(0, bias_V=v)[0], rel=1e-6)


def test_gate_leakage_is_ohmic_then_steep_then_broken(hall: ChipParams) -> None:
    chip = VirtualChip(hall, n_devices=2, seed=0)
    g, Vbd = hall.gate, chip.spread.breakdown_V[0]
    low = chip.gate_leakage_at_A(0, 1.0)[0]
    assert low == pytest.approx(1.0 / g.leakage_R_ohm, rel=0.01)
    assert chip.gate_leakage_at_A(0, -1.0)[0] == pytest.approx(-low)
    near = chip.gate_leakage_at_A(0, Vbd - g.breakdown_slope_V)[0]
    assert near > 1e3 * low  # steep approach to breakdown
    chip.set_gate(0, 3.0, 0.0)
    assert chip.gate_leakage_A(0)[0] < 1e-9 and not chip.broken[0]
    chip.set_gate(0, Vbd * 1.01, 1.0)  # breaks for good
    assert chip.broken[0] and not chip.broken[1]
    chip.set_gate(0, 1.0, 2.0)
    assert chip.gate_leakage_A(0)[0] == pytest.approx(1.0 / g.broken_R_ohm)
    x = chip.x[0]
    chip.advance_to(1e4)  # the gate no longer reaches the oxide
    assert chip.x[0] == x


def test_batched_hall_read_matches_levels_and_noise(hall: ChipParams) -> None:
    chip = VirtualChip(hall, n_devices=20000, seed=0)
    current_A, bw = 1e-4, 10.0
    v = chip.hall_voltages_V(None, current_A, bw, 0.0, dc_coupled=False)
    resid = v - current_A * chip.hall_resistance_ohm()
    white = np.sqrt(4 * K_B_J_PER_K * hall.temperature_K * chip.spread.R_xx_ohm * bw)
    assert (resid / white).std() == pytest.approx(1.0, rel=0.03)
    # the sign of the read separates up from down devices at this bias
    assert np.all((v - current_A * chip.spread.R_offset_ohm > 0) == (chip.m > 0))


def test_scalar_gate_leakage_matches_the_array_form() -> None:
    chip = VirtualChip.from_preset("ptco_gdox_hall", n_devices=4, seed=2)
    chip.set_gate([2], 9.0, 0.0)  # beyond breakdown: device 2's oxide breaks
    assert chip.broken[2]
    for device in range(4):
        for voltage_V in (0.0, 1.0, -2.0, 7.0, -7.5, 3e-3):
            expected = float(chip.gate_leakage_at_A([device], voltage_V)[0])
            assert chip.gate_leakage_one_A(device, voltage_V) == pytest.approx(expected, rel=1e-12)
