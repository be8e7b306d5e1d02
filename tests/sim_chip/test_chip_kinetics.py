"""Hidden-state kinetics: exact step, stiffness, asymmetry, time scales, retention, noise."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from labctl.physics import kinetics as kn
from sim_backend.chip import ChipParams, VirtualChip
from sim_backend.chip.predict import x_after_gate


def test_tau_at_3V_is_the_reference_and_1V_is_minutes(hall: ChipParams) -> None:
    kp = hall.kinetics
    assert kn.tau_s(kp, kp.V_ref_V, kp.T_ref_K) == pytest.approx(kp.tau_ref_s, rel=1e-12)
    tau_1V = kn.tau_s(kp, 1.0, kp.T_ref_K)
    assert 60.0 < tau_1V < 3 * 3600.0
    ratio = math.sinh(kp.V_ref_V / kp.V0_V) / math.sinh(1.0 / kp.V0_V)
    assert tau_1V / kn.tau_s(kp, 3.0, kp.T_ref_K) == pytest.approx(ratio, rel=1e-12)


def test_reducing_is_slower_by_the_asymmetry(hall: ChipParams) -> None:
    kp = hall.kinetics
    r_ox = kn.rate_per_s(kp, 2.0 * kp.oxidising_polarity, 300.0)
    r_red = kn.rate_per_s(kp, -2.0 * kp.oxidising_polarity, 300.0)
    assert r_ox / r_red == pytest.approx(kp.asymmetry, rel=1e-12)


def test_rate_is_arrhenius_in_temperature(hall: ChipParams) -> None:
    kp = hall.kinetics
    r1, r2 = kn.rate_per_s(kp, 2.0, 300.0), kn.rate_per_s(kp, 2.0, 330.0)
    expected = math.exp(kp.E_a_eV / kn.K_B_EV_PER_K * (1 / 300.0 - 1 / 330.0))
    assert r2 / r1 == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("voltage_V", [2.0, -2.5])
def test_chip_gate_steps_follow_the_analytic_solution(
    uniform_hall: ChipParams, voltage_V: float
) -> None:
    chip = VirtualChip(uniform_hall, n_devices=3, seed=1)
    x0 = chip.x.copy()
    kp = uniform_hall.kinetics
    r = kn.rate_per_s(kp, voltage_V, uniform_hall.temperature_K)
    oxidising = voltage_V * kp.oxidising_polarity > 0
    chip.set_gate(None, voltage_V, 0.0)
    times = np.cumsum(np.full(50, 0.3 / r))
    for t in times:  # many uneven calls must equal one exact step
        chip.advance_to(t)
    np.testing.assert_allclose(chip.x, x_after_gate(x0, r, times[-1], oxidising), rtol=1e-10)


def test_step_is_exact_and_stiff_safe() -> None:
    x = np.array([0.0, 0.3, 1.0])
    a = b = np.full(3, 1e6)  # oxidising at an enormous rate
    np.testing.assert_allclose(kn.step_x(x, a, b, 10.0), 1.0)
    out = kn.step_x(x, np.zeros(3), b, 10.0)  # reducing
    assert np.all(out >= 0) and np.all(out <= 1e-300)
    # tiny steps keep full precision (expm1)
    out = kn.step_x(np.array([0.5]), np.array([1.0]), np.array([1.0]), 1e-12)
    assert out[0] - 0.5 == pytest.approx(0.5e-12, rel=1e-6)


def test_high_voltage_long_step_stays_in_range(uniform_hall: ChipParams) -> None:
    chip = VirtualChip(uniform_hall, n_devices=4, seed=0)
    chip.set_gate(None, 7.0, 0.0)  # r ~ 1e6 /s, one 1 s step
    chip.advance_to(1.0)
    assert np.all(chip.x <= 1.0) and np.all(chip.x >= 1.0 - 1e-12)
    chip.set_gate(None, -7.0, 1.0)
    chip.advance_to(2.0)
    assert np.all(chip.x >= 0.0) and np.all(chip.x < 1e-12)


def test_cycle_to_cycle_noise_has_the_set_spread(hall: ChipParams) -> None:
    p = hall.without_variability()
    p = p.replace(kinetics=dataclasses.replace(p.kinetics, cycle_noise_rel=0.08))
    chip = VirtualChip(p, n_devices=20000, seed=3)
    x0 = chip.x.copy()
    r = kn.rate_per_s(p.kinetics, 2.0, p.temperature_K)
    chip.gate_pulse(None, 2.0, 1e-3 / r, 0.0)  # small step: Δx ∝ rate factor
    dx = chip.x - x0
    assert dx.std() / dx.mean() == pytest.approx(0.08, rel=0.05)


def test_device_prefactor_spread_is_lognormal_in_the_steps(hall: ChipParams) -> None:
    p = hall.without_variability()
    p = p.replace(variability=dataclasses.replace(p.variability, A_sigma_ln=0.4))
    chip = VirtualChip(p, n_devices=20000, seed=4)
    r = kn.rate_per_s(p.kinetics, 2.0, p.temperature_K)
    chip.gate_pulse(None, 2.0, 1e-4 / r, 0.0)
    assert np.log(chip.x - p.x_init).std() == pytest.approx(0.4, rel=0.05)


def test_retention_relaxes_towards_x_eq(uniform_hall: ChipParams) -> None:
    kp = dataclasses.replace(uniform_hall.kinetics, tau_ret_s=1e7, x_eq=0.1)
    chip = VirtualChip(uniform_hall.replace(kinetics=kp), n_devices=2, seed=0)
    x0 = chip.x.copy()
    chip.advance_to(1e7)
    np.testing.assert_allclose(chip.x, 0.1 + (x0 - 0.1) * math.exp(-1.0), rtol=1e-9)


def test_zero_gate_is_non_volatile(uniform_hall: ChipParams) -> None:
    chip = VirtualChip(uniform_hall, n_devices=5, seed=0)
    x0 = chip.x.copy()
    chip.advance_to(1e9)
    np.testing.assert_array_equal(chip.x, x0)
