"""Switching: stepwise loops against predict.py, Sharrock, SOT dependence, polarity."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim_backend.chip import ChipParams, VirtualChip
from sim_backend.chip.predict import coercive_field_stepwise_T, sharrock_hc_T


def _descending_branch(chip: VirtualChip, fields_T: np.ndarray, dwell_s: float) -> np.ndarray:
    """Step the field through ``fields_T``; the field point at which each device went down."""
    switched_at = np.full(chip.n_devices, np.nan)
    t = chip.t_s
    for f in fields_T:
        chip.set_field(f, t)
        t += dwell_s
        chip.advance_to(t)
        newly = (chip.m < 0) & np.isnan(switched_at)
        switched_at[newly] = f
    return switched_at


@pytest.mark.parametrize("with_spread", [False, True])
def test_stepwise_loop_median_matches_prediction(hall: ChipParams, with_spread: bool) -> None:
    p = dataclasses.replace(hall if with_spread else hall.without_variability(), m_init="up")
    chip = VirtualChip(p, n_devices=20000, seed=7)
    H0, delta = chip.H0_T(), chip.delta()
    fields = -np.arange(0.0, 0.06, 0.0002)
    dwell = 0.3
    switched_at = _descending_branch(chip, fields, dwell)
    assert not np.isnan(switched_at).any()
    sw = p.switching
    predicted = coercive_field_stepwise_T(fields, dwell, H0, delta, +1, sw.tau0_s, sw.n_exponent)
    assert np.median(switched_at) == pytest.approx(predicted, rel=0.03)


def test_slower_sweep_gives_lower_coercive_field(uniform_hall: ChipParams) -> None:
    sw, ap = uniform_hall.switching, uniform_hall.anisotropy
    fields = -np.arange(0.0, 0.06, 0.0002)
    hc = {}
    for dwell in (0.003, 3.0):
        chip = VirtualChip(uniform_hall, n_devices=5000, seed=1)
        hc[dwell] = -np.median(_descending_branch(chip, fields, dwell))
        pred = -coercive_field_stepwise_T(fields, dwell, ap.h0_T, ap.delta0, 1, sw.tau0_s)
        assert hc[dwell] == pytest.approx(pred, rel=0.03)
    assert hc[3.0] < hc[0.003] * 0.93
    # Sharrock trend: the dwell ratio of 1000 lowers Hc by about what the formula says
    sharrock_drop = sharrock_hc_T(3.0, ap.h0_T, ap.delta0) / sharrock_hc_T(
        0.003, ap.h0_T, ap.delta0
    )
    assert hc[3.0] / hc[0.003] == pytest.approx(sharrock_drop, abs=0.05)


def test_half_the_devices_switch_at_the_sharrock_field(uniform_hall: ChipParams) -> None:
    ap, sw = uniform_hall.anisotropy, uniform_hall.switching
    t = 0.5
    hc = sharrock_hc_T(t, ap.h0_T, ap.delta0, sw.tau0_s, sw.n_exponent)
    chip = VirtualChip(uniform_hall, n_devices=20000, seed=2)
    assert chip.switching_probability_field(-hc, t)[0] == pytest.approx(0.5, abs=1e-9)
    switched = chip.field_pulse(-hc, t, 0.0)
    assert switched.mean() == pytest.approx(0.5, abs=4 * 0.5 / np.sqrt(20000))
    assert np.all(chip.m[switched] == -1)


def test_field_only_drives_toward_its_own_sign(uniform_hall: ChipParams) -> None:
    chip = VirtualChip(uniform_hall.replace(m_init="down"), n_devices=1000, seed=0)
    assert not chip.field_pulse(-0.08, 1.0, 0.0).any()
    assert chip.field_pulse(+0.08, 1.0, 2.0).all() and np.all(chip.m == 1)


def test_zero_field_retention_follows_the_spread_of_delta(hall: ChipParams) -> None:
    # At zero field both states have the escape rate e^−Δ/τ0: P(flipped) = (1 − e^{−2Λ})/2.
    chip = VirtualChip(hall, n_devices=20000, seed=0)
    m0 = chip.m.copy()
    t = 3600.0
    hazard = t / hall.switching.tau0_s * np.exp(-chip.delta())
    expected = (-np.expm1(-2 * hazard) / 2).sum()
    chip.advance_to(t)
    flipped = np.count_nonzero(chip.m != m0)
    assert 5 < expected < 500  # the spread makes a few weak devices forget within the hour
    assert abs(flipped - expected) < 5 * np.sqrt(expected)
    nominal = VirtualChip(hall.without_variability(), n_devices=20000, seed=0)
    m0 = nominal.m.copy()
    nominal.advance_to(t)  # Δ = 50 everywhere: nothing forgets
    np.testing.assert_array_equal(nominal.m, m0)


def test_superparamagnetic_devices_equilibrate(uniform_hall: ChipParams) -> None:
    # Δ ~ 5: the two-state chain relaxes to 50/50 at zero field in well under a second.
    ap = dataclasses.replace(uniform_hall.anisotropy, delta0=5.0)
    chip = VirtualChip(uniform_hall.replace(anisotropy=ap), n_devices=20000, seed=0)
    chip.advance_to(1.0)
    assert (chip.m > 0).mean() == pytest.approx(0.5, abs=0.02)


def test_sot_probability_rises_with_amplitude_and_falls_with_x(uniform_hall: ChipParams) -> None:
    chip = VirtualChip(uniform_hall, n_devices=2, seed=0)
    amps = np.linspace(1.0, 3.0, 21)
    P = np.array([chip.switching_probability_sot(a, 1e-3, 0)[0] for a in amps])
    assert np.all(np.diff(P) >= 0) and P[0] < 1e-6 and P[-1] > 0.999
    a50 = amps[np.argmin(np.abs(P - 0.5))]
    p_before = chip.switching_probability_sot(a50, 1e-3, 0)[0]
    chip.gate_pulse(0, 3.0, 0.002, 0.0)  # consolidate device 0 only
    assert chip.x[0] > chip.x[1]
    assert chip.switching_probability_sot(a50, 1e-3, 0)[0] < 0.1 * p_before


def test_sot_pulse_samples_the_predicted_probability(uniform_hall: ChipParams) -> None:
    p = uniform_hall.replace(m_init="down")
    chip = VirtualChip(p, n_devices=20000, seed=5)
    J = chip.current_density_A_per_m2(1.0)
    # amplitude for P = 1/2 from the barrier: Δ(1 − J/Jc0) = ln(t_p/(τ0 ln 2))
    sw, ap = p.switching, p.anisotropy
    width = 1e-3
    j_half = sw.Jc0_A_per_m2 * (1 - np.log(width / (sw.tau0_s * np.log(2))) / ap.delta0)
    amp = j_half / J
    assert chip.switching_probability_sot(amp, width)[0] == pytest.approx(0.5, rel=1e-6)
    switched = chip.sot_pulse(None, amp, width, 0.0)  # H_x = 0: default bias sign (+)
    assert switched.mean() == pytest.approx(0.5, abs=0.02)
    assert np.all(chip.m[switched] == +1) and chip.t_s == pytest.approx(width)


def test_sot_polarity_is_sign_of_J_times_Hx(uniform_hall: ChipParams) -> None:
    chip = VirtualChip(uniform_hall.replace(m_init="up"), n_devices=100, seed=0)
    chip.set_inplane_field(0.02, 0.0)
    assert not chip.sot_pulse(None, 4.0, 1e-3, 0.0).any()  # +J·+Hx: already up
    assert chip.sot_pulse(None, -4.0, 1e-3, 0.01).all() and np.all(chip.m == -1)
    chip.set_inplane_field(-0.02, 0.02)
    assert chip.sot_pulse(None, -4.0, 1e-3, 0.02).all() and np.all(chip.m == 1)
    assert chip.sot_pulse([3, 4], 4.0, 1e-3, 0.03, polarity=-1).all()
    assert chip.m[3] == chip.m[4] == -1 and chip.m[5] == 1


def test_sot_pulse_selects_devices_and_returns_aligned_mask(uniform_hall: ChipParams) -> None:
    chip = VirtualChip(uniform_hall.replace(m_init="down"), n_devices=10, seed=0)
    amps = np.array([4.0, 0.5, 4.0])
    switched = chip.sot_pulse([7, 2, 5], amps, 1e-3, 0.0)
    assert switched.tolist() == [True, False, True]
    assert np.flatnonzero(chip.m > 0).tolist() == [5, 7]
