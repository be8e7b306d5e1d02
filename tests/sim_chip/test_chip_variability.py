"""Device-to-device variability statistics, reproducibility, snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from sim_backend.chip import ChipParams, VirtualChip


def test_drawn_spreads_match_the_parameters(hall: ChipParams) -> None:
    n = 100_000
    s = VirtualChip(hall, n_devices=n, seed=11).spread
    v = hall.variability
    tol = 5 / np.sqrt(2 * n)  # relative standard error of a standard deviation, 5σ
    for arr, rel in [
        (s.H0_scale, v.H0_rel),
        (s.delta_scale, v.delta_rel),
        (s.R_AHE_ohm, v.R_AHE_rel),
        (s.Jc0_scale, v.Jc0_rel),
        (s.R_xx_ohm, v.R_rel),
        (s.breakdown_V, v.breakdown_rel),
    ]:
        assert arr.std() / arr.mean() == pytest.approx(rel, rel=tol)
    assert np.log(s.A_scale).std() == pytest.approx(v.A_sigma_ln, rel=tol)
    assert np.median(s.A_scale) == pytest.approx(1.0, abs=0.02)
    assert s.x_init.std() == pytest.approx(v.x_init_sigma, rel=tol)
    u = s.R_offset_ohm / s.R_AHE_ohm  # uniform in ±R_offset_rel
    assert np.abs(u).max() <= hall.readout.R_offset_rel
    assert u.std() == pytest.approx(hall.readout.R_offset_rel / np.sqrt(3), rel=0.02)


def test_chip_H0_carries_the_device_factor(uniform_hall: ChipParams) -> None:
    from labctl.physics import anisotropy as an

    chip = VirtualChip(uniform_hall, n_devices=5, seed=0)
    np.testing.assert_allclose(chip.H0_T(), an.H0_T(uniform_hall, chip.x), rtol=1e-12)


def _session(chip: VirtualChip) -> np.ndarray:
    chip.set_field(-0.02, 0.0)
    chip.advance_to(1.0)
    chip.gate_pulse([0, 3], 2.5, 0.01, 1.5)
    chip.sot_pulse([1, 2, 3], 2.2, 1e-3, 2.0)
    v = chip.hall_voltage_V(0, 1e-4, 10.0, 3.0)
    return np.concatenate([chip.m, chip.x, [v]])


def test_same_seed_same_run_different_seed_different(hall: ChipParams) -> None:
    a = _session(VirtualChip(hall, n_devices=500, seed=3))
    b = _session(VirtualChip(hall, n_devices=500, seed=3))
    c = _session(VirtualChip(hall, n_devices=500, seed=4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_state_dict_round_trip_continues_identically(hall: ChipParams) -> None:
    chip = VirtualChip(hall, n_devices=300, seed=9)
    _session(chip)
    snap = chip.state_dict()
    first = _continue(chip)
    chip.load_state(snap)
    np.testing.assert_array_equal(_continue(chip), first)
    other = VirtualChip(hall, n_devices=300, seed=9)
    other.load_state(snap)
    np.testing.assert_array_equal(_continue(other), first)
    with pytest.raises(ValueError, match="n_devices"):
        VirtualChip(hall, n_devices=3).load_state(snap)


def _continue(chip: VirtualChip) -> np.ndarray:
    t = chip.t_s
    chip.set_field(-0.025, t + 1)
    chip.advance_to(t + 5)
    chip.gate_pulse(None, 1.5, 1.0, t + 6)
    return np.concatenate([chip.m, chip.x, [chip.hall_voltage_V(1, 1e-4, 1.0, t + 8)]])


def test_indices_forms(hall: ChipParams) -> None:
    chip = VirtualChip(hall, n_devices=6, seed=0)
    assert chip.H0_T().shape == (6,)
    assert chip.H0_T(2).shape == (1,)
    np.testing.assert_array_equal(chip.H0_T([1, 4]), chip.H0_T(np.array([1, 4])))
    with pytest.raises(IndexError, match=r"0\.\.5"):
        chip.H0_T(6)
    with pytest.raises(TypeError, match="flatnonzero"):
        chip.H0_T(np.ones(6, dtype=bool))


def test_time_never_runs_backwards(hall: ChipParams) -> None:
    chip = VirtualChip(hall, n_devices=3, seed=0, t0_s=100.0)
    x = chip.x.copy()
    chip.set_gate(None, 3.0, 50.0)  # earlier than t_s: no integration
    assert chip.t_s == 100.0
    np.testing.assert_array_equal(chip.x, x)
